/**
 * Agent resolution: how an agent record is tied to a connected identity. Pure (no I/O, the clock is a
 * parameter), so it runs on every runtime and is checked against a model by a property test.
 *
 * Methods, best first: CONNECTED (the agent's own OAuth grant is good, priority 3) > INFERRED (no grant of
 * its own, but a team it belongs to, or a team above it, has a CONNECTED member, 2) > UNMATCHED (1). Every
 * transition is allowed, upgrades and downgrades alike; a manual override (during a team restructure) wins
 * over the computed method until it is cleared, and every change is returned as an audit record.
 */

export const METHODS = ["CONNECTED", "INFERRED", "UNMATCHED"] as const;
export type ResolutionMethod = (typeof METHODS)[number];

export const PRIORITY: Record<ResolutionMethod, number> = { CONNECTED: 3, INFERRED: 2, UNMATCHED: 1 };

export const isMethod = (v: unknown): v is ResolutionMethod =>
  typeof v === "string" && (METHODS as readonly string[]).includes(v);

/** The better of two methods by priority. */
export const better = (a: ResolutionMethod, b: ResolutionMethod): ResolutionMethod =>
  PRIORITY[a] >= PRIORITY[b] ? a : b;

export type AgentFacts = {
  id: string;
  teamId: string | null;
  /** The agent's own grant is known and good (its ZUID has a live, unrefused auth record). */
  connected: boolean;
  override: ResolutionMethod | null;
};

export type TeamFacts = { id: string; parentId: string | null };

export type Transition = {
  agentId: string;
  from: ResolutionMethod | null;
  to: ResolutionMethod;
  reason: "connected" | "inferred" | "unmatched" | "override";
  direction: "upgrade" | "downgrade" | "new" | "same";
};

/** Every transition is allowed; this says which way it goes (for the audit trail and metrics). */
export function transition(
  agentId: string,
  from: ResolutionMethod | null,
  to: ResolutionMethod,
  reason: Transition["reason"],
): Transition {
  const direction =
    from === null
      ? "new"
      : PRIORITY[to] > PRIORITY[from]
        ? "upgrade"
        : PRIORITY[to] < PRIORITY[from]
          ? "downgrade"
          : "same";
  return { agentId, from, to, reason, direction };
}

/** Team id → the team and every team above it (cycles in bad data end the walk, never loop). */
export function teamAncestry(teams: Iterable<TeamFacts>): Map<string, string[]> {
  const parent = new Map<string, string | null>();
  for (const t of teams) parent.set(t.id, t.parentId);
  const out = new Map<string, string[]>();
  for (const id of parent.keys()) {
    const chain: string[] = [];
    const seen = new Set<string>();
    let at: string | null | undefined = id;
    while (at && !seen.has(at)) {
      seen.add(at);
      chain.push(at);
      at = parent.get(at);
    }
    out.set(id, chain);
  }
  return out;
}

/**
 * Resolves every agent at once: CONNECTED agents first, then the teams (and the teams above them) that hold
 * one, then each agent from its own grant, its teams, or nothing; an override replaces the result.
 */
export function resolveAll(
  agents: AgentFacts[],
  ancestry: Map<string, string[]>,
): Map<string, { method: ResolutionMethod; computed: ResolutionMethod; reason: Transition["reason"] }> {
  const connectedTeams = new Set<string>();
  for (const a of agents) {
    if (!a.connected || !a.teamId) continue;
    for (const t of ancestry.get(a.teamId) ?? [a.teamId]) connectedTeams.add(t);
  }
  const out = new Map<
    string,
    { method: ResolutionMethod; computed: ResolutionMethod; reason: Transition["reason"] }
  >();
  for (const a of agents) {
    const inferred =
      a.teamId !== null && (ancestry.get(a.teamId) ?? [a.teamId]).some((t) => connectedTeams.has(t));
    const computed: ResolutionMethod = a.connected ? "CONNECTED" : inferred ? "INFERRED" : "UNMATCHED";
    const method = a.override ?? computed;
    const reason: Transition["reason"] = a.override
      ? "override"
      : computed === "CONNECTED"
        ? "connected"
        : computed === "INFERRED"
          ? "inferred"
          : "unmatched";
    out.set(a.id, { method, computed, reason });
  }
  return out;
}

/** The changes against what was stored: one transition per agent whose method moved (or is new). */
export function changes(
  previous: Map<string, ResolutionMethod>,
  next: Map<string, { method: ResolutionMethod; reason: Transition["reason"] }>,
): Transition[] {
  const out: Transition[] = [];
  for (const [id, r] of next) {
    const from = previous.get(id) ?? null;
    if (from !== r.method) out.push(transition(id, from, r.method, r.reason));
  }
  return out;
}

/** A cache with a time to live per entry; the clock is a parameter (`now`, epoch ms). */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  constructor(readonly ttlMs: number) {}
  get(key: K, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: K, value: V, now: number): void {
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
  }
  delete(key: K): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
  get size(): number {
    return this.entries.size;
  }
}

/** The seeds' lifetimes: resolution method 5 min (active agents), token validation 30 s, team hierarchy 15 min. */
export const CACHE_TTL_MS = {
  method: 5 * 60_000,
  tokenValidation: 30_000,
  teamHierarchy: 15 * 60_000,
} as const;

/**
 * The three caches of resolution, one set per connection. A team change invalidates the hierarchy and every
 * cached method (an INFERRED method rests on the hierarchy); a grant's change invalidates its validation and
 * the methods. Changes made elsewhere are seen through `observe`: the caller reads a version of the teams and
 * of the grants with the data it needs anyway, and a version that moved is a change, so a cache is never
 * trusted past a change it could see; the TTLs bound what no version reveals.
 */
export class ResolutionCaches {
  readonly method = new TtlCache<string, ResolutionMethod>(CACHE_TTL_MS.method);
  readonly tokenValidation = new TtlCache<string, boolean>(CACHE_TTL_MS.tokenValidation);
  readonly teamHierarchy = new TtlCache<string, Map<string, string[]>>(CACHE_TTL_MS.teamHierarchy);
  private versions: { teams: string | null; grants: string | null } = { teams: null, grants: null };

  onTeamChange(scope: string): void {
    this.teamHierarchy.delete(scope);
    this.method.clear();
  }

  onGrantChange(zuid: string): void {
    this.tokenValidation.delete(zuid);
    this.method.clear();
  }

  /** Every grant at once (the set of grants moved, not one known ZUID). */
  onGrantsChange(): void {
    this.tokenValidation.clear();
    this.method.clear();
  }

  /** Versions read now; a moved one invalidates what rests on it. Answers what changed. */
  observe(scope: string, now: { teams: string; grants: string }): { teams: boolean; grants: boolean } {
    const teams = this.versions.teams !== null && this.versions.teams !== now.teams;
    const grants = this.versions.grants !== null && this.versions.grants !== now.grants;
    if (teams) this.onTeamChange(scope);
    if (grants) this.onGrantsChange();
    this.versions = { teams: now.teams, grants: now.grants };
    return { teams, grants };
  }
}

/** Per-connection caches, at most `max` connections (the least recently used go first). */
export class ScopedCaches {
  private readonly scopes = new Map<string, ResolutionCaches>();
  constructor(readonly max = 1_000) {}
  for(scope: string): ResolutionCaches {
    let c = this.scopes.get(scope);
    if (c) this.scopes.delete(scope);
    else c = new ResolutionCaches();
    this.scopes.set(scope, c);
    while (this.scopes.size > this.max) {
      const oldest = this.scopes.keys().next().value;
      if (oldest === undefined) break;
      this.scopes.delete(oldest);
    }
    return c;
  }
  get size(): number {
    return this.scopes.size;
  }
}

/**
 * Rows per eligibility batch by account size: one set-based query per batch, smaller batches (and so more,
 * shorter statements the queue can throttle between) for the largest accounts.
 */
export function eligibilityBatchSize(agentCount: number): number {
  if (agentCount >= 10_000) return 1_000;
  if (agentCount >= 1_000) return 2_500;
  return Math.max(1, agentCount);
}

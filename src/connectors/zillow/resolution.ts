import { sql } from "drizzle-orm";
import {
  type AgentFacts,
  changes,
  isMethod,
  PRIORITY,
  type ResolutionCaches,
  type ResolutionMethod,
  resolveAll,
  type Transition,
  teamAncestry,
} from "../../core/agent-resolution";
import type { SourceContext, TenantQuery } from "../types";

/** What resolution may remember between passes in this isolate, and the clock it reads (epoch ms). */
export type ResolutionCache = { caches: ResolutionCaches; now: number };

const scopeKey = (scope: SourceContext) => `${scope.accountId}/${scope.connectionId}`;

/**
 * Agent resolution against the connection's rows: reads agents, teams, the account's good grants and the
 * stored resolutions (with overrides), resolves them all (src/core/agent-resolution.ts), and writes the
 * changed resolutions and one `zillow_connection_logs` row per transition, each a single statement.
 *
 * With a cache, the agents' statement also reads a version of the teams and of the grants: while neither
 * moved, the hierarchy (15 min) and the grants' validity (30 s) are taken from the cache instead of read
 * again, which is what a run of overrides during a team restructure repeats. Every method resolved is
 * remembered (5 min) for `agentMethods`.
 */
export async function resolveAgents(
  query: TenantQuery,
  scope: SourceContext,
  actor: string,
  cache?: ResolutionCache,
): Promise<{ agents: number; byMethod: Record<ResolutionMethod, number>; transitions: Transition[] }> {
  const { accountId, connectionId } = scope;
  const key = scopeKey(scope);
  // The versions only matter to a cache: without one, the aggregates would be read for nothing.
  const versions = cache
    ? sql`,
      (select count(*) filter (where deleted_at is null) || ':' || coalesce(max(fetch_seq), 0) || ':'
              || coalesce(max(deleted_seq), 0)
       from zillow_teams where account_id = ${accountId} and connection_id = ${connectionId}) as teams_version,
      (select count(*) || ':' || coalesce(max(fetch_seq), 0) || ':'
              || coalesce(sum(hashtext(zuid)) filter (where auth_state is null), 0)
       from zillow_auth where account_id = ${accountId} and deleted_at is null) as grants_version`
    : sql``;
  const agents = await query(sql`
    select a.source_id as id, a.team_id, a.zuid, r.method, r.override_method ${versions}
    from zillow_agents a
    left join zillow_agent_resolutions r
      on r.account_id = a.account_id and r.connection_id = a.connection_id and r.agent_id = a.source_id
    where a.account_id = ${accountId} and a.connection_id = ${connectionId} and a.deleted_at is null`);
  const caches = cache?.caches;
  const now = cache?.now ?? 0;
  const first = agents[0];
  if (caches && first)
    caches.observe(key, { teams: String(first.teams_version), grants: String(first.grants_version) });

  let ancestry = caches?.teamHierarchy.get(key, now);
  if (!ancestry) {
    const teams = await query(sql`
      select source_id as id, parent_team_id from zillow_teams
      where account_id = ${accountId} and connection_id = ${connectionId} and deleted_at is null`);
    ancestry = teamAncestry(
      teams.map((t) => ({
        id: String(t.id),
        parentId: t.parent_team_id == null ? null : String(t.parent_team_id),
      })),
    );
    caches?.teamHierarchy.set(key, ancestry, now);
  }

  const zuids = [...new Set(agents.map((a) => (a.zuid == null ? null : String(a.zuid))))].filter(
    (z): z is string => z !== null,
  );
  const good = new Map<string, boolean>();
  for (const z of zuids) {
    const v = caches?.tokenValidation.get(z, now);
    if (v !== undefined) good.set(z, v);
  }
  if (good.size < zuids.length) {
    const grants = await query(sql`
      select distinct zuid from zillow_auth
      where account_id = ${accountId} and deleted_at is null and auth_state is null and zuid is not null`);
    const live = new Set(grants.map((g) => String(g.zuid)));
    for (const z of zuids) {
      good.set(z, live.has(z));
      caches?.tokenValidation.set(z, live.has(z), now);
    }
  }

  const facts: AgentFacts[] = agents.map((a) => ({
    id: String(a.id),
    teamId: a.team_id == null ? null : String(a.team_id),
    connected: a.zuid != null && good.get(String(a.zuid)) === true,
    override: isMethod(a.override_method) ? a.override_method : null,
  }));
  const previous = new Map<string, ResolutionMethod>();
  for (const a of agents) if (isMethod(a.method)) previous.set(String(a.id), a.method);
  const resolved = resolveAll(facts, ancestry);
  if (caches) for (const [id, r] of resolved) caches.method.set(id, r.method, now);
  const transitions = changes(previous, resolved);
  if (transitions.length > 0) {
    const rows = JSON.stringify(
      transitions.map((t) => ({
        agent_id: t.agentId,
        method: t.to,
        priority: PRIORITY[t.to],
        from: t.from,
        reason: t.reason,
      })),
    );
    await query(sql`
      with incoming as (
        select * from jsonb_to_recordset(${rows}::jsonb)
          as r(agent_id text, method text, priority int, "from" text, reason text)
      ), saved as (
        insert into zillow_agent_resolutions (account_id, connection_id, agent_id, method, priority)
        select ${accountId}, ${connectionId}, agent_id, method, priority from incoming
        on conflict (account_id, connection_id, agent_id)
        do update set method = excluded.method, priority = excluded.priority, resolved_at = now()
        returning 1
      )
      insert into zillow_connection_logs (account_id, connection_id, agent_id, from_method, to_method, reason, actor)
      select ${accountId}, ${connectionId}, agent_id, "from", method, reason, ${actor} from incoming`);
  }
  const byMethod: Record<ResolutionMethod, number> = { CONNECTED: 0, INFERRED: 0, UNMATCHED: 0 };
  for (const r of resolved.values()) byMethod[r.method]++;
  return { agents: facts.length, byMethod, transitions };
}

/**
 * A manual override (a team restructure): pins an agent's method, or clears the pin (`method: null`), with
 * an audit row naming who did it. Resolution then applies it on its next pass (run right after).
 */
export async function overrideAgent(
  query: TenantQuery,
  scope: SourceContext,
  input: { agentId: string; method: ResolutionMethod | null; actor: string },
  cache?: ResolutionCache,
): Promise<{ found: boolean }> {
  cache?.caches.method.delete(input.agentId);
  const { accountId, connectionId } = scope;
  const found = await query(sql`
    select 1 from zillow_agents where account_id = ${accountId} and connection_id = ${connectionId}
      and source_id = ${input.agentId} and deleted_at is null`);
  if (found.length === 0) return { found: false };
  await query(sql`
    with current as (
      select method from zillow_agent_resolutions
      where account_id = ${accountId} and connection_id = ${connectionId} and agent_id = ${input.agentId}
    ), saved as (
      insert into zillow_agent_resolutions (account_id, connection_id, agent_id, method, priority, override_method, override_by)
      values (${accountId}, ${connectionId}, ${input.agentId}, ${input.method ?? "UNMATCHED"},
              ${PRIORITY[input.method ?? "UNMATCHED"]}, ${input.method}, ${input.method ? input.actor : null})
      on conflict (account_id, connection_id, agent_id) do update
        set override_method = excluded.override_method, override_by = excluded.override_by,
            method = coalesce(excluded.override_method, zillow_agent_resolutions.method),
            priority = case when excluded.override_method is null then zillow_agent_resolutions.priority
                            else excluded.priority end,
            resolved_at = now()
      returning 1
    )
    insert into zillow_connection_logs (account_id, connection_id, agent_id, from_method, to_method, reason, actor)
    select ${accountId}, ${connectionId}, ${input.agentId}, (select method from current),
           coalesce(${input.method}, (select method from current), 'UNMATCHED'),
           ${input.method ? "override" : "override_cleared"}, ${input.actor}`);
  return { found: true };
}

/**
 * The resolution method of each agent asked for: from the cache while it holds (5 min for agents asked about
 * recently), else from the stored resolutions in one statement. `null` for an agent never resolved.
 */
export async function agentMethods(
  query: TenantQuery,
  scope: SourceContext,
  agentIds: string[],
  cache?: ResolutionCache,
): Promise<{ methods: Map<string, ResolutionMethod | null>; cached: number }> {
  const methods = new Map<string, ResolutionMethod | null>();
  const missing: string[] = [];
  for (const id of new Set(agentIds)) {
    const m = cache?.caches.method.get(id, cache.now);
    if (m) methods.set(id, m);
    else missing.push(id);
  }
  const cached = methods.size;
  if (missing.length > 0) {
    const rows = await query(sql`
      select agent_id, method from zillow_agent_resolutions
      where account_id = ${scope.accountId} and connection_id = ${scope.connectionId}
        and agent_id in (select jsonb_array_elements_text(${JSON.stringify(missing)}::jsonb))`);
    const found = new Map(rows.map((r) => [String(r.agent_id), r.method]));
    for (const id of missing) {
      const m = found.get(id);
      const method = isMethod(m) ? m : null;
      methods.set(id, method);
      if (method && cache) cache.caches.method.set(id, method, cache.now);
    }
  }
  return { methods, cached };
}

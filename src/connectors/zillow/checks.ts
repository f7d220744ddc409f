import { sql } from "drizzle-orm";
import { z } from "zod";
import { METHODS, ScopedCaches } from "../../core/agent-resolution";
import type { ConnectorAction, ConnectorJob, ConsistencyCheck } from "../types";
import { eligibility } from "./eligibility";
import { agentMethods, overrideAgent, type ResolutionCache, resolveAgents } from "./resolution";

const SAMPLE = 50;

/**
 * This isolate's resolution caches, one set per connection. Isolates do not share them: what another isolate
 * changes is seen through the versions `resolveAgents` reads, or when a TTL ends (`agentMethods`).
 */
const caches = new ScopedCaches();
const cacheOf = (scope: { accountId: string; connectionId: string }, now = Date.now()): ResolutionCache => ({
  caches: caches.for(`${scope.accountId}/${scope.connectionId}`),
  now,
});

/**
 * ZUID alignment between grants and agents: agents whose `auth_zuid` names no ZillowAuth of the account, and
 * ZillowAuth records whose ZUID no agent of the account carries. (The seeds encrypt ZUIDs at rest; here they
 * are compared as synced.)
 */
export const zuidAlignment: ConsistencyCheck = {
  description: "agents whose auth ZUID names no grant of the account, and grants whose ZUID no agent carries",
  async run(query, scope) {
    const orphans = await query(sql`
      select a.source_id as agent_id, a.zuid, a.auth_zuid from zillow_agents a
      where a.account_id = ${scope.accountId} and a.connection_id = ${scope.connectionId}
        and a.deleted_at is null and a.auth_zuid is not null
        and not exists (select 1 from zillow_auth z where z.account_id = a.account_id
                        and z.zuid = a.auth_zuid and z.deleted_at is null)
      order by a.source_id`);
    const unclaimed = await query(sql`
      select z.source_id as auth_id, z.zuid from zillow_auth z
      where z.account_id = ${scope.accountId} and z.connection_id = ${scope.connectionId} and z.deleted_at is null
        and not exists (select 1 from zillow_agents a where a.account_id = z.account_id
                        and a.zuid = z.zuid and a.deleted_at is null)`);
    return {
      ok: orphans.length === 0 && unclaimed.length === 0,
      agentsWithoutGrant: { count: orphans.length, sample: orphans.slice(0, SAMPLE) },
      grantsWithoutAgent: { count: unclaimed.length, sample: unclaimed.slice(0, SAMPLE) },
    };
  },
};

/** Team drift: an agent's team against its legacy sync user's team. */
export const teamDrift: ConsistencyCheck = {
  description: "agents whose team differs from their legacy sync user's team",
  async run(query, scope) {
    const drift = await query(sql`
      select a.source_id as agent_id, a.zuid, a.team_id, s.source_id as sync_user_id, s.sync_team_id
      from zillow_agents a
      join zillow_sync_users s on s.account_id = a.account_id and s.connection_id = a.connection_id
        and s.agent_zuid = a.zuid and s.deleted_at is null
      where a.account_id = ${scope.accountId} and a.connection_id = ${scope.connectionId}
        and a.deleted_at is null and a.team_id is distinct from s.sync_team_id
      order by a.source_id`);
    return { ok: drift.length === 0, drifted: { count: drift.length, sample: drift.slice(0, SAMPLE) } };
  },
};

export const resolveAction: ConnectorAction = {
  description:
    "resolve every agent of the connection (CONNECTED > INFERRED > UNMATCHED), logging each change",
  input: z.object({}).strict(),
  async run(query, scope, _input, actor) {
    const r = await resolveAgents(query, scope, actor, cacheOf(scope));
    return { agents: r.agents, byMethod: r.byMethod, transitions: r.transitions.length };
  },
};

const overrideInput = z
  .object({ agentId: z.string().min(1).max(64), method: z.enum(METHODS).nullable() })
  .strict();

export const overrideAction: ConnectorAction = {
  description:
    "pin an agent's resolution method (or clear the pin with null), audited in zillow_connection_logs",
  input: overrideInput,
  async run(query, scope, input, actor) {
    const { agentId, method } = overrideInput.parse(input);
    const cache = cacheOf(scope);
    const { found } = await overrideAgent(query, scope, { agentId, method, actor }, cache);
    if (!found) return { found: false };
    const r = await resolveAgents(query, scope, actor, cache);
    return { found: true, byMethod: r.byMethod };
  },
};

const methodsInput = z.object({ agentIds: z.array(z.string().min(1).max(64)).min(1).max(1_000) }).strict();

export const methodsAction: ConnectorAction = {
  description:
    "the stored resolution method of each agent asked for (null when never resolved), cached 5 minutes per agent; read only",
  input: methodsInput,
  async run(query, scope, input) {
    const { agentIds } = methodsInput.parse(input);
    const { methods, cached } = await agentMethods(query, scope, agentIds, cacheOf(scope));
    return { methods: Object.fromEntries(methods), cached };
  },
};

const eligibilityInput = z.object({ zuids: z.array(z.string().min(1).max(64)).min(1).max(100_000) }).strict();

/** How many agents' results an answer lists in full; the counts cover them all. */
const ELIGIBILITY_LISTED = 1_000;

export const eligibilityAction: ConnectorAction = {
  description:
    "transaction eligibility of the given ZUIDs by the four verification paths, one query per batch sized by the account's agents",
  input: eligibilityInput,
  async run(query, scope, input) {
    const { zuids } = eligibilityInput.parse(input);
    const [count] = await query(sql`
      select count(*)::int as n from zillow_agents where account_id = ${scope.accountId} and deleted_at is null`);
    const { results, batches } = await eligibility(query, scope.accountId, zuids, {
      agentCount: Number(count?.n ?? 0),
    });
    const byPath = { legacyProfile: 0, oauth: 0, modernAgent: 0, legacySync: 0 };
    for (const r of results)
      for (const path of Object.keys(byPath) as (keyof typeof byPath)[]) if (r[path]) byPath[path]++;
    return {
      checked: results.length,
      eligible: results.filter((r) => r.eligible).length,
      byPath,
      batches,
      results: results.slice(0, ELIGIBILITY_LISTED),
    };
  },
};

/**
 * The hourly agent-profile pass: resolves every agent of the connection again, so grants, teams and overrides
 * that changed since are reflected (and logged) without an operator asking. It calls no provider.
 */
export const agentProfilesJob: ConnectorJob = {
  intervalMinutes: 60,
  async run(ctx) {
    const r = await ctx.tenant((db) =>
      resolveAgents(
        async (q) => (await db.execute(q)).rows as Record<string, unknown>[],
        { accountId: ctx.accountId, connectionId: ctx.connectionId },
        "schedule",
        cacheOf(ctx, ctx.now()),
      ),
    );
    return { items: r.agents, itemErrors: 0 };
  },
};

import { sql } from "drizzle-orm";
import {
  type AgentFacts,
  changes,
  isMethod,
  PRIORITY,
  type ResolutionMethod,
  resolveAll,
  type Transition,
  teamAncestry,
} from "../../core/agent-resolution";
import type { SourceContext, TenantQuery } from "../types";

/**
 * Agent resolution against the connection's rows: reads agents, teams, the account's good grants and the
 * stored resolutions (with overrides), resolves them all (src/core/agent-resolution.ts), and writes the
 * changed resolutions and one `zillow_connection_logs` row per transition, each a single statement.
 */
export async function resolveAgents(
  query: TenantQuery,
  scope: SourceContext,
  actor: string,
): Promise<{ agents: number; byMethod: Record<ResolutionMethod, number>; transitions: Transition[] }> {
  const { accountId, connectionId } = scope;
  const agents = await query(sql`
    select a.source_id as id, a.team_id, r.method, r.override_method,
           exists (select 1 from zillow_auth z where z.account_id = a.account_id and z.zuid = a.zuid
                   and z.deleted_at is null and z.auth_state is null) as connected
    from zillow_agents a
    left join zillow_agent_resolutions r
      on r.account_id = a.account_id and r.connection_id = a.connection_id and r.agent_id = a.source_id
    where a.account_id = ${accountId} and a.connection_id = ${connectionId} and a.deleted_at is null`);
  const teams = await query(sql`
    select source_id as id, parent_team_id from zillow_teams
    where account_id = ${accountId} and connection_id = ${connectionId} and deleted_at is null`);
  const facts: AgentFacts[] = agents.map((a) => ({
    id: String(a.id),
    teamId: a.team_id == null ? null : String(a.team_id),
    connected: a.connected === true,
    override: isMethod(a.override_method) ? a.override_method : null,
  }));
  const previous = new Map<string, ResolutionMethod>();
  for (const a of agents) if (isMethod(a.method)) previous.set(String(a.id), a.method);
  const resolved = resolveAll(
    facts,
    teamAncestry(
      teams.map((t) => ({
        id: String(t.id),
        parentId: t.parent_team_id == null ? null : String(t.parent_team_id),
      })),
    ),
  );
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
): Promise<{ found: boolean }> {
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

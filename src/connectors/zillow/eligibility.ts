import { sql } from "drizzle-orm";
import { eligibilityBatchSize } from "../../core/agent-resolution";
import type { TenantQuery } from "../types";

export type Eligibility = {
  zuid: string;
  legacyProfile: boolean;
  oauth: boolean;
  modernAgent: boolean;
  legacySync: boolean;
  eligible: boolean;
};

/**
 * Transaction eligibility of agents by the seeds' four verification paths, one set-based query per batch:
 * (1) a legacy `zillow_profile_id` on a live agent record, (2) a good OAuth record (ZillowAuth) for the ZUID,
 * (3) a modern agent record that is unmarked and resolved CONNECTED or INFERRED, (4) an active legacy sync user
 * unmarked by the token cascade. Account-wide: any connection's records count.
 */
export async function eligibilityBatch(
  query: TenantQuery,
  accountId: string,
  zuids: string[],
): Promise<Eligibility[]> {
  if (zuids.length === 0) return [];
  const rows = await query(sql`
    with input as (select distinct jsonb_array_elements_text(${JSON.stringify(zuids)}::jsonb) as zuid)
    select i.zuid,
      exists (select 1 from zillow_agents a
              where a.account_id = ${accountId} and a.zuid = i.zuid and a.deleted_at is null
                and a.legacy_profile_id is not null) as legacy_profile,
      exists (select 1 from zillow_auth z
              where z.account_id = ${accountId} and z.zuid = i.zuid and z.deleted_at is null
                and z.auth_state is null) as oauth,
      exists (select 1 from zillow_agents a
              join zillow_agent_resolutions r on r.account_id = a.account_id
                and r.connection_id = a.connection_id and r.agent_id = a.source_id
              where a.account_id = ${accountId} and a.zuid = i.zuid and a.deleted_at is null
                and a.auth_state is null and r.method in ('CONNECTED', 'INFERRED')) as modern_agent,
      exists (select 1 from zillow_sync_users s
              where s.account_id = ${accountId} and s.agent_zuid = i.zuid and s.deleted_at is null
                and s.auth_state is null and s.status = 'active') as legacy_sync
    from input i order by i.zuid`);
  return rows.map((r) => {
    const e = {
      zuid: String(r.zuid),
      legacyProfile: r.legacy_profile === true,
      oauth: r.oauth === true,
      modernAgent: r.modern_agent === true,
      legacySync: r.legacy_sync === true,
    };
    return { ...e, eligible: e.legacyProfile || e.oauth || e.modernAgent || e.legacySync };
  });
}

/**
 * Eligibility of many agents: batches sized by the account's agent count (eligibilityBatchSize), each one
 * query, with `pause` awaited between batches (the caller's throttle: a queue yield, a timer).
 */
export async function eligibility(
  query: TenantQuery,
  accountId: string,
  zuids: string[],
  opts: { agentCount: number; pause?: () => Promise<void> },
): Promise<{ results: Eligibility[]; batches: number }> {
  const size = eligibilityBatchSize(opts.agentCount);
  const results: Eligibility[] = [];
  let batches = 0;
  for (let i = 0; i < zuids.length; i += size) {
    if (batches > 0) await opts.pause?.();
    results.push(...(await eligibilityBatch(query, accountId, zuids.slice(i, i + size))));
    batches++;
  }
  return { results, batches };
}

import { type SQL, sql } from "drizzle-orm";
import { connectorFor } from "../connectors/registry";
import type { Db } from "../db/client";
import { entityColumnPrefix, mirrorIdent } from "../db/schema/sync";
import type { Failure } from "./failures";

function isEntityOf(provider: string, entity: string): boolean {
  try {
    return Object.hasOwn(connectorFor(provider).entities, entity);
  } catch {
    return false;
  }
}

/** What transforming staged records of one run added up to. */
export type RunCounts = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  runId: string;
  /** Records whose version replaced or created their core row. */
  written: number;
  /** Records that changed nothing: an equal or older version, or unchanged content. */
  unchanged: number;
  failed: number;
};

/** A status that says a run finished while some of its records could not be taken. */
export const COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS";

/**
 * Adds a transform's counts to its runs in `sync_runs`, creating the row for runs the account's object does not
 * announce (webhook fetches, replays: the mode is the run id's prefix). One statement for all runs.
 */
export function runCountsStatement(counts: RunCounts[]): SQL {
  const rows = counts.map((c) => ({
    account_id: c.accountId,
    connection_id: c.connectionId,
    provider: c.provider,
    entity: c.entity,
    run_id: c.runId,
    written: c.written,
    unchanged: c.unchanged,
    failed: c.failed,
  }));
  return sql`
    insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, status, written, unchanged,
      failed, trigger)
    select r.account_id, r.connection_id, r.provider, r.entity, r.run_id,
           case when r.run_id like 'webhook:%' then 'webhook' when r.run_id like 'replay:%' then 'replay'
                else 'sync' end,
           -- A webhook fetch or a replay is over once transformed; a sync run's status is the object's to write
           -- (the consumer may get there first), so it never claims IN_PROGRESS on the object's behalf.
           case when r.run_id like 'webhook:%' or r.run_id like 'replay:%' then 'COMPLETED' else 'PENDING' end,
           r.written, r.unchanged, r.failed,
           case when r.run_id like 'webhook:%' then 'webhook' when r.run_id like 'replay:%' then 'replay' end
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(account_id text, connection_id text, provider text, entity text, run_id text, written bigint,
           unchanged bigint, failed bigint)
    on conflict (connection_id, entity, run_id) do update
      set written = sync_runs.written + excluded.written, unchanged = sync_runs.unchanged + excluded.unchanged,
          failed = sync_runs.failed + excluded.failed, updated_at = now()`;
}

/**
 * Re-derives an entity's failure summary in the `<provider>_sync_state` / `_sync_jobs` mirrors from its open
 * failed records: the count, `error_list` (`[{code, count, message}]`, reasons only, never payloads) and a
 * finished status that is COMPLETED only when nothing failed. Called whenever failures are recorded or resolved
 * and when a run completes, so the mirror never says COMPLETED over failed records.
 */
export async function refreshFailureSummary(
  db: Db,
  target: { provider: string; connectionId: string; entity: string },
): Promise<void> {
  const stateTable = sql.raw(mirrorIdent(`${target.provider}_sync_state`));
  const jobsTable = sql.raw(mirrorIdent(`${target.provider}_sync_jobs`));
  // Failures of something that is no entity of the provider (parked webhook events, a record staged for an
  // entity since removed) have no status column of their own; they still count in the connection's error_list.
  const statusCol = isEntityOf(target.provider, target.entity)
    ? sql.raw(mirrorIdent(`${entityColumnPrefix(target.entity)}_status`))
    : null;
  const setStatus = statusCol
    ? sql`, ${statusCol} = coalesce((select status from st), j.${statusCol})`
    : sql``;
  await db.execute(sql`
    with open as (
      select error_code, count(*)::bigint as n, min(error_message) as message
      from failed_records
      where connection_id = ${target.connectionId} and entity = ${target.entity} and resolved_at is null
      group by error_code
    ), summary as (
      select coalesce(sum(n), 0)::bigint as n,
             coalesce(jsonb_agg(jsonb_build_object('code', error_code, 'count', n, 'message', message)
                                order by n desc, error_code), '[]'::jsonb) as list
      from open
    ), st as (
      update ${stateTable} m set records_failed = summary.n, error_list = summary.list,
        status = case when m.status in ('COMPLETED', ${COMPLETED_WITH_ERRORS})
                      then case when summary.n > 0 then ${COMPLETED_WITH_ERRORS} else 'COMPLETED' end
                      else m.status end,
        updated_at = now()
      from summary
      where m.connection_id = ${target.connectionId} and m.entity = ${target.entity}
      returning m.status
    ), all_open as (
      select coalesce(jsonb_agg(jsonb_build_object('entity', entity, 'code', error_code, 'count', n)
                                order by entity, error_code), '[]'::jsonb) as list
      from (select entity, error_code, count(*)::bigint as n from failed_records
            where connection_id = ${target.connectionId} and resolved_at is null
            group by entity, error_code) g
    )
    update ${jobsTable} j set error_list = all_open.list${setStatus}, updated_at = now()
    from all_open
    where j.connection_id = ${target.connectionId}`);
}

/**
 * After records were parked outside the transform's own statement (write failures, dead letters, exhausted
 * re-announces): each run counts them as failed and each entity's mirror learns of them.
 */
export async function countParked(db: Db, failures: Failure[]): Promise<void> {
  const runs = new Map<string, RunCounts>();
  const pairs = new Map<string, { provider: string; connectionId: string; entity: string }>();
  for (const f of failures) {
    pairs.set(`${f.connectionId}/${f.entity}`, f);
    if (!f.runId) continue;
    const key = `${f.connectionId}\u0000${f.entity}\u0000${f.runId}`;
    const run = runs.get(key) ?? {
      accountId: f.accountId,
      connectionId: f.connectionId,
      provider: f.provider,
      entity: f.entity,
      runId: f.runId,
      written: 0,
      unchanged: 0,
      failed: 0,
    };
    run.failed++;
    runs.set(key, run);
  }
  if (runs.size > 0) await db.execute(runCountsStatement([...runs.values()]));
  for (const target of pairs.values()) await refreshFailureSummary(db, target);
}

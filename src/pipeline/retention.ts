import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Db } from "../db/client";

export const DEFAULT_STAGING_RETENTION_HOURS = 72;

/**
 * Deletes transformed staging rows older than the retention, in bounded chunks so one call never holds
 * long locks or outlives its invocation; `more` says another call would find more to prune. Pending rows
 * (not yet transformed, or deletes awaiting their run) are never pruned.
 *
 * Nor is any row of a run that may still be open: a run's staged rows are its seen-set and its first
 * fetch_seq, which its completion diffs core against, so pruning a long run's early pages would make its
 * full scan delete what it saw. The rule, cheap and needing no run registry: a run's rows go only once none
 * of them is pending and none was staged or transformed within the retention (a run still fetching stages
 * pages, so its newest row is recent), and no `sync_runs` row marks the run IN_PROGRESS. A run idle for
 * longer than the retention is therefore treated as finished unless sync_runs says otherwise.
 */
export async function pruneStaging(
  db: Db,
  olderThanHours: number = DEFAULT_STAGING_RETENTION_HOURS,
  opts: { chunk?: number; maxChunks?: number } = {},
): Promise<{ deleted: number; more: boolean }> {
  const chunk = opts.chunk ?? 5_000;
  const maxChunks = opts.maxChunks ?? 20;
  const hours = Math.max(0, olderThanHours);
  let deleted = 0;
  for (let i = 0; i < maxChunks; i++) {
    const result = await withAllAccounts(db, (tx) =>
      tx.execute(sql`
      with cutoff as (select now() - ${hours}::float8 * interval '1 hour' as at),
      candidates as (
        -- staged_at <= done_at, so the staged_at index bounds the scan to rows old enough to qualify.
        select distinct s.connection_id, s.entity, s.run_id
        from stage_records s, cutoff
        where s.staged_at < cutoff.at and s.done_at is not null and s.done_at < cutoff.at
      ), closed as (
        -- Each candidate run is probed once through the (connection, entity, run, page, seq) index.
        select c.connection_id, c.entity, c.run_id from candidates c, cutoff
        where not exists (
            select 1 from stage_records o
            where o.connection_id = c.connection_id and o.entity = c.entity and o.run_id = c.run_id
              and (o.done_at is null or o.staged_at >= cutoff.at or o.done_at >= cutoff.at))
          and not exists (
            select 1 from sync_runs r
            where r.connection_id = c.connection_id and r.entity = c.entity and r.run_id = c.run_id
              and r.status = 'IN_PROGRESS')
      )
      delete from stage_records where id in (
        select s.id from stage_records s join closed c using (connection_id, entity, run_id)
        limit ${chunk})`),
    );
    const n = result.rowCount ?? 0;
    deleted += n;
    if (n < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}

/** STAGING_RETENTION_HOURS from the environment, falling back to the default on absent or bad values. */
export function stagingRetentionHours(value: string | undefined): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? n : DEFAULT_STAGING_RETENTION_HOURS;
}

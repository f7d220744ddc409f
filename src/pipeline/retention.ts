import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Db } from "../db/client";

export const DEFAULT_STAGING_RETENTION_HOURS = 72;

/**
 * Deletes transformed staging rows older than the retention, in bounded chunks so one call never holds
 * long locks or outlives its invocation; `more` says another call would find more to prune. Pending rows
 * (not yet transformed, or deletes awaiting their run) are never pruned.
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
      delete from stage_records where id in (
        select id from stage_records
        -- staged_at <= done_at, so the staged_at index bounds the scan to rows old enough to qualify.
        where staged_at < now() - ${hours}::float8 * interval '1 hour'
          and done_at is not null and done_at < now() - ${hours}::float8 * interval '1 hour'
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

import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Db } from "../db/client";
import { sendTransforms, type TransformMessage } from "./messages";

export const DEFAULT_REANNOUNCE_AFTER_MINUTES = 15;

/** STAGING_REANNOUNCE_AFTER_MINUTES from the environment, falling back to the default on absent or bad values. */
export function reannounceAfterMinutes(value: string | undefined): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? n : DEFAULT_REANNOUNCE_AFTER_MINUTES;
}

/**
 * Staged pages still pending well after they were staged lost their transform message (a queue that dropped
 * it, a local runtime killed mid-send). They are found through their markers (stage_pending_pages), which
 * this sweep also clears once a page has nothing pending. Announcing them again is safe: the consumer is
 * idempotent, and a page whose first message is merely slow is transformed once and skipped the second time.
 * Deletes are left out: they wait for their run to complete, not for a message.
 */
export async function reannounceStalePages(
  db: Db,
  queue: Queue<TransformMessage>,
  opts: { olderThanMinutes?: number; limit?: number; accountIds?: string[] } = {},
): Promise<{ pages: number }> {
  const minutes = opts.olderThanMinutes ?? DEFAULT_REANNOUNCE_AFTER_MINUTES;
  const scoped = opts.accountIds
    ? sql`and m.account_id = any(${`{${opts.accountIds.join(",")}}`}::text[])`
    : sql``;
  const olderThan = sql`m.staged_at < now() - ${minutes}::float8 * interval '1 minute'`;
  const result = await withAllAccounts(db, async (tx) => {
    // Markers of pages with nothing pending left go first: what remains is what lost its message.
    await tx.execute(sql`
      delete from stage_pending_pages m
      where ${olderThan} ${scoped}
        and not exists (
          select 1 from stage_records s
          where s.connection_id = m.connection_id and s.entity = m.entity and s.run_id = m.run_id
            and s.page_no = m.page_no and s.done_at is null and s.op = 'upsert')`);
    return tx.execute(sql`
      select m.account_id, m.connection_id, m.provider, m.entity, m.run_id, m.page_no, m.records
      from stage_pending_pages m
      where ${olderThan} ${scoped}
      order by m.staged_at
      limit ${opts.limit ?? 1_000}`);
  });
  const messages: TransformMessage[] = (
    result.rows as {
      account_id: string;
      connection_id: string;
      provider: string;
      entity: string;
      run_id: string;
      page_no: number;
      records: number;
    }[]
  ).map((r) => ({
    v: 1,
    accountId: r.account_id,
    connectionId: r.connection_id,
    provider: r.provider,
    entity: r.entity,
    runId: r.run_id,
    pageNo: r.page_no,
    records: r.records,
  }));
  if (messages.length > 0) await sendTransforms(queue, messages);
  return { pages: messages.length };
}

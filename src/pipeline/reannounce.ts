import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Db } from "../db/client";
import { parkStagedPages } from "./dead-letter";
import { sendTransforms, type TransformMessage } from "./messages";

export const DEFAULT_REANNOUNCE_AFTER_MINUTES = 15;

/** How often the cron runs the sweep: with the threshold, what turns an age into a number of announcements. */
const SWEEP_PERIOD_MINUTES = 15;

/**
 * Announcements a stranded page gets before it is parked. Each announcement is a message with its own queue
 * retries (5, then the dead-letter queue's 3), so a page still pending after 8 has failed around fifty
 * deliveries or lost every message; its records go to failed_records (`reannounce_exhausted`), replayable.
 */
export const MAX_REANNOUNCEMENTS = 8;

/** Age at which a pending page has had its announcements: counted in sweep periods, never below one. */
export function parkAfterMinutes(olderThanMinutes: number): number {
  return Math.max(olderThanMinutes, SWEEP_PERIOD_MINUTES) * (MAX_REANNOUNCEMENTS + 1);
}

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
 * Deletes are left out: they wait for their run to complete, not for a message. The loop is bounded: the
 * age of a page stands for its number of announcements (the table keeps no counter), and a page older than
 * parkAfterMinutes is parked instead of announced again.
 */
export async function reannounceStalePages(
  db: Db,
  queue: Queue<TransformMessage>,
  opts: { olderThanMinutes?: number; parkAfterMinutes?: number; limit?: number; accountIds?: string[] } = {},
): Promise<{ pages: number; parked: number }> {
  const minutes = opts.olderThanMinutes ?? DEFAULT_REANNOUNCE_AFTER_MINUTES;
  const parkAfter = opts.parkAfterMinutes ?? parkAfterMinutes(minutes);
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
      select m.account_id, m.connection_id, m.provider, m.entity, m.run_id, m.page_no, m.records,
             m.staged_at < now() - ${parkAfter}::float8 * interval '1 minute' as exhausted
      from stage_pending_pages m
      where ${olderThan} ${scoped}
      order by m.staged_at
      limit ${opts.limit ?? 1_000}`);
  });
  const rows = result.rows as (PendingPage & { exhausted: boolean })[];
  const parked = await parkExhausted(
    db,
    rows.filter((r) => r.exhausted),
  );
  const messages: TransformMessage[] = rows
    .filter((r) => !r.exhausted)
    .map((r) => ({
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
  return { pages: messages.length, parked };
}

type PendingPage = {
  account_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  run_id: string;
  page_no: number;
  records: number;
};

/** The pages' pending records become failed records and the pages' markers go: nothing is announced again. */
async function parkExhausted(db: Db, pages: PendingPage[]): Promise<number> {
  if (pages.length === 0) return 0;
  const keys = pages.map((p) => ({
    connectionId: p.connection_id,
    entity: p.entity,
    runId: p.run_id,
    pageNo: p.page_no,
  }));
  const parked = await parkStagedPages(
    db,
    keys,
    "reannounce_exhausted",
    `still untransformed after ${MAX_REANNOUNCEMENTS} announcements`,
  );
  await withAllAccounts(db, (tx) =>
    tx.execute(sql`
      delete from stage_pending_pages m
      using jsonb_to_recordset(${JSON.stringify(pages)}::jsonb)
        as k(connection_id text, entity text, run_id text, page_no int)
      where m.connection_id = k.connection_id and m.entity = k.entity and m.run_id = k.run_id
        and m.page_no = k.page_no`),
  );
  return parked;
}

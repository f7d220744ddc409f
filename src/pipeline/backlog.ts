import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/** Default transform pages one account's backfill may keep waiting in the shared queue (BACKFILL_INFLIGHT_PAGES). */
export const DEFAULT_INFLIGHT_PAGES = 200;

/** Pages staged longer ago than this are stuck rather than queued (the re-announce sweep's business). */
const QUEUED_WITHIN_MINUTES = 15;

/** BACKFILL_INFLIGHT_PAGES, falling back to the default on absent or bad values. */
export function inflightPagesOf(value: string | undefined): number {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 ? n : DEFAULT_INFLIGHT_PAGES;
}

/**
 * How many of the account's staged pages still wait for their transform, counted among its `lookAt` most recent
 * pages (the queue takes pages roughly in the order they were sent, so the waiting ones are the recent ones,
 * and the count is exact up to `lookAt`). Read through the page markers (indexed by account and time) and the
 * staged rows' page index, so it costs one small query however large the account's staging is. A page is
 * judged by its first record: a transform marks a page's records done together, so only a page whose records
 * are being isolated one by one is between (and a throttle need not be exact about those). Looking for any
 * record not done read every record of every done page (19 calls took 3.5 s of a 200,000-person backfill).
 */
export async function pendingTransformPages(db: Db, accountId: string, lookAt: number): Promise<number> {
  const result = await db.execute(sql`
    select count(*)::int as n from (
      select p.connection_id, p.entity, p.run_id, p.page_no from stage_pending_pages p
      where p.account_id = ${accountId}
        and p.staged_at > now() - make_interval(mins => ${QUEUED_WITHIN_MINUTES})
      order by p.staged_at desc
      limit ${lookAt}) p
    where (
      select s.done_at is null from stage_records s
      where s.connection_id = p.connection_id and s.entity = p.entity and s.run_id = p.run_id
        and s.page_no = p.page_no and s.op = 'upsert'
      order by s.seq limit 1)`);
  return Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
}

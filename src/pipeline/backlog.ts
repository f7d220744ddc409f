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
 * staged rows' page index, so it costs one small query however large the account's staging is.
 */
export async function pendingTransformPages(db: Db, accountId: string, lookAt: number): Promise<number> {
  const result = await db.execute(sql`
    select count(*)::int as n from (
      select p.connection_id, p.entity, p.run_id, p.page_no from stage_pending_pages p
      where p.account_id = ${accountId}
        and p.staged_at > now() - make_interval(mins => ${QUEUED_WITHIN_MINUTES})
      order by p.staged_at desc
      limit ${lookAt}) p
    where exists (
      select 1 from stage_records s
      where s.connection_id = p.connection_id and s.entity = p.entity and s.run_id = p.run_id
        and s.page_no = p.page_no and s.done_at is null and s.op = 'upsert')`);
  return Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
}

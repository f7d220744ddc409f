import type { Db } from "../db/client";
import { type IngestRequest, pendingInboxEvents, pruneInbox } from "./inbox";

export type SweepReport = { dispatched: number; failed: number; pruned: number };

/**
 * Cron-side safety net: re-sends events still pending after their hand-off should have finished (lost
 * waitUntil, object errors, parked fetches), then drops processed rows past the retention. Spans accounts.
 */
export async function sweepWebhookInbox(
  db: Db,
  dispatch: (req: IngestRequest) => Promise<unknown>,
  opts: { olderThanSec?: number; limit?: number } = {},
): Promise<SweepReport> {
  const pending = await pendingInboxEvents(db, opts);
  const results = await Promise.allSettled(pending.map((req) => dispatch(req)));
  const pruned = await pruneInbox(db);
  return {
    dispatched: pending.length,
    failed: results.filter((r) => r.status === "rejected").length,
    pruned,
  };
}

import type { Db } from "../db/client";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "../sync/concurrency";
import { type IngestRequest, pendingInboxEvents, pruneInbox } from "./inbox";

export type SweepReport = { dispatched: number; failed: number; pruned: number };

/**
 * Cron-side safety net: re-sends events still pending after their hand-off should have finished (lost
 * waitUntil, object errors, parked fetches), then drops processed rows past the retention. Spans accounts
 * (app.all_accounts) unless scoped.
 */
export async function sweepWebhookInbox(
  db: Db,
  dispatch: (req: IngestRequest) => Promise<unknown>,
  opts: { olderThanSec?: number; limit?: number; accountIds?: string[] } = {},
): Promise<SweepReport> {
  const pending = await pendingInboxEvents(db, opts);
  // Calls to the objects stay within the invocation's simultaneous-connection limit.
  const results = await settleWithLimit(pending, INVOCATION_CONNECTIONS, dispatch);
  const pruned = await pruneInbox(db);
  return {
    dispatched: pending.length,
    failed: results.filter((r) => r.status === "rejected").length,
    pruned,
  };
}

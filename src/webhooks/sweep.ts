import { logger } from "../core/log";
import { safeErrorMessage } from "../core/safe-error";
import type { Db } from "../db/client";
import type { Env } from "../env";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "../sync/concurrency";
import { accountStub } from "../sync/stubs";
import { type IngestRequest, pendingInboxEvents } from "./inbox";

const log = logger("webhooks");

export type SweepReport = { dispatched: number; failed: number };

/**
 * Cron-side safety net: re-sends events still pending after their hand-off should have finished (lost
 * waitUntil, object errors, parked fetches). Spans accounts (app.all_accounts) unless scoped. Processed rows
 * past their retention are pruned with the other retained rows, in bounded chunks (pipeline/retention.ts).
 */
export async function sweepWebhookInbox(
  db: Db,
  dispatch: (req: IngestRequest) => Promise<unknown>,
  opts: { olderThanSec?: number; limit?: number; accountIds?: string[] } = {},
): Promise<SweepReport> {
  const pending = await pendingInboxEvents(db, opts);
  // Calls to the objects stay within the invocation's simultaneous-connection limit.
  const results = await settleWithLimit(pending, INVOCATION_CONNECTIONS, dispatch);
  return {
    dispatched: pending.length,
    failed: results.filter((r) => r.status === "rejected").length,
  };
}

/**
 * The sweep as the 15-minute cron runs it: each pending event goes back to its account's object, which
 * queues it on its webhook timer (a cheap call: the fetch happens on the object's alarm, not inside this
 * invocation). A failing sweep never fails the cron job it rides on.
 */
export async function sweepForCron(db: Db, env: Env, scope: { accountIds?: string[] } = {}) {
  try {
    const report = await sweepWebhookInbox(db, (req) => accountStub(env, req.accountId).queueWebhook(req), {
      accountIds: scope.accountIds,
    });
    if (report.dispatched > 0 || report.failed > 0) log.info("webhook inbox sweep", { ...report });
    return report;
  } catch (error) {
    log.warn("webhook inbox sweep failed", { error: safeErrorMessage(error) });
    return null;
  }
}

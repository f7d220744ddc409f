import { withAllAccounts } from "../accounts/tenant";
import { type Db, openDb } from "../db/client";
import type { Env } from "../env";
import { reannounceAfterMinutes, reannounceStalePages } from "../pipeline/reannounce";
import { pruneStaging, stagingRetentionHours } from "../pipeline/retention";
import { sweepForCron } from "../webhooks/sweep";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "./concurrency";
import { activeConnections, claimDueConnections, fanOutDeltaSyncs } from "./fan-out";
import { accountStub } from "./stubs";

export const DELTA_CRON = "*/15 * * * *";
export const RECONCILE_CRON = "17 3 * * *";

export type CronResult =
  | { job: "delta"; connections: number; failed: number; reannouncedPages: number }
  | {
      job: "reconcile";
      connections: number;
      failed: number;
      mismatches: number;
      /** Complete scans started to repair drift (counts differ, or the entity can't be counted cheaply). */
      repairs: number;
      prunedStaging: number;
    }
  | { job: "unknown"; cron: string };

/** Limits a job to some accounts (an operator re-running one account's job; tests sharing one database). */
export type CronScope = { accountIds?: string[] };

/** Runs the job a cron expression stands for (see wrangler.toml [triggers]). */
export async function runCron(
  cron: string,
  env: Env,
  ctx: ExecutionContext,
  scope: CronScope = {},
): Promise<CronResult> {
  if (cron !== DELTA_CRON && cron !== RECONCILE_CRON) {
    console.warn("scheduled: no job for cron", cron);
    return { job: "unknown", cron };
  }
  const handle = openDb(env);
  try {
    return cron === DELTA_CRON
      ? await deltaFanOut(handle.db, env, scope)
      : await dailyReconciliation(handle.db, env, scope);
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

// Cron jobs span accounts by design (they find work for every tenant); the transaction covers only the
// query, never the calls to the objects.
const acrossAccounts = <T>(db: Db, fn: (db: Db) => Promise<T>) =>
  withAllAccounts(db, (tx) => fn(tx as unknown as Db));

async function deltaFanOut(db: Db, env: Env, scope: CronScope): Promise<CronResult> {
  const due = await acrossAccounts(db, (tx) => claimDueConnections(tx, 500, scope.accountIds));
  const r = await fanOutDeltaSyncs(due, (req) => accountStub(env, req.accountId).startSync(req));
  // After the fan-out, so the two never hold more than the invocation's connection limit between them.
  await sweepForCron(db, env, scope);
  const { pages } = await reannounceStalePages(db, env.TRANSFORMS, {
    accountIds: scope.accountIds,
    olderThanMinutes: reannounceAfterMinutes(env.STAGING_REANNOUNCE_AFTER_MINUTES),
  });
  return { job: "delta", ...r, reannouncedPages: pages };
}

/**
 * Each connection's object compares provider totals with our counts and starts a complete scan of every entity
 * that drifted or can't be counted cheaply; the provider requests go through that connection's breaker and
 * rate budget like any other.
 */
async function dailyReconciliation(db: Db, env: Env, scope: CronScope): Promise<CronResult> {
  const connections = await acrossAccounts(db, (tx) => activeConnections(tx, scope.accountIds));
  const results = await settleWithLimit(connections, INVOCATION_CONNECTIONS, (c) =>
    accountStub(env, c.accountId).reconcile({ accountId: c.accountId, connectionId: c.connectionId }),
  );
  let mismatches = 0;
  let repairs = 0;
  let failed = 0;
  for (const r of results) {
    if (r.status === "rejected") failed++;
    else {
      mismatches += r.value.filter((e) => e.mismatch).length;
      repairs += r.value.filter((e) => e.catchUp).length;
    }
  }
  // Staging is a buffer, not an archive: transformed rows older than the retention go once a day.
  const pruned = await pruneStaging(db, stagingRetentionHours(env.STAGING_RETENTION_HOURS));
  return {
    job: "reconcile",
    connections: connections.length,
    failed,
    mismatches,
    repairs,
    prunedStaging: pruned.deleted,
  };
}

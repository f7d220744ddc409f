import { withAllAccounts } from "../accounts/tenant";
import { alertsForCron } from "../alerts/cron";
import { logger } from "../core/log";
import { type Db, openDb, systemDb } from "../db/client";
import type { Env } from "../env";
import { reannounceAfterMinutes, reannounceStalePages } from "../pipeline/reannounce";
import { pruneAll, type RetentionReport, retentionConfig } from "../pipeline/retention";
import { sweepForCron } from "../webhooks/sweep";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "./concurrency";
import { activeConnections, claimDueConnections, fanOutDeltaSyncs } from "./fan-out";
import { accountStub } from "./stubs";

const log = logger("cron");

export const DELTA_CRON = "*/15 * * * *";
export const RECONCILE_CRON = "17 3 * * *";

export type CronResult =
  | {
      job: "delta";
      connections: number;
      failed: number;
      reannouncedPages: number;
      /** Null when the pass failed; the next tick tries again. */
      pruned: RetentionReport | null;
    }
  | {
      job: "reconcile";
      connections: number;
      failed: number;
      mismatches: number;
      /** Complete scans started to repair drift (counts differ, or the entity can't be counted cheaply). */
      repairs: number;
      prunedStaging: number;
      pruned: RetentionReport | null;
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
    log.warn("scheduled: no job for cron", { cron });
    return { job: "unknown", cron };
  }
  const handle = openDb(systemDb(env));
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
  const pruned = await prune(db, env, scope, DELTA_PRUNE_MS);
  await alertsForCron(db, env, scope);
  return { job: "delta", ...r, reannouncedPages: pages, pruned };
}

/**
 * Wall-clock budgets of the retention pass of each job. The daily job starts the day's pruning; every
 * 15-minute tick continues it while rows are due, so a backlog far larger than one call can remove (a
 * million staged rows after a backfill) is gone within the day, and no call outlives its invocation.
 */
export const DELTA_PRUNE_MS = 20_000;
export const DAILY_PRUNE_MS = 60_000;

async function prune(db: Db, env: Env, scope: CronScope, budgetMs: number) {
  try {
    return await pruneAll(db, retentionConfig(env), {
      accountIds: scope.accountIds,
      deadline: Date.now() + budgetMs,
      // A chunk is a few hundred ms; the deadline, not the count, bounds a call in practice.
      maxChunks: 1_000,
      chunk: 10_000,
    });
  } catch (error) {
    // Pruning is housekeeping: it never fails the job it rides on. Only the error's class is logged, never
    // a database message (those can carry row values).
    log.warn("retention pass failed", { error: error instanceof Error ? error.name : "unknown" });
    return null;
  }
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
  // Staging is a buffer, not an archive: transformed rows older than the retention go, as do finished
  // inbox rows, resolved failures, decided held deletes and tombstones nothing can need any more.
  const pruned = await prune(db, env, scope, DAILY_PRUNE_MS);
  return {
    job: "reconcile",
    connections: connections.length,
    failed,
    mismatches,
    repairs,
    prunedStaging: pruned?.staging ?? 0,
    pruned,
  };
}

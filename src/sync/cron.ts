import { withAllAccounts } from "../accounts/tenant";
import { alertsForCron } from "../alerts/cron";
import { logger } from "../core/log";
import { type Db, openDb, systemDb } from "../db/client";
import type { Env } from "../env";
import { reannounceAfterMinutes, reannounceStalePages } from "../pipeline/reannounce";
import { pruneAll, type RetentionReport, retentionConfig } from "../pipeline/retention";
import { sweepForCron } from "../webhooks/sweep";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "./concurrency";
import {
  activeConnections,
  CLAIM_PAGE,
  claimDueConnections,
  claimDueReconciliations,
  countDueConnections,
  type DueConnection,
  fanOutDeltaSyncs,
  releaseClaims,
} from "./fan-out";
import { workerJobRunner } from "./job-runner";
import { runDueJobs } from "./jobs";
import { accountStub } from "./stubs";
import { recordTick } from "./ticks";

const log = logger("cron");

/**
 * The scheduler's tick: every minute. Each connection's delta slot has its own phase within its interval (see
 * claimDueConnections), so each tick starts the slice of the fleet whose slot has come, and each tick also
 * starts the reconciliations whose slot of the day has come.
 */
export const DELTA_CRON = "* * * * *";
/** The daily job: the day's retention pass (reconciliation itself is spread over the day by the ticks). */
export const RECONCILE_CRON = "17 3 * * *";

/** What a tick did and how long it took: logged, kept in scheduler_ticks, and shown by /health. */
export type TickReport = {
  /** Wall time of the whole tick, fan-out to pruning. */
  durationMs: number;
  /** Of which claiming and starting delta runs and reconciliations. */
  fanOutMs: number;
  /** Claims made (pages of at most SCHEDULER_CLAIM_PAGE connections). */
  claims: number;
  /** Connections whose delta slot had come and no claim took before the tick's time ran out (the next tick does). */
  behind: number;
  reconciled: number;
  reconcileFailed: number;
  /** Connector jobs (ConnectorSpec.jobs) whose slot had come: claimed, and of those completed / failed. */
  jobsClaimed: number;
  jobsCompleted: number;
  jobsFailed: number;
};

export type CronResult =
  | ({
      job: "delta";
      connections: number;
      failed: number;
      reannouncedPages: number;
      /** Null when the pass failed or this tick had none to do; a later tick tries again. */
      pruned: RetentionReport | null;
    } & TickReport)
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

/** Runs the job a cron expression stands for (see wrangler.toml [triggers]); `at` is the scheduled time. */
export async function runCron(
  cron: string,
  env: Env,
  ctx: ExecutionContext,
  scope: CronScope = {},
  at?: number,
): Promise<CronResult> {
  if (cron !== DELTA_CRON && cron !== RECONCILE_CRON) {
    log.warn("scheduled: no job for cron", { cron });
    return { job: "unknown", cron };
  }
  const handle = openDb(systemDb(env));
  try {
    return cron === DELTA_CRON
      ? await deltaTick(handle.db, env, scope, at)
      : await dailyReconciliation(handle.db, env, scope);
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

// Cron jobs span accounts by design (they find work for every tenant); the transaction covers only the
// query, never the calls to the objects.
const acrossAccounts = <T>(db: Db, fn: (db: Db) => Promise<T>) =>
  withAllAccounts(db, (tx) => fn(tx as unknown as Db));

/** Default wall time a tick spends claiming and starting work before leaving the rest to the next tick. */
export const TICK_BUDGET_MS = 40_000;

const positive = (value: string | undefined, fallback: number) => {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
};

/** The retention pass runs on the quarter-hour ticks (and on every run an operator or a test starts). */
const prunesAt = (at: number | undefined) => at === undefined || new Date(at).getUTCMinutes() % 15 === 0;

/**
 * Claims due connections a page at a time and starts their delta runs until none is due or the tick's time
 * budget is spent; what is left stays due and the next tick (a minute later) takes it first. No count caps a
 * tick, and since slots are spread over the interval a tick normally finds a small slice of the fleet.
 */
async function deltaTick(db: Db, env: Env, scope: CronScope, at?: number): Promise<CronResult> {
  const started = Date.now();
  const budgetMs = positive(env.SCHEDULER_TICK_MS, TICK_BUDGET_MS);
  const page = positive(env.SCHEDULER_CLAIM_PAGE, CLAIM_PAGE);
  const timeLeft = () => Date.now() - started < budgetMs;
  let claims = 0;
  let connections = 0;
  let failed = 0;
  // The first claim is made whatever the clock says, so every tick moves the fleet forward; the budget
  // decides whether another follows.
  for (let first = true; first || timeLeft(); first = false) {
    const due = await acrossAccounts(db, (tx) =>
      claimDueConnections(tx, { limit: page, accountIds: scope.accountIds }),
    );
    if (due.length === 0) break;
    claims++;
    const r = await fanOutDeltaSyncs(due, (req) => accountStub(env, req.accountId).startSync(req));
    connections += r.connections;
    failed += r.failed;
    if (r.failedConnections.length > 0)
      await acrossAccounts(db, (tx) => releaseClaims(tx, r.failedConnections));
    if (due.length < page) break;
  }
  let reconciled = 0;
  let reconcileFailed = 0;
  while (timeLeft()) {
    const due = await acrossAccounts(db, (tx) =>
      claimDueReconciliations(tx, { limit: page, accountIds: scope.accountIds }),
    );
    if (due.length === 0) break;
    claims++;
    const r = await reconcileConnections(env, due);
    reconciled += due.length;
    reconcileFailed += r.failed;
    if (due.length < page) break;
  }
  const jobs = timeLeft()
    ? await runDueJobs(
        db,
        workerJobRunner(db, (req) => accountStub(env, req.accountId).jobCall(req)),
        {
          accountIds: scope.accountIds,
          timeLeft,
          page,
        },
      )
    : { claimed: 0, completed: 0, failed: 0 };
  const fanOutMs = Date.now() - started;
  const behind = await acrossAccounts(db, (tx) => countDueConnections(tx, new Date(), scope.accountIds));
  // After the fan-out, so the two never hold more than the invocation's connection limit between them.
  await sweepForCron(db, env, scope);
  const { pages } = await reannounceStalePages(db, env.TRANSFORMS, {
    accountIds: scope.accountIds,
    olderThanMinutes: reannounceAfterMinutes(env.STAGING_REANNOUNCE_AFTER_MINUTES),
  });
  const pruned = prunesAt(at) ? await prune(db, env, scope, DELTA_PRUNE_MS) : null;
  const tick: TickReport = {
    durationMs: Date.now() - started,
    fanOutMs,
    claims,
    behind,
    reconciled,
    reconcileFailed,
    jobsClaimed: jobs.claimed,
    jobsCompleted: jobs.completed,
    jobsFailed: jobs.failed,
  };
  const result = { job: "delta" as const, connections, failed, reannouncedPages: pages, pruned, ...tick };
  await recordTick(db, "delta", started, {
    connections,
    failed,
    reannouncedPages: pages,
    ...tick,
  });
  await alertsForCron(db, env, scope);
  return result;
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

/** Each connection's object compares provider totals with our counts and repairs what drifted. */
async function reconcileConnections(env: Env, connections: DueConnection[]) {
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
  return { mismatches, repairs, failed };
}

/**
 * The daily job. Every connection is reconciled once a day at its own slot by the minute ticks; this job runs
 * the day's retention pass, and an operator who names accounts (scope) reconciles their connections now.
 * The provider requests go through each connection's breaker and rate budget like any other.
 */
async function dailyReconciliation(db: Db, env: Env, scope: CronScope): Promise<CronResult> {
  const connections = scope.accountIds
    ? await acrossAccounts(db, (tx) => activeConnections(tx, scope.accountIds))
    : [];
  const r = await reconcileConnections(env, connections);
  // Staging is a buffer, not an archive: transformed rows older than the retention go, as do finished
  // inbox rows, resolved failures, decided held deletes and tombstones nothing can need any more.
  const pruned = await prune(db, env, scope, DAILY_PRUNE_MS);
  return {
    job: "reconcile",
    connections: connections.length,
    failed: r.failed,
    mismatches: r.mismatches,
    repairs: r.repairs,
    prunedStaging: pruned?.staging ?? 0,
    pruned,
  };
}

import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import { connectorFor, knownProviders } from "../connectors/registry";
import type { JobResult } from "../connectors/types";
import { logger } from "../core/log";
import { safeErrorMessage } from "../core/safe-error";
import type { Db } from "../db/client";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "./concurrency";
import { CLAIM_PAGE } from "./fan-out";

// Periodic jobs connectors declare (ConnectorSpec.jobs), scheduled like delta syncs: one row per connection
// and job in connection_jobs holds its next slot, at a stable phase of the job's interval (a hash of the
// connection and job), so a fleet's runs spread over the interval. The minute tick claims due rows by moving
// their slot on, runs them, and keeps started / completed / failed / accounts-processed counts and one
// connection_job_runs row per run, which the job error-rate alert reads.

const log = logger("jobs");

export type DueJob = {
  accountId: string;
  connectionId: string;
  provider: string;
  job: string;
  runId: string;
};

/** Every job the registry's connectors declare. */
export function declaredJobs(): { provider: string; job: string; intervalMinutes: number }[] {
  return knownProviders().flatMap((provider) =>
    Object.entries(connectorFor(provider).spec.jobs ?? {}).map(([job, spec]) => ({
      provider,
      job,
      intervalMinutes: Math.max(1, Math.floor(spec.intervalMinutes)),
    })),
  );
}

const inAccounts = (accountIds: string[] | undefined, column: ReturnType<typeof sql.raw>) =>
  accountIds
    ? sql`${column} in (select jsonb_array_elements_text(${JSON.stringify(accountIds)}::jsonb))`
    : sql`true`;

/**
 * Gives each active connection a row for each job its connector declares (due at once) and keeps the declared
 * interval current. One statement; spans accounts (the caller's system transaction).
 */
export async function scheduleJobs(db: Db, opts: { accountIds?: string[] } = {}): Promise<void> {
  const jobs = declaredJobs();
  if (jobs.length === 0) return;
  await db.execute(sql`
    insert into connection_jobs (account_id, connection_id, provider, job, interval_minutes)
    select c.account_id, c.id, c.provider, j.job, j.interval_minutes
    from connections c
    join jsonb_to_recordset(${JSON.stringify(jobs.map((j) => ({ provider: j.provider, job: j.job, interval_minutes: j.intervalMinutes })))}::jsonb)
      as j(provider text, job text, interval_minutes int) on j.provider = c.provider
    where c.status = 'active' and ${inAccounts(opts.accountIds, sql.raw("c.account_id"))}
    on conflict (connection_id, job) do update set interval_minutes = excluded.interval_minutes
      where connection_jobs.interval_minutes <> excluded.interval_minutes`);
}

/**
 * Claims due jobs of active connections by moving each slot to the same phase of its next interval (at least
 * half an interval ahead, as delta slots), counting the start and opening a run row.
 */
export async function claimDueJobs(
  db: Db,
  opts: { limit?: number; now?: Date; accountIds?: string[] } = {},
): Promise<DueJob[]> {
  const now = (opts.now ?? new Date()).toISOString();
  const period = sql`(j.interval_minutes * 60)::bigint`;
  const phase = sql`mod(mod(hashtextextended(j.connection_id || ':' || j.job, 0), ${period}) + ${period}, ${period})`;
  const epoch = sql`extract(epoch from ${now}::timestamptz)`;
  const result = await db.execute(sql`
    with due as materialized (
      select jb.connection_id, jb.job from connection_jobs jb
      join connections c on c.id = jb.connection_id and c.status = 'active'
      where ${inAccounts(opts.accountIds, sql.raw("jb.account_id"))} and (jb.next_run_at is null or jb.next_run_at <= ${now}::timestamptz)
      order by jb.next_run_at nulls first
      limit ${opts.limit ?? CLAIM_PAGE}
      for update of jb skip locked),
    claimed as (
      update connection_jobs j set last_started_at = ${now}::timestamptz, started = started + 1,
        last_outcome = 'running',
        next_run_at = to_timestamp((floor((${epoch} + ${period} / 2.0 - ${phase}) / ${period}) + 1) * ${period} + ${phase})
      from due where j.connection_id = due.connection_id and j.job = due.job
      returning j.account_id, j.connection_id, j.provider, j.job, gen_random_uuid()::text as run_id)
    insert into connection_job_runs (run_id, account_id, connection_id, provider, job, started_at, outcome)
    select run_id, account_id, connection_id, provider, job, ${now}::timestamptz, 'running' from claimed
    returning run_id, account_id, connection_id, provider, job`);
  return (result.rows as Record<string, string>[]).map((r) => ({
    accountId: r.account_id as string,
    connectionId: r.connection_id as string,
    provider: r.provider as string,
    job: r.job as string,
    runId: r.run_id as string,
  }));
}

/** Records how a run ended: its run row, and the job's counters and last outcome. */
export async function finishJob(
  db: Db,
  due: DueJob,
  outcome: { ok: true; result: JobResult } | { ok: false; error: string },
): Promise<void> {
  const ok = outcome.ok;
  const items = ok ? outcome.result.items : 0;
  const itemErrors = ok ? outcome.result.itemErrors : 0;
  const error = ok ? null : outcome.error.slice(0, 200);
  const parked = ok && outcome.result.parked !== undefined ? outcome.result.parked : null;
  await db.execute(sql`
    with run as (
      update connection_job_runs set finished_at = now(), outcome = ${ok ? "completed" : "failed"},
        items = ${items}, item_errors = ${itemErrors}, error = ${error}
      where run_id = ${due.runId} returning run_id)
    update connection_jobs set last_finished_at = now(), last_outcome = ${ok ? "completed" : "failed"},
      last_error = ${error},
      completed = completed + ${ok ? 1 : 0}, failed = failed + ${ok ? 0 : 1},
      accounts_processed = accounts_processed + ${ok ? 1 : 0},
      items = items + ${items}, item_errors = item_errors + ${itemErrors},
      parked = coalesce(${parked}::int, parked)
    where connection_id = ${due.connectionId} and job = ${due.job}`);
}

/** One call of a job on its connection's API, made by the account's object (JobContext.call). */
export type JobCallRequest = {
  accountId: string;
  connectionId: string;
  /** Relative to the connection's base URL. */
  path: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
};

/**
 * Its answer: the provider's status and JSON body (a 4xx refusal's short body included; none for a 5xx), or
 * status 0 when nothing came back: a network failure, or the call was held (breaker open, 429, no budget, auth
 * refused), which `held` names. Headers are the response's, as plain pairs (they cross an RPC boundary).
 */
export type JobCallAnswer = {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  held?: string;
  error?: string;
};

/** Runs one claimed job; supplied by the Worker (credentials, fetch) or a test. */
export type JobRunner = (due: DueJob) => Promise<JobResult>;

export type JobsTickReport = { claimed: number; completed: number; failed: number };

/**
 * The tick's share of periodic jobs: schedules new connections' jobs, then claims and runs due ones page by
 * page while `timeLeft()` says so. A run that throws is counted failed with its error's class (never its
 * message, which may carry provider text) and the next slot runs the job again.
 */
export async function runDueJobs(
  db: Db,
  run: JobRunner,
  opts: { accountIds?: string[]; now?: () => Date; timeLeft?: () => boolean; page?: number } = {},
): Promise<JobsTickReport> {
  const across = <T>(fn: (db: Db) => Promise<T>) => withAllAccounts(db, (tx) => fn(tx as unknown as Db));
  const report: JobsTickReport = { claimed: 0, completed: 0, failed: 0 };
  if (declaredJobs().length === 0) return report;
  await across((tx) => scheduleJobs(tx, { accountIds: opts.accountIds }));
  const page = opts.page ?? CLAIM_PAGE;
  while (opts.timeLeft?.() ?? true) {
    const due = await across((tx) =>
      claimDueJobs(tx, { limit: page, now: opts.now?.(), accountIds: opts.accountIds }),
    );
    if (due.length === 0) break;
    report.claimed += due.length;
    const results = await settleWithLimit(due, INVOCATION_CONNECTIONS, async (d) => {
      try {
        const result = await run(d);
        await across((tx) => finishJob(tx, d, { ok: true, result }));
        return true;
      } catch (error) {
        const reason = safeErrorMessage(error);
        log.warn("job run failed", {
          provider: d.provider,
          job: d.job,
          connectionId: d.connectionId,
          error: reason,
        });
        await across((tx) => finishJob(tx, d, { ok: false, error: reason }));
        return false;
      }
    });
    for (const r of results) {
      if (r.status === "fulfilled" && r.value) report.completed++;
      else report.failed++;
    }
    if (due.length < page) break;
  }
  return report;
}

/** A connection's jobs as the status shows them: schedule, counters, parked items and the last outcome. */
export type JobStatus = {
  job: string;
  intervalMinutes: number;
  nextRunAt: string | null;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  started: number;
  completed: number;
  failed: number;
  accountsProcessed: number;
  items: number;
  itemErrors: number;
  parked: number;
};

/** Every job row of an account's connections, by connection id (the caller's tenant transaction). */
export async function jobStatuses(db: Db, accountId: string): Promise<Map<string, JobStatus[]>> {
  const iso = (col: string) => sql.raw(`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
  const result = await db.execute(sql`
    select connection_id, job, interval_minutes, ${iso("next_run_at")} as next_run_at,
      ${iso("last_started_at")} as last_started_at, ${iso("last_finished_at")} as last_finished_at,
      last_outcome, last_error, started, completed, failed, accounts_processed, items, item_errors, parked
    from connection_jobs where account_id = ${accountId} order by connection_id, job`);
  const out = new Map<string, JobStatus[]>();
  for (const r of result.rows as Record<string, unknown>[]) {
    const list = out.get(String(r.connection_id)) ?? [];
    const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
    list.push({
      job: String(r.job),
      intervalMinutes: Number(r.interval_minutes),
      nextRunAt: str(r.next_run_at),
      lastStartedAt: str(r.last_started_at),
      lastFinishedAt: str(r.last_finished_at),
      lastOutcome: str(r.last_outcome),
      lastError: str(r.last_error),
      started: Number(r.started),
      completed: Number(r.completed),
      failed: Number(r.failed),
      accountsProcessed: Number(r.accounts_processed),
      items: Number(r.items),
      itemErrors: Number(r.item_errors),
      parked: Number(r.parked),
    });
    out.set(String(r.connection_id), list);
  }
  return out;
}

import { DurableObject } from "cloudflare:workers";
import { type LoadedConnection, loadConnection } from "../src/accounts/connections";
import { inTenant, withTenant } from "../src/accounts/tenant";
import { connectorFor } from "../src/connectors/registry";
import type { RateLimitPolicy, SyncMode } from "../src/connectors/types";
import { fullJitterBackoffMs } from "../src/core/backoff";
import { parseKeyring } from "../src/core/crypto";
import { isDatabaseUnreachable } from "../src/core/db-outage";
import { AppError } from "../src/core/errors";
import { logger, withIds } from "../src/core/log";
import type { Priority } from "../src/core/rate-budget";
import { DEFAULT_CONTEXT } from "../src/core/rate-contexts";
import { safeErrorMessage } from "../src/core/safe-error";
import { sharedCommit } from "../src/core/shared-commit";
import { type Db, openDb } from "../src/db/client";
import type { Env } from "../src/env";
import { countEvents, writePoint } from "../src/metrics/counters";
import { inflightPagesOf, pendingTransformPages } from "../src/pipeline/backlog";
import { type CompletionOptions, completeRun } from "../src/pipeline/run-completion";
import { appendRunLogs, type RunLogLine } from "../src/pipeline/run-history";
import type { JobCallAnswer, JobCallRequest } from "../src/sync/jobs";
import {
  countCoreRows,
  type EntityReconciliation,
  reconcileEntities,
  recordCounts,
} from "../src/sync/reconcile";
import { scanIntervalMinutes, setScanInterval } from "../src/sync/scan-cadence";
import type { IngestRequest } from "../src/webhooks/inbox"; // issue 5
import { absenceChecker } from "./absence-check";
import { markReported, transitionIncrements, unreportedTransitions } from "./breaker-metrics";
import {
  BREAKER_REPORT_TIMER,
  markBreakerPushFailed,
  markBreakerReportsPushed,
  pendingBreakerReports,
  pushBreakerReports,
} from "./breaker-report";
import { breakerStore } from "./breaker-store";
import { type BudgetView, budgetView, forgetBudgetRef, sharedBudgetOf } from "./budget-gate";
import { type Acquired, budgetStore } from "./budget-store";
import { queueCatchUp, takeQueuedCatchUp } from "./catch-up-queue";
import { jobCall } from "./job-call";
import { clearLeases, listLeases } from "./lease";
import { consumeStateNonce, grantRestored } from "./oauth-grants";
import { providerAuthFor } from "./provider-auth";
import { callProvider, readJson } from "./provider-call";
import { type ResyncOutcome, resyncRecord } from "./record-resync";
import { finishedLine, runLine, startedLine, stepLine } from "./run-log";
import { DEFAULT_RETRY, type SyncSettings, syncSettingsFrom } from "./settings";
import { applySqliteSchema } from "./sqlite-schema";
import { type InvocationStats, invocationStats, recordInvocation, SubrequestMeter } from "./subrequest-meter";
import { leaseName, runSyncStep, type StepOutcome } from "./sync-runner";
import {
  deleteConnectionState,
  getSyncState,
  listSyncStates,
  mirrorSyncState,
  putSyncState,
  removeMirror,
  runWasCompleteScan,
  type SyncState,
  scanEstimate,
} from "./sync-state";
import {
  clearTimer,
  completeTimer,
  dueTimers,
  listTimers,
  rearmTimer,
  setTimer,
  syncAlarm,
  type Timer,
} from "./timers";
import { refresherFor, refreshOnTimer, TOKEN_TIMER, tokenDepsFor } from "./tokens"; // issue 5: OAuth refresh
import type { IngestOutcome } from "./webhook-fetch"; // issue 5
// issue 5: webhook inbox in this object's storage, its timer, retries
import {
  drainWebhookWork,
  ingestHandedOver,
  type RecordedWebhook,
  type RecordOutcome,
  recordWebhookEvents,
  resumeConnectionWebhooks,
  scheduleWebhookRetry,
  WEBHOOK_TIMER,
} from "./webhook-inbox";

const log = logger("sync");

export type StartSyncRequest = {
  accountId: string;
  connectionId: string;
  provider: string;
  entities: string[];
  mode: SyncMode;
  /** What asks for the runs, shown in their state (`reconcile`); omitted for plain requests. */
  origin?: string;
};
export type StartSyncResult = { started: string[]; alreadyRunning: string[]; paused: boolean };
type RunTimerPayload = { accountId: string; connectionId: string; entity: string; attempt?: number };

export type EntityStatus = SyncState & {
  lease: { holder: string; expiresAt: number; expired: boolean } | null;
  nextRunAt: number | null;
  attempt: number;
  progress: {
    pages: number;
    records: number;
    total: number | null;
    etaMs: number | null;
    etaAt: number | null;
    /** Entities listed per parent: parents whose children are all listed, of those the run counted. */
    parents: { done: number; total: number } | null;
  };
};

export type ConnectionStatus = {
  connectionId: string;
  breaker: ReturnType<typeof breakerStore.view>;
  rateBudget: BudgetView;
  entities: EntityStatus[];
};

export type AccountStatus = {
  paused: boolean;
  /** Subrequests per alarm invocation (fetches, queue calls, Postgres connections): the highest and the last. */
  invocations: InvocationStats;
  connections: ConnectionStatus[];
  timers: { name: string; dueAt: number }[];
};

const LEASE_TTL_MS = 60_000;
/** Postgres unreachable: how soon a sync step is tried again (not counted against the run's attempts). */
const DB_OUTAGE_RETRY_MS = 10_000;
/** A step's wall-clock budget, well inside what an alarm invocation may take; SYNC_STEP_MS overrides it. */
const DEFAULT_STEP_MS = 10_000;
const OVERLAP_MS = 60_000;
const RUN = "run:";
const COMPLETE = "complete:";

const runTimerName = (connectionId: string, entity: string) => `${RUN}${connectionId}:${entity}`;

/**
 * One object per customer account: owns that account's cursors, leases, breakers, rate budgets and timers,
 * and runs its syncs in bounded steps driven by the single alarm.
 */
export class AccountSync extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      applySqliteSchema(ctx.storage.sql);
      clearLeases(ctx.storage.sql);
    });
  }

  private get sql() {
    return this.ctx.storage.sql;
  }

  /**
   * How sync runs and the reconciliation reach the provider; unset, the global fetch (counted per invocation).
   * Tests put a stub here to play a provider behaviour the simulator doesn't.
   */
  providerFetch: typeof fetch | undefined;

  private paused(): boolean {
    return (
      this.sql.exec<{ value: string }>("select value from meta where key = 'paused'").toArray()[0]?.value ===
      "1"
    );
  }

  private async armAlarm(): Promise<void> {
    await syncAlarm(this.ctx.storage, this.paused() ? RUN : undefined);
  }

  // ---- runs -------------------------------------------------------------------------------------------

  /** Starts a run per entity unless one is in progress; the lease, not this check, is what excludes. */
  async startSync(req: StartSyncRequest): Promise<StartSyncResult> {
    const now = Date.now();
    const result: StartSyncResult = { started: [], alreadyRunning: [], paused: this.paused() };
    const started: SyncState[] = [];
    for (const entity of req.entities) {
      const current = getSyncState(this.sql, req.connectionId, entity);
      if (current?.status === "IN_PROGRESS") {
        result.alreadyRunning.push(entity);
        continue;
      }
      const next: SyncState = {
        connectionId: req.connectionId,
        entity,
        provider: req.provider,
        mode: req.mode,
        status: "IN_PROGRESS",
        runId: crypto.randomUUID(),
        pageNo: 0,
        nextUrl: null,
        // Onboarding is a full backfill: it starts from nothing but keeps the cursor it builds for deltas.
        cursor: req.mode === "onboarding" ? null : (current?.cursor ?? null),
        lastSyncAt: current?.lastSyncAt ?? null,
        lastStartedAt: now,
        lastFinishedAt: current?.lastFinishedAt ?? null,
        recordsSynced: current?.recordsSynced ?? 0,
        runRecords: 0,
        runTotal: scanEstimate(current, connectorFor(req.provider).entities[entity]),
        errorMessage: null,
        fanOut: null,
        parentWatermark: current?.parentWatermark ?? null,
        origin: req.origin ?? null,
        runCursor: null,
        runRequests: 0,
        runRateLimited: 0,
        runProviderErrors: 0,
      };
      putSyncState(this.sql, next);
      setTimer(this.ctx.storage, runTimerName(req.connectionId, entity), now, {
        accountId: req.accountId,
        connectionId: req.connectionId,
        entity,
      } satisfies RunTimerPayload);
      result.started.push(entity);
      started.push(next);
    }
    await this.armAlarm();
    for (const s of started)
      writePoint(this.env.METRICS, "runs_started", { provider: s.provider, mode: s.mode }, 1);
    if (started.length > 0)
      await this.mirror(
        req.accountId,
        started,
        undefined,
        started.map((s) => startedLine(req.accountId, s)),
      );
    return result;
  }

  override async alarm(): Promise<void> {
    const paused = this.paused();
    const meter = new SubrequestMeter();
    const env = meter.env(this.env);
    const providerFetch = this.providerFetch ?? meter.fetch;
    for (const timer of dueTimers(this.ctx.storage, Date.now(), paused ? RUN : undefined)) {
      try {
        if (timer.name.startsWith(RUN)) await this.runTimer(timer, env, providerFetch);
        else if (timer.name.startsWith(COMPLETE)) await this.completionTimer(timer, env);
        else if (timer.name.startsWith(TOKEN_TIMER))
          await refreshOnTimer(this.ctx, env, timer.payload); // issue 5
        else if (timer.name === WEBHOOK_TIMER)
          await drainWebhookWork(this.ctx, env, { completeRun, fetch: meter.fetch }); // issue 5
      } catch (error) {
        log.error("timer failed", { timer: timer.name, error: safeErrorMessage(error) });
      }
      completeTimer(this.ctx.storage, timer);
    }
    // Armed before the metrics write: whatever happens to that write, the next timer still fires.
    await this.armAlarm();
    await this.reportBreakers(env);
    recordInvocation(this.sql, meter.counts());
  }

  /** Idempotent: a timer fired twice finds its run COMPLETED (idle) or its lease held (busy). */
  private async runTimer(timer: Timer, env: Env, fetcher: typeof fetch): Promise<void> {
    const payload = JSON.parse(timer.payload) as RunTimerPayload;
    const handle = openDb(env);
    const tenantDb = <T>(fn: (db: Db) => Promise<T>) =>
      withTenant(handle.db, payload.accountId, (tx) => fn(tx as unknown as Db));
    let settings: SyncSettings = syncSettingsFrom(undefined);
    // Pages the run had committed when this step began: a failing step that still moved on is a new failure,
    // not one more attempt at the same page.
    let pagesBefore = Number.POSITIVE_INFINITY;
    try {
      let connection: LoadedConnection;
      try {
        connection = await this.loadConnection(tenantDb, payload.accountId, payload.connectionId);
      } catch (error) {
        if (error instanceof AppError && error.status === 404) {
          await this.finishWithError(tenantDb, payload, "connection no longer exists");
          return;
        }
        throw error;
      }
      settings = syncSettingsFrom(connection.settings);
      pagesBefore = getSyncState(this.sql, payload.connectionId, payload.entity)?.pageNo ?? 0;
      const outcome = await runSyncStep(
        {
          sql: this.sql,
          tenantDb,
          queue: env.TRANSFORMS,
          fetch: fetcher,
          auth: providerAuthFor(this.ctx, this.env),
          now: Date.now,
          accountId: payload.accountId,
          connection,
          settings,
          pagesPerStep: Math.max(1, Number(this.env.SYNC_PAGES_PER_STEP ?? 25)),
          stepMs: Math.max(1, Number(this.env.SYNC_STEP_MS ?? DEFAULT_STEP_MS)),
          leaseTtlMs: LEASE_TTL_MS,
          overlapMs: OVERLAP_MS,
          onState: (s) => this.mirror(payload.accountId, [s], tenantDb),
          mirrorIn: (db, s) => mirrorSyncState(db, payload.accountId, s),
          onComplete: (s) => this.onRunComplete(handle.db, payload.accountId, s),
          backlog: backlogOf(this.env, tenantDb, payload.accountId),
        },
        payload.entity,
      );
      await this.afterStep(tenantDb, timer, payload, settings, outcome, pagesBefore);
    } catch (error) {
      await this.afterStep(
        tenantDb,
        timer,
        payload,
        settings,
        {
          kind: "failed",
          error: safeErrorMessage(error),
          unreachable: isDatabaseUnreachable(error),
        },
        pagesBefore,
      );
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
    }
  }

  private async afterStep(
    tenantDb: TenantDb,
    timer: Timer,
    p: RunTimerPayload,
    settings: SyncSettings,
    outcome: StepOutcome,
    pagesBefore = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    const name = runTimerName(p.connectionId, p.entity);
    const now = Date.now();
    const after = getSyncState(this.sql, p.connectionId, p.entity);
    if (after && outcome.kind === "completed") {
      const labels = { provider: after.provider, mode: after.mode };
      writePoint(this.env.METRICS, "runs_completed", labels, 1);
      writePoint(this.env.METRICS, "provider_requests", labels, after.runRequests ?? 0);
      writePoint(this.env.METRICS, "provider_rate_limited", labels, after.runRateLimited ?? 0);
      writePoint(this.env.METRICS, "records_fetched", labels, after.runRecords);
    }
    // A failed step's line is written with the state it leaves (below); an idle or busy step says nothing.
    if (after && outcome.kind !== "failed")
      await this.writeRunLog(tenantDb, [stepLine(p.accountId, after, outcome)]);
    if (outcome.kind === "completed") await this.startQueuedCatchUp(p, after);
    switch (outcome.kind) {
      case "continue":
        setTimer(this.ctx.storage, name, now, { ...p, attempt: 0 });
        return;
      case "busy":
        // Another step holds the lease; it re-arms the timer when it ends. Look again only if it doesn't.
        rearmTimer(this.ctx.storage, timer, now + LEASE_TTL_MS, p);
        return;
      case "parked":
      case "waiting":
        setTimer(this.ctx.storage, name, outcome.retryAt, p);
        return;
      case "failed": {
        const state = getSyncState(this.sql, p.connectionId, p.entity);
        if (state?.status !== "IN_PROGRESS") return;
        if (outcome.unreachable) {
          // Postgres unreachable: the run waits the outage out without spending its attempts, which bound
          // failures Postgres or the provider answered (the cursor only ever moved past staged pages).
          // Nothing to mirror either: Postgres is what is missing.
          setTimer(this.ctx.storage, name, now + DB_OUTAGE_RETRY_MS, p);
          return;
        }
        // The bound is on failures in a row at one position: a step that committed pages before failing
        // starts the count again, so a long run at a steady error rate is not given up part-way.
        const attempt = (state.pageNo > pagesBefore ? 0 : (p.attempt ?? 0)) + 1;
        if (attempt >= settings.retry.maxAttempts) {
          await this.finishWithError(tenantDb, p, outcome.error);
          return;
        }
        const failed = { ...state, errorMessage: outcome.error };
        putSyncState(this.sql, failed);
        const line = runLine(
          p.accountId,
          failed,
          "warn",
          `attempt ${attempt} of ${settings.retry.maxAttempts} failed: ${outcome.error}`,
        );
        // The only retry layer: nothing below this (fetch, provider call) retries on its own.
        setTimer(this.ctx.storage, name, now + fullJitterBackoffMs(attempt, settings.retry), {
          ...p,
          attempt,
        });
        await this.mirror(p.accountId, [failed], tenantDb, [line]);
        return;
      }
      default:
        return;
    }
  }

  private async finishWithError(tenantDb: TenantDb, p: RunTimerPayload, message: string) {
    const state = getSyncState(this.sql, p.connectionId, p.entity);
    if (!state) return;
    const failed: SyncState = {
      ...state,
      status: "ERROR",
      errorMessage: message,
      lastFinishedAt: Date.now(),
    };
    putSyncState(this.sql, failed);
    writePoint(this.env.METRICS, "runs_failed", { provider: failed.provider, mode: failed.mode }, 1);
    await this.mirror(p.accountId, [failed], tenantDb, [finishedLine(p.accountId, failed)]);
    await this.startQueuedCatchUp(p, failed);
  }

  /** The reconciliation's catch-up that found this entity's run in progress, now that the run has ended. */
  private async startQueuedCatchUp(p: RunTimerPayload, ended: SyncState | null): Promise<void> {
    if (!ended || ended.status === "IN_PROGRESS") return;
    if (!takeQueuedCatchUp(this.sql, p.connectionId, p.entity)) return;
    await this.startSync({
      accountId: p.accountId,
      connectionId: p.connectionId,
      provider: ended.provider,
      entities: [p.entity],
      mode: "onboarding",
      origin: "reconcile",
    });
  }

  /**
   * Applies the deletes the finished run implies (issue 4's completeRun). Its failure must not lose them:
   * a completion timer retries with backoff until it succeeds.
   */
  private async onRunComplete(db: Db, accountId: string, s: SyncState, attempt = 0): Promise<void> {
    const run = {
      accountId,
      connectionId: s.connectionId,
      provider: s.provider,
      entity: s.entity,
      runId: s.runId ?? "",
      mode: s.mode,
      fullScan: runWasCompleteScan(s, connectorFor(s.provider).entities[s.entity]),
    };
    const name = `${COMPLETE}${s.connectionId}:${s.entity}`;
    try {
      const result = await completeRun(db, run, await this.completionOptions(db, accountId, s));
      clearTimer(this.ctx.storage, name);
      await this.adaptScanCadence(db, accountId, s);
      if (result.status === "awaiting_confirmation") {
        const current = getSyncState(this.sql, s.connectionId, s.entity);
        if (current?.runId === s.runId) {
          const noted = {
            ...current,
            errorMessage: `${result.deletes} deletes await operator confirmation (pending_deletes)`,
          };
          putSyncState(this.sql, noted);
          await this.mirror(accountId, [noted], undefined, [
            runLine(accountId, noted, "warn", noted.errorMessage),
          ]);
        }
      }
    } catch (error) {
      withIds(log, { ...run, runId: s.runId ?? undefined }).warn("run completion failed", {
        error: safeErrorMessage(error),
      });
      const delay = fullJitterBackoffMs(attempt + 1, DEFAULT_RETRY);
      setTimer(this.ctx.storage, name, Date.now() + delay, { accountId, state: s, attempt: attempt + 1 });
      await this.armAlarm();
    }
  }

  private async completionTimer(timer: Timer, env: Env): Promise<void> {
    const p = JSON.parse(timer.payload) as { accountId: string; state: SyncState; attempt: number };
    const handle = openDb(env);
    try {
      await this.onRunComplete(handle.db, p.accountId, p.state, p.attempt);
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
    }
  }

  /**
   * What the breakers did since the last report, on one connection: transitions into the durable metric
   * counters (one statement), and open/closed changes into `connection_breakers` (one statement), where the
   * breaker-open alert reads them. Never throws: what is not written stays pending for the next report.
   */
  private async reportBreakers(env: Env): Promise<void> {
    const pending = unreportedTransitions(this.sql);
    const states = pendingBreakerReports(this.sql);
    if (pending.length === 0 && states.length === 0) return;
    const handle = openDb(env);
    try {
      if (pending.length > 0) {
        try {
          await countEvents(handle.db, transitionIncrements(pending), env.METRICS);
          markReported(this.sql, pending);
        } catch (error) {
          // Left unreported: the next alarm tries again.
          log.warn("breaker metrics not written", { error: safeErrorMessage(error) });
        }
      }
      if (states.length > 0) await this.pushBreakerStates(handle.db, states);
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
    }
  }

  /**
   * Breaker states into Postgres on the account's tenant. A failed push is retried by its own timer with
   * backoff, BREAKER_REPORT_ATTEMPTS times; after that it waits for a later alarm or the breaker's next change.
   */
  private async pushBreakerStates(db: Db, states: ReturnType<typeof pendingBreakerReports>): Promise<void> {
    // The object is named by its account (src/sync/stubs.ts).
    const accountId = this.ctx.id.name;
    if (!accountId) return;
    try {
      await inTenant(db, accountId, (tx) => pushBreakerReports(tx, accountId, states));
      markBreakerReportsPushed(this.sql, states);
    } catch (error) {
      const message = safeErrorMessage(error);
      const { retryAt, exhausted } = markBreakerPushFailed(this.sql, states, message, Date.now());
      if (exhausted.length > 0)
        log.error("breaker state not reported to Postgres; retried at the next alarm or change", {
          connectionIds: exhausted,
          error: message,
        });
      else log.warn("breaker state not reported to Postgres", { error: message });
      if (retryAt !== null) {
        setTimer(this.ctx.storage, BREAKER_REPORT_TIMER, retryAt, {});
        await this.armAlarm();
      }
    }
  }

  /** After a call outside the alarm that may have moved a breaker: reported without holding the caller. */
  private reportBreakersSoon(): void {
    if (pendingBreakerReports(this.sql).length > 0) this.ctx.waitUntil(this.reportBreakers(this.env));
  }

  /** A run's log lines, best effort: a line lost to an outage must not fail or delay the run. */
  private async writeRunLog(tenantDb: TenantDb, lines: (RunLogLine | null)[]): Promise<void> {
    const kept = lines.filter((l): l is RunLogLine => l !== null);
    if (kept.length === 0) return;
    emitRunLines(kept);
    try {
      await tenantDb((db) => appendRunLogs(db, kept));
    } catch (error) {
      withIds(log, kept[0] ?? {}).warn("run log write failed", { error: safeErrorMessage(error) });
    }
  }

  private async mirror(
    accountId: string,
    states: SyncState[],
    tenantDb?: TenantDb,
    lines: (RunLogLine | null)[] = [],
  ): Promise<void> {
    const kept = lines.filter((l): l is RunLogLine => l !== null);
    emitRunLines(kept);
    const write = async (db: Db) => {
      await Promise.all(states.map((s) => mirrorSyncState(db, accountId, s)));
      // After the states: a run's row exists before its lines may count against it.
      await appendRunLogs(db, kept);
    };
    try {
      if (tenantDb) await tenantDb(write);
      else {
        const handle = openDb(this.env);
        try {
          await withTenant(handle.db, accountId, (tx) => write(tx as unknown as Db));
        } finally {
          this.ctx.waitUntil(handle.close().catch(() => {}));
        }
      }
    } catch (error) {
      // The object's SQLite is the truth; the mirror catches up on the next change.
      withIds(log, { accountId }).warn("sync state mirror failed", { error: safeErrorMessage(error) });
    }
  }

  /**
   * After a complete scan of an entity listed whole on every run: the connection's cadence follows what one
   * round of such scans costs against its rate budget (scan-cadence.ts). Best effort: the old cadence stays.
   */
  private async adaptScanCadence(db: Db, accountId: string, s: SyncState): Promise<void> {
    const entities = connectorFor(s.provider).entities;
    if (!entities[s.entity]?.completeScans) return;
    const requests = listSyncStates(this.sql)
      .filter((x) => x.connectionId === s.connectionId && entities[x.entity]?.completeScans)
      .reduce((n, x) => n + x.pageNo, 0);
    try {
      const budget = await budgetView(this.sql, s.connectionId, Date.now());
      const minutes = scanIntervalMinutes({ requests, limit: budget.limit, windowMs: budget.windowMs });
      await setScanInterval(db, accountId, s.connectionId, minutes);
    } catch (error) {
      withIds(log, { accountId, connectionId: s.connectionId }).warn("scan cadence not updated", {
        error: safeErrorMessage(error),
      });
    }
  }

  /** An entity whose absences are confirmed with the provider gets its checker (absence-check.ts). */
  private async completionOptions(db: Db, accountId: string, s: SyncState): Promise<CompletionOptions> {
    const entity = connectorFor(s.provider).entities[s.entity];
    if (!entity?.confirmAbsence) return {};
    const tenantDb = <T>(fn: (db: Db) => Promise<T>) =>
      withTenant(db, accountId, (tx) => fn(tx as unknown as Db));
    const connection = await this.loadConnection(tenantDb, accountId, s.connectionId);
    const check = absenceChecker(
      {
        sql: this.sql,
        fetch: this.providerFetch ?? ((i, init) => fetch(i, init)),
        auth: providerAuthFor(this.ctx, this.env),
        now: Date.now,
      },
      connection,
      entity,
    );
    return check ? { confirmAbsent: check } : {};
  }

  private async loadConnection(tenantDb: TenantDb, accountId: string, connectionId: string) {
    const keyring = await parseKeyring(this.env.CREDENTIALS_KEY);
    return tenantDb((db) => loadConnection(db, keyring, accountId, connectionId));
  }

  // ---- operator controls -------------------------------------------------------------------------------

  async pause(): Promise<{ paused: true }> {
    this.sql.exec("insert or replace into meta (key, value) values ('paused', '1')");
    await this.armAlarm();
    return { paused: true };
  }

  async resume(): Promise<{ paused: false }> {
    this.sql.exec("delete from meta where key = 'paused'");
    await this.armAlarm();
    return { paused: false };
  }

  /**
   * Forgets an entity's delta cursor (for an entity listed per parent, its parent watermark) so its next delta
   * reads everything; refused while it runs.
   */
  async resetCursor(accountId: string, connectionId: string, entity: string): Promise<SyncState | null> {
    const state = getSyncState(this.sql, connectionId, entity);
    if (!state) return null;
    if (state.status === "IN_PROGRESS") {
      throw new AppError(409, "sync_in_progress", `a ${state.mode} run of ${entity} is in progress`);
    }
    const next = { ...state, cursor: null, parentWatermark: null };
    putSyncState(this.sql, next);
    await this.mirror(accountId, [next]);
    return next;
  }

  /** Operator override: "open" or "closed" pins the breaker, "auto" returns it to its own judgement. */
  async setBreaker(connectionId: string, mode: "open" | "closed" | "auto") {
    breakerStore.force(this.sql, connectionId, mode === "auto" ? null : mode, Date.now());
    // An operator's call, not the provider path: the alert sees the override as soon as this returns.
    await this.reportBreakers(this.env);
    // Parked runs retry at once: a forced close should take effect now, a forced open re-parks them.
    if (mode !== "open") {
      for (const t of listTimers(this.ctx.storage)) {
        if (t.name.startsWith(`${RUN}${connectionId}:`))
          setTimer(this.ctx.storage, t.name, Date.now(), JSON.parse(t.payload));
      }
      await this.armAlarm();
    }
    return breakerStore.view(this.sql, connectionId, Date.now());
  }

  /**
   * Takes one request from the connection's budget of a rate context (the default one when not named), for
   * callers outside the sync runner: the credential's shared budget once the connection has used one, else its
   * own. Not granted: call again at retryAt, via the alarm.
   */
  async acquireBudget(
    connectionId: string,
    priority: Priority,
    policy?: RateLimitPolicy,
    context?: string,
  ): Promise<Acquired> {
    const shared = sharedBudgetOf(this.sql, connectionId);
    if (shared && policy)
      return shared.acquire(priority, policy, context ?? policy.defaultContext ?? DEFAULT_CONTEXT);
    return budgetStore.acquire(this.sql, connectionId, priority, Date.now(), policy, context);
  }

  /** Drops everything the object keeps about a connection (it was deleted). */
  async forgetConnection(connectionId: string, provider?: string): Promise<void> {
    for (const t of listTimers(this.ctx.storage)) {
      if (t.name.startsWith(`${RUN}${connectionId}:`)) clearTimer(this.ctx.storage, t.name);
    }
    deleteConnectionState(this.sql, connectionId);
    this.sql.exec("delete from leases where name like ?", `${leaseName(connectionId, "")}%`);
    breakerStore.remove(this.sql, connectionId);
    budgetStore.remove(this.sql, connectionId);
    forgetBudgetRef(this.sql, connectionId);
    await this.armAlarm();
    if (provider) {
      const handle = openDb(this.env);
      try {
        await removeMirror(handle.db, provider, connectionId);
      } catch {
        // Mirror rows of a deleted connection are harmless; the object no longer reports them.
      } finally {
        this.ctx.waitUntil(handle.close().catch(() => {}));
      }
    }
  }

  /**
   * The account is being purged: drops all of its state (every SQLite table and the alarm) like
   * forgetAccount, and answers how many rows each table held.
   */
  async purge(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const tables = this.sql
      .exec<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' and name not like '\\_cf\\_%' escape '\\'",
      )
      .toArray();
    for (const { name } of tables) {
      const row = this.sql
        .exec<{ n: number }>(`select count(*) as n from "${name.replaceAll('"', '""')}"`)
        .one();
      counts[name] = row.n;
    }
    await this.forgetAccount();
    return counts;
  }

  /** Drops all of the account's state (the account was deleted). */
  async forgetAccount(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    applySqliteSchema(this.sql);
  }

  /** Fetches one record by its provider id through the connection's gate and stages it (an operator's resync). */
  async resyncRecord(req: {
    accountId: string;
    connectionId: string;
    entity: string;
    sourceId: string;
  }): Promise<ResyncOutcome> {
    const handle = openDb(this.env);
    const tenantDb = <T>(fn: (db: Db) => Promise<T>) =>
      withTenant(handle.db, req.accountId, (tx) => fn(tx as unknown as Db));
    try {
      const connection = await this.loadConnection(tenantDb, req.accountId, req.connectionId);
      return await resyncRecord(
        {
          db: handle.db,
          sql: this.sql,
          queue: this.env.TRANSFORMS,
          fetch: this.providerFetch ?? ((i, init) => fetch(i, init)),
          auth: providerAuthFor(this.ctx, this.env),
          now: Date.now,
        },
        connection,
        req.entity,
        req.sourceId,
      );
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
      this.reportBreakersSoon();
    }
  }

  // ---- periodic jobs ------------------------------------------------------------------------------------

  /** A connector job's provider call, through this account's gate for the connection (job-call.ts). */
  async jobCall(req: JobCallRequest): Promise<JobCallAnswer> {
    const handle = openDb(this.env);
    const tenantDb = <T>(fn: (db: Db) => Promise<T>) =>
      withTenant(handle.db, req.accountId, (tx) => fn(tx as unknown as Db));
    try {
      const connection = await this.loadConnection(tenantDb, req.accountId, req.connectionId);
      return await jobCall(
        {
          sql: this.sql,
          fetch: this.providerFetch ?? ((i, init) => fetch(i, init)),
          auth: providerAuthFor(this.ctx, this.env),
          now: Date.now,
        },
        connection,
        syncSettingsFrom(connection.settings),
        req,
      );
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
      this.reportBreakersSoon();
    }
  }

  // ---- reconciliation ------------------------------------------------------------------------------------

  /** Daily: provider totals vs our core counts per entity, recorded in `<provider>_sync_jobs`; mismatches catch up. */
  async reconcile(req: { accountId: string; connectionId: string }): Promise<EntityReconciliation[]> {
    const handle = openDb(this.env);
    const tenantDb = <T>(fn: (db: Db) => Promise<T>) =>
      withTenant(handle.db, req.accountId, (tx) => fn(tx as unknown as Db));
    try {
      const connection = await this.loadConnection(tenantDb, req.accountId, req.connectionId);
      const settings = syncSettingsFrom(connection.settings);
      const entities = Object.values(connection.connector.entities).map((e) => ({
        name: e.name,
        // The connector says which entities have a cheap count (a list needing a parent filter has none).
        countable:
          connection.connector.totalUrl({
            baseUrl: connection.baseUrl,
            entity: e,
            credentials: connection.credentials,
          }) !== null,
      }));
      const results = await reconcileEntities({
        entities,
        providerTotal: (entity) => this.providerTotal(connection, settings, entity),
        ourCount: async (entity) => {
          const def = connection.connector.entities[entity];
          return def
            ? tenantDb((db) => countCoreRows(db, def.coreTable, req.accountId, connection.id))
            : null;
        },
        startCatchUp: async (entity) => {
          const started = await this.startSync({
            accountId: req.accountId,
            connectionId: connection.id,
            provider: connection.provider,
            entities: [entity],
            mode: "onboarding",
            origin: "reconcile",
          });
          if (started.started.includes(entity)) return true;
          // A delta of the entity is in progress (often one the same scheduler tick started): the catch-up
          // starts when it ends instead of waiting for tomorrow's reconciliation. A running complete scan is
          // already the catch-up.
          const running = getSyncState(this.sql, connection.id, entity);
          if (started.alreadyRunning.includes(entity) && running?.mode !== "onboarding") {
            queueCatchUp(this.sql, { accountId: req.accountId, connectionId: connection.id, entity });
            return true;
          }
          return false;
        },
      });
      await tenantDb((db) => recordCounts(db, connection.provider, req.accountId, connection.id, results));
      return results;
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
      this.reportBreakersSoon();
    }
  }

  /** The provider's count of an entity, read with the one cheap request its connector names. */
  private async providerTotal(connection: LoadedConnection, settings: SyncSettings, entityName: string) {
    const entity = connection.connector.entities[entityName];
    const url = entity
      ? connection.connector.totalUrl({
          baseUrl: connection.baseUrl,
          entity,
          credentials: connection.credentials,
        })
      : null;
    if (!entity || url === null) return null;
    const call = await callProvider(
      {
        sql: this.sql,
        fetch: this.providerFetch ?? ((i, init) => fetch(i, init)),
        auth: providerAuthFor(this.ctx, this.env),
        now: Date.now,
      },
      { connection, priority: "backfill", breaker: settings.breaker, timeoutMs: settings.requestTimeoutMs },
      url,
    );
    if (call.kind === "parked") throw new Error(`provider not called: ${call.reason}`);
    if (call.kind === "failure") throw new Error(call.error);
    if (call.kind === "rejected") throw new Error(`HTTP ${call.status}`);
    const body = await readJson(call.response);
    if (!body.ok) throw new Error(body.error);
    return connection.connector.totalOf(body.body, entity, url);
  }

  // ---- webhooks and OAuth tokens (issue 5; logic in ./webhook-fetch.ts and ./tokens.ts) ----------------------

  /**
   * Records a verified delivery durably in this object's storage (what the webhook route's 2xx promises;
   * the answer leaves only once the write is durable); the webhook timer copies it to Postgres and fetches.
   */
  async recordWebhook(event: RecordedWebhook): Promise<RecordOutcome> {
    return this.recordTogether(event);
  }

  /** Deliveries that reach the object together share one write and one commit. */
  private readonly recordTogether = sharedCommit<RecordedWebhook, RecordOutcome>(async (events) => {
    const { outcomes, armAlarm } = recordWebhookEvents(this.ctx.storage, events, Date.now());
    if (armAlarm) await this.armAlarm();
    return outcomes;
  });

  /** Queues an inbox event on the webhook timer, due now (the cron sweep's hand-off); idempotent. */
  async queueWebhook(req: IngestRequest): Promise<void> {
    if (scheduleWebhookRetry(this.ctx.storage, req, Date.now(), 0)) await this.armAlarm();
  }

  /** Fetches and stages what a recorded webhook event refers to; idempotent, so the inbox sweep may re-send. */
  async ingestWebhook(req: IngestRequest): Promise<IngestOutcome> {
    const outcome = await ingestHandedOver(this.ctx, this.env, req, completeRun);
    this.reportBreakersSoon();
    // Left pending, it waits on the webhook timer.
    if (outcome.status === "pending") await this.armAlarm();
    return outcome;
  }

  /** A valid OAuth access token for the connection, refreshed ahead of expiry, one refresh at a time. */
  async accessToken(req: { accountId: string; connectionId: string }): Promise<string> {
    try {
      return await refresherFor(this.ctx, () => tokenDepsFor(this.ctx, this.env)).accessToken(
        req.accountId,
        req.connectionId,
      );
    } finally {
      // A refused grant forces the breaker open.
      this.reportBreakersSoon();
    }
  }

  /** Marks an OAuth state's nonce used; false when it was (a replayed callback). */
  async consumeOAuthState(req: { nonce: string; expiresAt: number }): Promise<boolean> {
    return consumeStateNonce(this.sql, req.nonce, req.expiresAt, Date.now());
  }

  /** A connection was (re-)authorised through the connect flow: its calls may reach the provider again. */
  async grantRestored(req: { connectionId: string; wasAuthFailed: boolean }): Promise<void> {
    grantRestored(this.sql, req.connectionId, req.wasAuthFailed, Date.now());
    this.reportBreakersSoon();
    if (!req.wasAuthFailed) return;
    // Runs parked on the refused grant go on now rather than at their parked time.
    for (const t of listTimers(this.ctx.storage)) {
      if (t.name.startsWith(`${RUN}${req.connectionId}:`))
        setTimer(this.ctx.storage, t.name, Date.now(), JSON.parse(t.payload));
    }
    // So do the webhook events that waited on it.
    resumeConnectionWebhooks(this.ctx.storage, this.sql, req.connectionId, Date.now());
    await this.armAlarm();
  }

  // ---- end of issue 5 block ------------------------------------------------------------------------------

  // ---- reporting ---------------------------------------------------------------------------------------------

  async status(connectionIds: string[] = []): Promise<AccountStatus> {
    const now = Date.now();
    const leases = new Map(listLeases(this.sql, now).map((l) => [l.name, l]));
    const timers = listTimers(this.ctx.storage);
    const timerByName = new Map(timers.map((t) => [t.name, t]));
    const states = listSyncStates(this.sql);
    const ids = [...new Set([...connectionIds, ...states.map((s) => s.connectionId)])];
    // A shared budget is read from its object (one call per connection, in parallel).
    const budgets = await Promise.all(ids.map((id) => budgetView(this.sql, id, now)));
    return {
      paused: this.paused(),
      invocations: invocationStats(this.sql),
      timers: timers.map((t) => ({ name: t.name, dueAt: t.dueAt })),
      connections: ids.map((connectionId, i) => ({
        connectionId,
        breaker: breakerStore.view(this.sql, connectionId, now),
        rateBudget: budgets[i] as BudgetView,
        entities: states
          .filter((s) => s.connectionId === connectionId)
          .map((s) => {
            const lease = leases.get(leaseName(s.connectionId, s.entity));
            const timer = timerByName.get(runTimerName(s.connectionId, s.entity));
            return {
              ...s,
              lease: lease
                ? { holder: lease.holder, expiresAt: lease.expiresAt, expired: lease.expired }
                : null,
              nextRunAt: timer?.dueAt ?? null,
              attempt: timer ? ((JSON.parse(timer.payload) as RunTimerPayload).attempt ?? 0) : 0,
              progress: progressOf(s, now),
            };
          }),
      })),
    };
  }
}

type TenantDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;

/** A run's lines also go to the structured log (Workers Logs), with the run's ids on each. */
function emitRunLines(lines: RunLogLine[]): void {
  for (const l of lines) {
    const { accountId, connectionId, entity, runId, provider } = l;
    const line = withIds(log, { accountId, connectionId, entity, runId }).with({ provider });
    // The text goes in as a property: LogTape would read braces in a message as placeholders.
    const props = { message: l.message };
    if (l.level === "error") line.error("{message}", props);
    else if (l.level === "warn") line.warn("{message}", props);
    else line.info("{message}", props);
  }
}

/** The account's share of the transform queue a backfill may hold (see StepDeps.backlog). */
function backlogOf(env: Env, tenantDb: TenantDb, accountId: string) {
  const limit = inflightPagesOf(env.BACKFILL_INFLIGHT_PAGES);
  return { limit, pending: () => tenantDb((db) => pendingTransformPages(db, accountId, limit + 1)) };
}

/** Pages and records done, the provider's total when it gave one, and an ETA from the run's own pace. */
export function progressOf(s: SyncState, now: number): EntityStatus["progress"] {
  let etaMs: number | null = null;
  if (s.status === "IN_PROGRESS" && s.runTotal !== null && s.runRecords > 0 && s.lastStartedAt !== null) {
    const elapsed = Math.max(1, now - s.lastStartedAt);
    const remaining = Math.max(0, s.runTotal - s.runRecords);
    etaMs = Math.round((elapsed / s.runRecords) * remaining);
  } else if (s.status === "COMPLETED") {
    etaMs = 0;
  }
  const fan = s.fanOut ?? null;
  // A run listed per parent has no record total; its pace is parents per unit of time.
  if (fan && s.status === "IN_PROGRESS" && fan.parentsDone > 0 && s.lastStartedAt !== null) {
    const elapsed = Math.max(1, now - s.lastStartedAt);
    etaMs = Math.round((elapsed / fan.parentsDone) * Math.max(0, fan.parentsTotal - fan.parentsDone));
  }
  return {
    pages: s.pageNo,
    records: s.runRecords,
    total: s.runTotal,
    etaMs,
    etaAt: etaMs === null ? null : now + etaMs,
    parents: fan ? { done: fan.parentsDone, total: fan.parentsTotal } : null,
  };
}

/** Provider entity names, for callers that validate input before reaching the object. */
export const entitiesOf = (provider: string) => Object.keys(connectorFor(provider).entities);

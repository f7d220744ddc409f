import { sql as pgsql } from "drizzle-orm";
import type { EntityDef, SyncMode } from "../src/connectors/types";
import type { Cursor } from "../src/core/cursor";
import type { Db } from "../src/db/client";
import { entityColumnPrefix, mirrorIdent } from "../src/db/schema/sync";
import { refreshFailureSummary } from "../src/pipeline/run-stats";

export type SyncStatus = "PENDING" | "IN_PROGRESS" | "COMPLETED" | "ERROR";

export type SyncState = {
  connectionId: string;
  entity: string;
  provider: string;
  mode: SyncMode;
  status: SyncStatus;
  runId: string | null;
  pageNo: number;
  nextUrl: string | null;
  /** Committed delta cursor: the newest (updated, id) a completed or in-flight run has durably staged. */
  cursor: Cursor | null;
  lastSyncAt: number | null;
  lastStartedAt: number | null;
  lastFinishedAt: number | null;
  recordsSynced: number;
  runRecords: number;
  runTotal: number | null;
  errorMessage: string | null;
  /** Where a run listed per parent is (entities declaring `parent`); null for other entities. */
  fanOut?: FanOut | null;
  /**
   * Postgres time the last completed run of a per-parent entity began reading its parents: the next delta run
   * re-lists the children of parents written since then.
   */
  parentWatermark?: string | null;
  /**
   * What started the run: `schedule` (the delta cron), `reconcile` (the daily drift repair); null for a plain
   * request (an operator's, recorded as `manual` in the run history).
   */
  origin?: string | null;
  /**
   * Highest cursor a run of a descending (newest-first) entity has seen so far; it becomes `cursor` only when
   * the run completes, so a run that stops part-way leaves the old cursor in place.
   */
  runCursor?: Cursor | null;
  /** Provider requests the run made so far, and how many of them were refused with 429. */
  runRequests?: number;
  runRateLimited?: number;
  /** Of those, the ones that failed (5xx, timeout, network error): the alerts' provider error rate. */
  runProviderErrors?: number;
};

/**
 * Position of a run over the parents of a per-parent entity. A crash resumes at `current`'s committed page
 * (`SyncState.nextUrl`, or its first page when null); the next parent is the first id after `current`.
 */
export type FanOut = {
  /** Parent whose children are being listed; null once the run is done. */
  current: string | null;
  /** Ancestors' ids of `current`, for the path of a nested entity (empty for one level). */
  currentAncestors?: Record<string, string> | null;
  /** Last parent whose children are all committed. */
  done: string | null;
  parentsDone: number;
  /** Parents the run will list, counted when it began (the set may move a little while it runs). */
  parentsTotal: number;
  /** Postgres time the run began reading parents (its `now()`), the next run's watermark once it completes. */
  startedAt: string;
  /** Only parents written since this Postgres time (a delta run); null: every parent. */
  since: string | null;
};

/**
 * Whether a finished run saw every record the provider has, so that what it did not see is gone: an onboarding
 * (or reconciliation) run, or a run of an entity that lists everything on every run (versioned by content, or
 * declared `completeScans`), unless it listed only the children of the parents that changed, which says
 * nothing of the others' children.
 */
export function runWasCompleteScan(
  s: SyncState,
  entity: Pick<EntityDef, "versioning" | "completeScans"> | undefined,
): boolean {
  if (s.mode === "onboarding") return true;
  if (s.fanOut?.since) return false;
  return entity?.versioning === "contentHash" || entity?.completeScans === true;
}

type Row = {
  connection_id: string;
  entity: string;
  provider: string;
  mode: string;
  status: string;
  run_id: string | null;
  page_no: number;
  next_url: string | null;
  cursor_json: string | null;
  run_cursor_json?: string | null;
  last_sync_at: number | null;
  last_started_at: number | null;
  last_finished_at: number | null;
  records_synced: number;
  run_records: number;
  run_total: number | null;
  error_message: string | null;
  fan_out_json: string | null;
  parent_watermark: string | null;
  origin: string | null;
  run_requests: number | null;
  run_rate_limited: number | null;
  run_provider_errors: number | null;
};

function fromRow(r: Row): SyncState {
  return {
    connectionId: r.connection_id,
    entity: r.entity,
    provider: r.provider,
    mode: r.mode as SyncMode,
    status: r.status as SyncStatus,
    runId: r.run_id,
    pageNo: r.page_no,
    nextUrl: r.next_url,
    cursor: r.cursor_json ? (JSON.parse(r.cursor_json) as Cursor) : null,
    lastSyncAt: r.last_sync_at,
    lastStartedAt: r.last_started_at,
    lastFinishedAt: r.last_finished_at,
    recordsSynced: r.records_synced,
    runRecords: r.run_records,
    runTotal: r.run_total,
    errorMessage: r.error_message,
    fanOut: r.fan_out_json ? (JSON.parse(r.fan_out_json) as FanOut) : null,
    parentWatermark: r.parent_watermark ?? null,
    origin: r.origin ?? null,
    runCursor: r.run_cursor_json ? (JSON.parse(r.run_cursor_json) as Cursor) : null,
    runRequests: r.run_requests ?? 0,
    runRateLimited: r.run_rate_limited ?? 0,
    runProviderErrors: r.run_provider_errors ?? 0,
  };
}

/**
 * What a new run of an entity versioned by content is expected to list: every such run is a complete scan and
 * the provider gives no total, so the previous complete scan's count is the best estimate of this one's. It
 * stands in for the run's total until a page names one, so the status shows progress and an ETA from the first
 * page. Null for other entities, for children listed per parent (their ETA comes from parents done), and when
 * no complete run came before.
 */
export function scanEstimate(
  previous: SyncState | null | undefined,
  entity: EntityDef | undefined,
): number | null {
  if (entity?.versioning !== "contentHash" || entity.parent) return null;
  if (previous?.status !== "COMPLETED" || previous.runRecords <= 0) return null;
  return previous.runRecords;
}

export function getSyncState(sql: SqlStorage, connectionId: string, entity: string): SyncState | null {
  const row = sql
    .exec<Row>("select * from sync_state where connection_id = ? and entity = ?", connectionId, entity)
    .toArray()[0];
  return row ? fromRow(row) : null;
}

export function listSyncStates(sql: SqlStorage): SyncState[] {
  return sql.exec<Row>("select * from sync_state order by connection_id, entity").toArray().map(fromRow);
}

/** One synchronous statement: the cursor, page and counters move together or not at all. */
export function putSyncState(sql: SqlStorage, s: SyncState): void {
  sql.exec(
    `insert or replace into sync_state (connection_id, entity, provider, mode, status, run_id, page_no, next_url,
       cursor_json, last_sync_at, last_started_at, last_finished_at, records_synced, run_records, run_total, error_message,
       fan_out_json, parent_watermark, origin, run_cursor_json, run_requests, run_rate_limited,
       run_provider_errors)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    s.connectionId,
    s.entity,
    s.provider,
    s.mode,
    s.status,
    s.runId,
    s.pageNo,
    s.nextUrl,
    s.cursor ? JSON.stringify(s.cursor) : null,
    s.lastSyncAt,
    s.lastStartedAt,
    s.lastFinishedAt,
    s.recordsSynced,
    s.runRecords,
    s.runTotal,
    s.errorMessage,
    s.fanOut ? JSON.stringify(s.fanOut) : null,
    s.parentWatermark ?? null,
    s.origin ?? null,
    s.runCursor ? JSON.stringify(s.runCursor) : null,
    s.runRequests ?? 0,
    s.runRateLimited ?? 0,
    s.runProviderErrors ?? 0,
  );
}

export function deleteConnectionState(sql: SqlStorage, connectionId: string): void {
  sql.exec("delete from sync_state where connection_id = ?", connectionId);
}

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

const ident = mirrorIdent;

/**
 * Mirrors one entity's state to Postgres in a single statement: `<provider>_sync_state` (one row per
 * entity), `<provider>_sync_jobs` (the entity's columns of the connection's row, latest run of any mode) and,
 * for onboarding runs, `<provider>_onboarding_jobs` with progress, and the run's row in `sync_runs` (what it
 * fetched; the consumer adds what it wrote). Operators query these with SQL; the object stays the source of
 * truth. A finished run's status is then checked against the entity's open failed records, so it reads
 * COMPLETED_WITH_ERRORS rather than COMPLETED when records failed.
 */
export async function mirrorSyncState(db: Db, accountId: string, s: SyncState): Promise<void> {
  const p = entityColumnPrefix(s.entity);
  const col = (suffix: string) => pgsql.raw(ident(`${p}_${suffix}`));
  const stateTable = pgsql.raw(ident(`${s.provider}_sync_state`));
  const jobsTable = pgsql.raw(ident(`${s.provider}_sync_jobs`));
  const onboardingTable = pgsql.raw(ident(`${s.provider}_onboarding_jobs`));
  const onboarding =
    s.mode === "onboarding"
      ? pgsql`, o as (
          insert into ${onboardingTable} (connection_id, account_id, ${col("status")}, ${col("last_started_at")},
            ${col("last_finished_at")}, ${col("pages")}, ${col("records")}, ${col("total")}, updated_at)
          values (${s.connectionId}, ${accountId}, ${s.status}, ${iso(s.lastStartedAt)}, ${iso(s.lastFinishedAt)},
            ${s.pageNo}, ${s.runRecords}, ${s.runTotal}, now())
          on conflict (connection_id) do update set ${col("status")} = excluded.${col("status")},
            ${col("last_started_at")} = excluded.${col("last_started_at")},
            ${col("last_finished_at")} = excluded.${col("last_finished_at")},
            ${col("pages")} = excluded.${col("pages")}, ${col("records")} = excluded.${col("records")},
            ${col("total")} = excluded.${col("total")}, updated_at = now())`
      : pgsql``;
  const finished = s.status === "COMPLETED" || s.status === "ERROR";
  const run = s.runId
    ? pgsql`, r as (
          insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, status, started_at,
            finished_at, pages, fetched, error_message, trigger, requests, rate_limited, provider_errors)
          values (${accountId}, ${s.connectionId}, ${s.provider}, ${s.entity}, ${s.runId}, ${s.mode}, ${s.status},
            coalesce(${iso(s.lastStartedAt)}::timestamptz, now()), ${finished ? iso(s.lastFinishedAt ?? s.lastSyncAt) : null},
            ${s.pageNo}, ${s.runRecords}, ${s.errorMessage}, ${s.origin ?? "manual"}, ${s.runRequests ?? 0},
            ${s.runRateLimited ?? 0}, ${s.runProviderErrors ?? 0})
          on conflict (connection_id, entity, run_id) do update set mode = excluded.mode,
            status = excluded.status, finished_at = excluded.finished_at, pages = excluded.pages,
            fetched = excluded.fetched, error_message = excluded.error_message, trigger = excluded.trigger,
            requests = excluded.requests, rate_limited = excluded.rate_limited,
            provider_errors = excluded.provider_errors, updated_at = now())${
              s.pageNo === 0
                ? pgsql`, abandoned as (
          update sync_runs set status = 'ABANDONED', updated_at = now()
          where connection_id = ${s.connectionId} and entity = ${s.entity} and run_id <> ${s.runId}
            and status = 'IN_PROGRESS')`
                : pgsql``
            }`
    : pgsql``;
  await db.execute(pgsql`
    with st as (
      insert into ${stateTable} (account_id, connection_id, entity, mode, status, cursor, last_sync_at,
        last_started_at, last_finished_at, records_synced, error_message, updated_at)
      values (${accountId}, ${s.connectionId}, ${s.entity}, ${s.mode}, ${s.status},
        ${s.cursor ? JSON.stringify(s.cursor) : null}::jsonb, ${iso(s.lastSyncAt)}, ${iso(s.lastStartedAt)},
        ${iso(s.lastFinishedAt)}, ${s.recordsSynced}, ${s.errorMessage}, now())
      on conflict (connection_id, entity) do update set
        mode = excluded.mode, status = excluded.status, cursor = excluded.cursor, last_sync_at = excluded.last_sync_at,
        last_started_at = excluded.last_started_at, last_finished_at = excluded.last_finished_at,
        records_synced = excluded.records_synced, error_message = excluded.error_message, updated_at = now()
    )${onboarding}${run}
    insert into ${jobsTable} (connection_id, account_id, ${col("status")}, ${col("last_started_at")},
      ${col("last_finished_at")}, updated_at)
    values (${s.connectionId}, ${accountId}, ${s.status}, ${iso(s.lastStartedAt)}, ${iso(s.lastFinishedAt)}, now())
    on conflict (connection_id) do update set ${col("status")} = excluded.${col("status")},
      ${col("last_started_at")} = excluded.${col("last_started_at")},
      ${col("last_finished_at")} = excluded.${col("last_finished_at")}, updated_at = now()`);
  if (s.status === "COMPLETED") {
    await refreshFailureSummary(db, { provider: s.provider, connectionId: s.connectionId, entity: s.entity });
  }
}

/** Drops a connection's mirror rows (the connection was deleted). */
export async function removeMirror(db: Db, provider: string, connectionId: string): Promise<void> {
  for (const suffix of ["sync_state", "sync_jobs", "onboarding_jobs"]) {
    await db.execute(
      pgsql`delete from ${pgsql.raw(ident(`${provider}_${suffix}`))} where connection_id = ${connectionId}`,
    );
  }
}

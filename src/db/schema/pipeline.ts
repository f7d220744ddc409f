import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { nextFetchSeq, scopeColumns, tz } from "./columns";

/**
 * Raw provider records as fetched, one row per record of a page. Keyed by (run, page, record) so a page
 * fetched again after a crash overwrites its own rows instead of adding new ones.
 */
export const stageRecords = pgTable(
  "stage_records",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ...scopeColumns(),
    runId: text("run_id").notNull(),
    pageNo: integer("page_no").notNull(),
    seq: integer("seq").notNull(),
    sourceId: text("source_id"),
    op: text("op").notNull().default("upsert"),
    // json, not jsonb: the consumer reads the payload back whole (only a staged delete's two fields are read
    // in SQL), so Postgres keeps the text instead of building and later printing a binary tree (0009).
    payload: json("payload").notNull(),
    /** Fetch order (columns.ts fetchSeq); a page staged again takes new values, it was fetched again. */
    fetchSeq: bigint("fetch_seq", { mode: "number" }).notNull().default(nextFetchSeq),
    stagedAt: tz("staged_at").notNull().defaultNow(),
    doneAt: tz("done_at"),
  },
  // No index mentions done_at, so marking a row done is a HOT update (the table keeps half of each page free
  // for it, migration 0008): no index entries, and WAL for only the changed bytes instead of the whole row.
  // Pending pages are found through stage_pending_pages instead.
  (t) => [
    uniqueIndex("stage_records_page_uq").on(t.connectionId, t.entity, t.runId, t.pageNo, t.seq),
    index("stage_records_staged_idx").on(t.stagedAt),
    // Run completion reads a run's staged deletes; op doesn't change when a row is marked done.
    index("stage_records_deletes_idx").on(t.connectionId, t.entity, t.runId).where(sql`${t.op} = 'delete'`),
  ],
);

/**
 * Where each staging run began: the fetch_seq of its first staged record (a page staged again later draws
 * higher values, so this stays at or below every record the run holds) and when. Run completion diffs core
 * against "fetched since the run began"; reading this row instead of the minimum over the run's staged rows
 * spares it a pass over them all (and, with data checksums, a full-page WAL image for every page that pass
 * would be the first to read since a checkpoint). Pruned with the run's last staged rows.
 */
export const stageRuns = pgTable(
  "stage_runs",
  {
    ...scopeColumns(),
    runId: text("run_id").notNull(),
    firstSeq: bigint("first_seq", { mode: "number" }).notNull(),
    /**
     * Whether the entity's own table could hold rows fetched before the run (run-completion.ts
     * priorRowsPossible); false for a first load, whose completion then has no older rows to look for.
     */
    priorRows: boolean("prior_rows").notNull().default(true),
    startedAt: tz("started_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.entity, t.runId] }),
    index("stage_runs_started_idx").on(t.startedAt),
  ],
);

/**
 * One row per staged page that may still hold untransformed records: written with the page, cleared by the
 * re-announce sweep once the page has nothing pending. It is how the sweep finds pages whose transform
 * message was lost without reading every retained staged row.
 */
export const stagePendingPages = pgTable(
  "stage_pending_pages",
  {
    ...scopeColumns(),
    runId: text("run_id").notNull(),
    pageNo: integer("page_no").notNull(),
    records: integer("records").notNull(),
    stagedAt: tz("staged_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.entity, t.runId, t.pageNo] }),
    index("stage_pending_pages_staged_idx").on(t.stagedAt),
    // An account's most recent pages: the backlog a backfill may keep in flight is counted from them.
    index("stage_pending_pages_account_idx").on(t.accountId, t.stagedAt),
  ],
);

/** Records the transform stage could not take, kept with their reason until an operator replays them. */
export const failedRecords = pgTable(
  "failed_records",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ...scopeColumns(),
    sourceId: text("source_id").notNull(),
    payload: jsonb("payload"),
    /** The run whose page held the record (null for records parked outside a run). */
    runId: text("run_id"),
    errorCode: text("error_code").notNull(),
    errorMessage: text("error_message").notNull(),
    attempts: integer("attempts").notNull().default(1),
    firstSeenAt: tz("first_seen_at").notNull().defaultNow(),
    lastSeenAt: tz("last_seen_at").notNull().defaultNow(),
    resolvedAt: tz("resolved_at"),
  },
  (t) => [
    uniqueIndex("failed_records_source_uq").on(t.connectionId, t.entity, t.sourceId),
    index("failed_records_account_idx").on(t.accountId, t.entity, t.errorCode, t.lastSeenAt),
    // Admin listing pages through open failures by id.
    index("failed_records_open_idx").on(t.accountId, t.id).where(sql`${t.resolvedAt} is null`),
  ],
);

/**
 * Deletes observed for a record, kept beyond staging retention: a version older than the delete that
 * arrives late (queues don't order) must land already deleted, even when no core row existed yet.
 */
export const coreTombstones = pgTable(
  "core_tombstones",
  {
    ...scopeColumns(),
    sourceId: text("source_id").notNull(),
    deletedAt: tz("deleted_at").notNull(),
    /** fetch_seq when the delete was observed: versions fetched before it arrive deleted, later ones live. */
    deletedSeq: bigint("deleted_seq", { mode: "number" }).notNull().default(0),
    /** How the delete was learned: `event` (the provider said so), `absence` (a complete scan), `cascade`. */
    kind: text("kind").notNull().default("event"),
    runId: text("run_id").notNull(),
    recordedAt: tz("recorded_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("core_tombstones_source_uq").on(t.connectionId, t.entity, t.sourceId)],
);

/** A run's deletes held back because they exceed the configured share of the entity; an operator decides. */
export const pendingDeletes = pgTable(
  "pending_deletes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ...scopeColumns(),
    runId: text("run_id").notNull(),
    mode: text("mode").notNull(),
    /** [{sourceId, deletedAt}] as they would be applied. */
    tombstones: jsonb("tombstones").notNull(),
    deletes: integer("deletes").notNull(),
    liveRows: integer("live_rows").notNull(),
    status: text("status").notNull().default("pending"),
    createdAt: tz("created_at").notNull().defaultNow(),
    decidedAt: tz("decided_at"),
  },
  (t) => [
    uniqueIndex("pending_deletes_run_uq").on(t.accountId, t.runId, t.connectionId, t.entity),
    index("pending_deletes_status_idx").on(t.accountId, t.status),
  ],
);

/**
 * One row per run of an entity (onboarding, delta, webhook, reconciliation, replay): what it fetched, and what
 * the transform stage made of it (written, unchanged, failed) and run completion deleted. The account's
 * object writes the run's start and end; the consumer adds its counts as pages are transformed.
 */
export const syncRuns = pgTable(
  "sync_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ...scopeColumns(),
    runId: text("run_id").notNull(),
    mode: text("mode").notNull(),
    status: text("status").notNull().default("IN_PROGRESS"),
    startedAt: tz("started_at").notNull().defaultNow(),
    finishedAt: tz("finished_at"),
    pages: integer("pages").notNull().default(0),
    fetched: bigint("fetched", { mode: "number" }).notNull().default(0),
    written: bigint("written", { mode: "number" }).notNull().default(0),
    unchanged: bigint("unchanged", { mode: "number" }).notNull().default(0),
    failed: bigint("failed", { mode: "number" }).notNull().default(0),
    deleted: bigint("deleted", { mode: "number" }).notNull().default(0),
    errorMessage: text("error_message"),
    /** What started the run: `schedule`, `manual`, `reconcile`, `webhook` or `replay`. */
    trigger: text("trigger"),
    /** Provider requests the run made (answered, failed or refused with 429). */
    requests: integer("requests").notNull().default(0),
    /** Of those, the ones the provider refused with 429. */
    rateLimited: integer("rate_limited").notNull().default(0),
    /** Of those, the ones that failed (5xx, timeout, network error): what the error-rate alert reads. */
    providerErrors: integer("provider_errors").notNull().default(0),
    /** Log lines refused once the run held its bound of lines (sync_run_logs keeps the oldest). */
    logsDropped: integer("logs_dropped").notNull().default(0),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("sync_runs_run_uq").on(t.connectionId, t.entity, t.runId),
    index("sync_runs_account_idx").on(t.accountId, t.connectionId, t.entity, t.startedAt),
    // The run history pages through an account's runs newest first by id.
    index("sync_runs_history_idx").on(t.accountId, t.id),
    // Retention finds finished runs by age.
    index("sync_runs_finished_idx").on(t.finishedAt),
  ],
);

/**
 * A run's log lines, at most RUN_LOG_LIMIT per run (the oldest are kept; the run counts the rest in
 * logs_dropped). Messages are written by our code from counts, states and safe error messages: never a payload,
 * a credential or a database message carrying row values.
 */
export const syncRunLogs = pgTable(
  "sync_run_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ...scopeColumns(),
    runId: text("run_id").notNull(),
    at: tz("at").notNull().defaultNow(),
    level: text("level").notNull(),
    message: text("message").notNull(),
  },
  (t) => [index("sync_run_logs_run_idx").on(t.connectionId, t.entity, t.runId, t.id)],
);

/**
 * Counters of events Postgres keeps no other trace of (breaker transitions, webhooks refused before they were
 * recorded), so `/admin/metrics` reads durable figures whichever isolate counted them. One row per name and
 * label set, incremented in place.
 */
export const metricCounters = pgTable(
  "metric_counters",
  {
    name: text("name").notNull(),
    labels: text("labels").notNull().default(""),
    value: bigint("value", { mode: "number" }).notNull().default(0),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.name, t.labels] })],
);

/**
 * The newest fetch of a core row that wrote nothing because its content and delete state equalled the row's.
 * Writing nothing leaves the row's own version (source_updated_at, fetch_seq) behind that fetch, so the
 * version a late, older delivery or a delete must beat is the greater of the row's and its mark's.
 */
export const coreFetchMarks = pgTable(
  "core_fetch_marks",
  {
    tableName: text("table_name").notNull(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    sourceId: text("source_id").notNull(),
    sourceUpdatedAt: tz("source_updated_at"),
    fetchSeq: bigint("fetch_seq", { mode: "number" }).notNull(),
    markedAt: tz("marked_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tableName, t.accountId, t.connectionId, t.sourceId] })],
);

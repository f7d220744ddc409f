import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { tz } from "./columns";

/**
 * Raw provider records as fetched, one row per record of a page. Keyed by (run, page, record) so a page
 * fetched again after a crash overwrites its own rows instead of adding new ones.
 */
export const stageRecords = pgTable(
  "stage_records",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    entity: text("entity").notNull(),
    runId: text("run_id").notNull(),
    pageNo: integer("page_no").notNull(),
    seq: integer("seq").notNull(),
    sourceId: text("source_id"),
    op: text("op").notNull().default("upsert"),
    payload: jsonb("payload").notNull(),
    stagedAt: tz("staged_at").notNull().defaultNow(),
    doneAt: tz("done_at"),
  },
  (t) => [
    uniqueIndex("stage_records_page_uq").on(t.connectionId, t.entity, t.runId, t.pageNo, t.seq),
    index("stage_records_pending_idx")
      .on(t.connectionId, t.entity, t.runId, t.pageNo)
      .where(sql`${t.doneAt} is null`),
    index("stage_records_done_idx").on(t.doneAt).where(sql`${t.doneAt} is not null`),
  ],
);

/** Records the transform stage could not take, kept with their reason until an operator replays them. */
export const failedRecords = pgTable(
  "failed_records",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    entity: text("entity").notNull(),
    sourceId: text("source_id").notNull(),
    payload: jsonb("payload"),
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
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    entity: text("entity").notNull(),
    sourceId: text("source_id").notNull(),
    deletedAt: tz("deleted_at").notNull(),
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
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    entity: text("entity").notNull(),
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

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
  ],
);

import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "string" });

export const accounts = pgTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  apiKeyHash: text("api_key_hash"),
  createdAt: tz("created_at").notNull().defaultNow(),
});

export const connections = pgTable(
  "connections",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    baseUrl: text("base_url"),
    // AES-256-GCM blob bound to (account, connection); never the plain secret.
    credentialsEnc: text("credentials_enc").notNull(),
    settings: jsonb("settings").notNull().default({}),
    status: text("status").notNull().default("active"),
    deltaIntervalMinutes: integer("delta_interval_minutes").notNull().default(15),
    lastDeltaAt: tz("last_delta_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [index("connections_account_idx").on(t.accountId), index("connections_due_idx").on(t.status, t.lastDeltaAt)],
);

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

/** Columns every core row carries: tenant, source identity and the source's own version time. */
const coreColumns = () => ({
  accountId: text("account_id").notNull(),
  connectionId: text("connection_id").notNull(),
  sourceId: bigint("source_id", { mode: "number" }).notNull(),
  sourceCreatedAt: tz("source_created_at"),
  sourceUpdatedAt: tz("source_updated_at").notNull(),
  raw: jsonb("raw").notNull(),
  deletedAt: tz("deleted_at"),
  syncedAt: tz("synced_at").notNull().defaultNow(),
});

export const fubPeople = pgTable(
  "fub_people",
  {
    ...coreColumns(),
    name: text("name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    stage: text("stage"),
    stageId: integer("stage_id"),
    source: text("source"),
    assignedUserId: integer("assigned_user_id"),
    price: numeric("price"),
    contacted: boolean("contacted"),
    lastActivity: tz("last_activity"),
    tags: jsonb("tags"),
    emails: jsonb("emails"),
    phones: jsonb("phones"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const FUB_ENTITIES = [
  "people",
  "deals",
  "events",
  "calls",
  "textMessages",
  "appointments",
  "users",
  "groups",
  "stages",
] as const;

/** Per (connection, entity) sync state, mirrored from the account's Durable Object for SQL reporting. */
export const fubSyncState = pgTable(
  "fub_sync_state",
  {
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    entity: text("entity").notNull(),
    mode: text("mode").notNull(),
    status: text("status").notNull(),
    cursor: jsonb("cursor"),
    lastSyncAt: tz("last_sync_at"),
    lastStartedAt: tz("last_started_at"),
    lastFinishedAt: tz("last_finished_at"),
    recordsSynced: bigint("records_synced", { mode: "number" }).notNull().default(0),
    errorMessage: text("error_message"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.entity] }), index("fub_sync_state_account_idx").on(t.accountId)],
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

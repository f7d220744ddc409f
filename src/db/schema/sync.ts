import { bigint, index, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { tz } from "./columns";

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
  (t) => [
    primaryKey({ columns: [t.connectionId, t.entity] }),
    index("fub_sync_state_account_idx").on(t.accountId),
  ],
);

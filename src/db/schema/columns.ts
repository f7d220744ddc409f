import { bigint, jsonb, text, timestamp } from "drizzle-orm/pg-core";

export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "string" });

/** Columns every core row carries: tenant, source identity and the source's own version time. */
export const coreColumns = () => ({
  accountId: text("account_id").notNull(),
  connectionId: text("connection_id").notNull(),
  sourceId: bigint("source_id", { mode: "number" }).notNull(),
  sourceCreatedAt: tz("source_created_at"),
  sourceUpdatedAt: tz("source_updated_at").notNull(),
  raw: jsonb("raw").notNull(),
  deletedAt: tz("deleted_at"),
  syncedAt: tz("synced_at").notNull().defaultNow(),
});

/** Which provider data a pipeline row is about: the tenant, the connection, its provider and the entity. */
export const scopeColumns = () => ({
  accountId: text("account_id").notNull(),
  connectionId: text("connection_id").notNull(),
  provider: text("provider").notNull(),
  entity: text("entity").notNull(),
});

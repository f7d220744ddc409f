import { index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { tz } from "./columns";

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
  (t) => [
    index("connections_account_idx").on(t.accountId),
    index("connections_due_idx").on(t.status, t.lastDeltaAt),
  ],
);

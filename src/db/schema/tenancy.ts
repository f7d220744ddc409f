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
    // Slots the scheduler gives each connection: a fixed phase within the interval (a hash of the id), so the
    // fleet's delta and reconciliation work is spread evenly instead of starting together. Null: due now
    // (delta) or at today's slot (reconciliation).
    nextDeltaAt: tz("next_delta_at"),
    nextReconcileAt: tz("next_reconcile_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("connections_account_idx").on(t.accountId),
    index("connections_due_idx").on(t.status, t.lastDeltaAt),
    index("connections_next_delta_idx").on(t.status, t.nextDeltaAt),
    index("connections_next_reconcile_idx").on(t.status, t.nextReconcileAt),
  ],
);

/**
 * The last tick of each scheduled job (one row per job): how long it took and what it did, so an operator sees
 * whether the fleet's work still fits its interval.
 */
export const schedulerTicks = pgTable("scheduler_ticks", {
  job: text("job").primaryKey(),
  startedAt: tz("started_at").notNull(),
  durationMs: integer("duration_ms").notNull(),
  report: jsonb("report").notNull(),
});

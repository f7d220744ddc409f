import { bigint, doublePrecision, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { tz } from "./columns";

/**
 * One row per alert condition ever seen firing (a rule and what it is about, e.g. one connection): when it
 * started firing, when it was last seen and resolved, and what delivering it did. The cooldown is measured
 * from `last_sent_at`, so a condition that flaps or keeps firing is sent at most once per cooldown. Operator
 * data spanning accounts, read and written by the cron and `/admin/alerts` through the system role; the
 * subject names the account without being an account row (purging an account leaves its alert history).
 */
export const alertState = pgTable(
  "alert_state",
  {
    key: text("key").primaryKey(),
    rule: text("rule").notNull(),
    subject: text("subject").notNull(),
    severity: text("severity").notNull(),
    summary: text("summary").notNull(),
    value: doublePrecision("value").notNull(),
    threshold: doublePrecision("threshold").notNull(),
    firingSince: tz("firing_since").notNull().defaultNow(),
    lastSeenAt: tz("last_seen_at").notNull().defaultNow(),
    /** Null while firing. */
    resolvedAt: tz("resolved_at"),
    lastSentAt: tz("last_sent_at"),
    sends: integer("sends").notNull().default(0),
    /** Deliveries that exhausted their attempts; the last one's reason (status or error class, never a body). */
    deliveryFailures: integer("delivery_failures").notNull().default(0),
    lastDeliveryError: text("last_delivery_error"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("alert_state_recent_idx").on(t.updatedAt)],
);

/**
 * Each connection's circuit breaker as its account's object last reported it: open (forced, open or probing
 * half-open) since when, or closed. The object's SQLite stays the source of truth for the breaker itself;
 * this copy is what the breaker-open alert reads across accounts. `gen` orders the object's reports (at
 * least the object's clock in ms at the change, and above the one before), so a late or repeated push never
 * overwrites a newer state.
 */
export const connectionBreakers = pgTable("connection_breakers", {
  connectionId: text("connection_id").primaryKey(),
  accountId: text("account_id").notNull(),
  provider: text("provider").notNull(),
  /** `open` or `closed`. */
  state: text("state").notNull(),
  /** When the breaker left closed; held through half-open probes and re-openings until it closes. */
  openSince: tz("open_since"),
  gen: bigint("gen", { mode: "number" }).notNull(),
  updatedAt: tz("updated_at").notNull().defaultNow(),
});

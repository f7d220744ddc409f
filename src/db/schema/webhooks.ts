import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { tz } from "./columns";

/**
 * Every accepted webhook delivery, written before the provider gets its 2xx. The unique key makes a redelivery
 * a no-op; rows stay at least 7 days after processing because providers retry for days.
 */
export const webhookInbox = pgTable(
  "webhook_inbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    // The provider's event id, else the webhook-id header, else a hash of the raw body.
    eventId: text("event_id").notNull(),
    eventType: text("event_type"),
    payload: jsonb("payload").notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    receivedAt: tz("received_at").notNull().defaultNow(),
    processedAt: tz("processed_at"),
  },
  (t) => [
    uniqueIndex("webhook_inbox_event_uq").on(t.provider, t.connectionId, t.eventId),
    index("webhook_inbox_pending_idx").on(t.receivedAt).where(sql`${t.status} = 'pending'`),
    index("webhook_inbox_processed_idx").on(t.processedAt).where(sql`${t.processedAt} is not null`),
  ],
);

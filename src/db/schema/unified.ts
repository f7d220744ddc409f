import {
  bigserial,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { tz, versionColumns } from "./columns";

/**
 * Where a unified row comes from. Source ids are text because providers disagree on id types (32-bit and
 * 64-bit integers, GUIDs); provider is part of the natural key so two providers' ids never collide.
 */
const unifiedSource = () => ({
  id: bigserial("id", { mode: "number" }).primaryKey(),
  accountId: text("account_id").notNull(),
  provider: text("provider").notNull(),
  connectionId: text("connection_id").notNull(),
  sourceId: text("source_id").notNull(),
  sourceCreatedAt: tz("source_created_at"),
  sourceUpdatedAt: tz("source_updated_at"),
  deletedAt: tz("deleted_at"),
  ...versionColumns(),
  syncedAt: tz("synced_at").notNull().defaultNow(),
});

/** People, leads and contacts of every CRM. */
export const contacts = pgTable(
  "contacts",
  {
    ...unifiedSource(),
    name: text("name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    primaryEmail: text("primary_email"),
    primaryPhone: text("primary_phone"),
    stage: text("stage"),
    /** The lead source as the provider names it (e.g. a listing portal or "Open House"), not the syncing provider. */
    leadSource: text("lead_source"),
    tags: jsonb("tags"),
    /** Source id of the assigned user in the same provider. */
    assignedTo: text("assigned_to"),
  },
  (t) => [
    uniqueIndex("contacts_source_uq").on(t.accountId, t.provider, t.connectionId, t.sourceId),
    index("contacts_email_idx").on(t.accountId, t.primaryEmail),
  ],
);

/** CRM deals (pipelines of opportunities). */
export const deals = pgTable(
  "deals",
  {
    ...unifiedSource(),
    name: text("name"),
    stage: text("stage"),
    status: text("status"),
    price: numeric("price"),
    closeDate: date("close_date", { mode: "string" }),
    projectedCloseDate: date("projected_close_date", { mode: "string" }),
    /** Source ids of the deal's contacts, resolvable against contacts.source_id of the same connection. */
    contactSourceIds: jsonb("contact_source_ids"),
    userSourceIds: jsonb("user_source_ids"),
  },
  (t) => [
    uniqueIndex("deals_source_uq").on(t.accountId, t.provider, t.connectionId, t.sourceId),
    index("deals_stage_idx").on(t.accountId, t.stage),
  ],
);

/** Transactions from transaction-management systems (loops, files, properties). */
export const transactions = pgTable(
  "transactions",
  {
    ...unifiedSource(),
    name: text("name"),
    address: text("address"),
    status: text("status"),
    transactionType: text("transaction_type"),
    price: numeric("price"),
    contractDate: date("contract_date", { mode: "string" }),
    closeDate: date("close_date", { mode: "string" }),
  },
  (t) => [
    uniqueIndex("transactions_source_uq").on(t.accountId, t.provider, t.connectionId, t.sourceId),
    index("transactions_status_idx").on(t.accountId, t.status),
  ],
);

export const listings = pgTable(
  "listings",
  {
    ...unifiedSource(),
    address: text("address"),
    city: text("city"),
    state: text("state"),
    postalCode: text("postal_code"),
    mlsNumber: text("mls_number"),
    price: numeric("price"),
    status: text("status"),
    listedAt: tz("listed_at"),
  },
  (t) => [
    uniqueIndex("listings_source_uq").on(t.accountId, t.provider, t.connectionId, t.sourceId),
    index("listings_mls_idx").on(t.accountId, t.mlsNumber),
  ],
);

/**
 * Calls, texts, events, appointments and notes in one timeline. Source ids carry the kind as a prefix
 * (`call:12`) because a provider numbers each kind separately.
 */
export const activities = pgTable(
  "activities",
  {
    ...unifiedSource(),
    type: text("type").notNull(),
    occurredAt: tz("occurred_at"),
    contactSourceId: text("contact_source_id"),
    userSourceId: text("user_source_id"),
    summary: text("summary"),
    /** inbound / outbound where the provider says so. */
    direction: text("direction"),
    durationSeconds: integer("duration_seconds"),
  },
  (t) => [
    uniqueIndex("activities_source_uq").on(t.accountId, t.provider, t.connectionId, t.sourceId),
    index("activities_contact_idx").on(
      t.accountId,
      t.provider,
      t.connectionId,
      t.contactSourceId,
      t.occurredAt,
    ),
  ],
);

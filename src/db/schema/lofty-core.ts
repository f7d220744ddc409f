import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { coreColumns, int64Text, tz } from "./columns";

/**
 * Lofty core tables, `lofty_leads` named as in the system this platform replaces. Keys and versions follow
 * the other providers' core tables. Every Lofty id is a 64-bit integer (lead ids are meant to pass 2^53), so
 * ids and references are bigints carried as their exact decimal text, never through a double.
 */
const live = sql`deleted_at is null`;
const ref = (name: string) => int64Text(name);

export const loftyLeads = pgTable(
  "lofty_leads",
  {
    ...coreColumns("int64"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    emails: jsonb("emails"),
    phones: jsonb("phones"),
    primaryEmail: text("primary_email"),
    primaryPhone: text("primary_phone"),
    source: text("source"),
    stageId: ref("stage_id"),
    stage: text("stage"),
    assignedUserId: ref("assigned_user_id"),
    assignedUser: text("assigned_user"),
    leadTypes: jsonb("lead_types"),
    tags: jsonb("tags"),
    score: numeric("score"),
    streetAddress: text("street_address"),
    city: text("city"),
    state: text("state"),
    zipCode: text("zip_code"),
    pondId: ref("pond_id"),
    lastTouchAt: tz("last_touch_at"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("lofty_leads_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("lofty_leads_email_idx").on(t.accountId, t.primaryEmail).where(live),
    index("lofty_leads_assigned_idx").on(t.accountId, t.connectionId, t.assignedUserId).where(live),
  ],
);

export const loftyMembers = pgTable(
  "lofty_members",
  {
    ...coreColumns("int64"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    role: text("role"),
    active: boolean("active"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const loftyTransactions = pgTable(
  "lofty_transactions",
  {
    ...coreColumns("int64"),
    leadId: ref("lead_id"),
    name: text("name"),
    address: text("address"),
    status: text("status"),
    transactionType: text("transaction_type"),
    price: numeric("price"),
    closeAt: tz("close_at"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("lofty_transactions_lead_idx").on(t.accountId, t.connectionId, t.leadId).where(live),
  ],
);

/**
 * Tasks (v2): one list for the team. Their shape is not published beyond the endpoint; the columns are what a
 * task list needs, and the whole record is in `raw`.
 */
export const loftyTasks = pgTable(
  "lofty_tasks",
  {
    ...coreColumns("int64"),
    leadId: ref("lead_id"),
    assignedUserId: ref("assigned_user_id"),
    title: text("title"),
    taskType: text("task_type"),
    dueAt: tz("due_at"),
    finished: boolean("finished"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("lofty_tasks_lead_idx").on(t.accountId, t.connectionId, t.leadId).where(live),
  ],
);

/** Notes, calls and activities of a lead: listed per lead, each kind numbered by Lofty on its own. */
const leadChild = (
  name: string,
  extra: Record<string, ReturnType<typeof text | typeof integer | typeof tz>>,
) =>
  pgTable(
    name,
    {
      ...coreColumns("int64"),
      leadId: ref("lead_id"),
      occurredAt: tz("occurred_at"),
      ...extra,
    },
    (t) => [
      primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
      index(`${name}_lead_idx`).on(t.accountId, t.connectionId, t.leadId, t.occurredAt).where(live),
    ],
  );

export const loftyNotes = leadChild("lofty_notes", { content: text("content") });
export const loftyCalls = leadChild("lofty_calls", {
  direction: text("direction"),
  durationSeconds: integer("duration_seconds"),
  outcome: text("outcome"),
});
export const loftyActivities = leadChild("lofty_activities", {
  type: text("type"),
  content: text("content"),
});

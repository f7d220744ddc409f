import { sql } from "drizzle-orm";
import {
  boolean,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
} from "drizzle-orm/pg-core";
import { coreColumns, tz } from "./columns";

/**
 * Follow Up Boss core tables, named as in the system this platform replaces. Every table is keyed by
 * (account_id, connection_id, source_id) and carries the source's `updated` time (the last-writer-wins
 * version), the raw record, and `deleted_at` (a `*Deleted` tombstone, or for people: moved to Trash).
 * Lookup indexes cover live rows only, which is what every reader asks for.
 */
const live = sql`deleted_at is null`;

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
    /** In FUB's Trash (listed only with includeTrash=true, restorable); such a row also has deleted_at. */
    trashed: boolean("trashed").notNull().default(false),
    primaryEmail: text("primary_email"),
    primaryPhone: text("primary_phone"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_people_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("fub_people_email_idx").on(t.accountId, t.primaryEmail).where(live),
    index("fub_people_assigned_idx").on(t.accountId, t.connectionId, t.assignedUserId).where(live),
    index("fub_people_stage_idx").on(t.accountId, t.connectionId, t.stageId).where(live),
  ],
);

export const fubDeals = pgTable(
  "fub_deals",
  {
    ...coreColumns(),
    name: text("name"),
    stageId: integer("stage_id"),
    pipelineId: integer("pipeline_id"),
    status: text("status"),
    price: numeric("price"),
    commissionValue: numeric("commission_value"),
    closeDate: date("close_date", { mode: "string" }),
    projectedCloseDate: date("projected_close_date", { mode: "string" }),
    stageName: text("stage_name"),
    pipelineName: text("pipeline_name"),
    enteredStageAt: tz("entered_stage_at"),
    agentCommission: numeric("agent_commission"),
    teamCommission: numeric("team_commission"),
    description: text("description"),
    /** FUB person ids on the deal, resolvable against fub_people.source_id of the same connection. */
    personIds: jsonb("person_ids"),
    userIds: jsonb("user_ids"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_deals_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("fub_deals_stage_idx").on(t.accountId, t.connectionId, t.pipelineId, t.stageId).where(live),
  ],
);

export const fubEvents = pgTable(
  "fub_events",
  {
    ...coreColumns(),
    personId: integer("person_id"),
    type: text("type"),
    source: text("source"),
    message: text("message"),
    description: text("description"),
    occurredAt: tz("occurred_at"),
    property: jsonb("property"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_events_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("fub_events_person_idx").on(t.accountId, t.connectionId, t.personId, t.occurredAt).where(live),
  ],
);

export const fubCalls = pgTable(
  "fub_calls",
  {
    ...coreColumns(),
    personId: integer("person_id"),
    userId: integer("user_id"),
    durationSeconds: integer("duration_seconds"),
    outcome: text("outcome"),
    isIncoming: boolean("is_incoming"),
    phone: text("phone"),
    fromNumber: text("from_number"),
    toNumber: text("to_number"),
    note: text("note"),
    recordingUrl: text("recording_url"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_calls_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("fub_calls_person_idx").on(t.accountId, t.connectionId, t.personId).where(live),
    index("fub_calls_user_idx").on(t.accountId, t.connectionId, t.userId).where(live),
  ],
);

export const fubTextMessages = pgTable(
  "fub_text_messages",
  {
    ...coreColumns(),
    personId: integer("person_id"),
    userId: integer("user_id"),
    message: text("message"),
    isIncoming: boolean("is_incoming"),
    fromNumber: text("from_number"),
    toNumber: text("to_number"),
    status: text("status"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_text_messages_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("fub_text_messages_person_idx").on(t.accountId, t.connectionId, t.personId).where(live),
  ],
);

export const fubAppointments = pgTable(
  "fub_appointments",
  {
    ...coreColumns(),
    title: text("title"),
    description: text("description"),
    startAt: tz("start_at"),
    endAt: tz("end_at"),
    allDay: boolean("all_day"),
    location: text("location"),
    invitees: jsonb("invitees"),
    /** Person ids among the invitees, for "appointments of this person" without unpacking jsonb. */
    personIds: jsonb("person_ids"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_appointments_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("fub_appointments_start_idx").on(t.accountId, t.connectionId, t.startAt).where(live),
  ],
);

export const fubUsers = pgTable(
  "fub_users",
  {
    ...coreColumns(),
    name: text("name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    phone: text("phone"),
    role: text("role"),
    status: text("status"),
    timezone: text("timezone"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("fub_users_email_idx").on(t.accountId, t.email).where(live),
  ],
);

export const fubGroups = pgTable(
  "fub_groups",
  {
    ...coreColumns(),
    name: text("name"),
    type: text("type"),
    userIds: jsonb("user_ids"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const fubStages = pgTable(
  "fub_stages",
  {
    ...coreColumns(),
    name: text("name"),
    orderWeight: integer("order_weight"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

import { sql } from "drizzle-orm";
import { bigint, date, index, jsonb, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { coreColumns } from "./columns";

/**
 * Open To Close core tables. The provider publishes no update time anywhere, so every row is versioned by the
 * content hash of its record (source_updated_at stays null) and deletes are learned by absence from complete
 * scans. A property's fields are configured per account (134 in one, 497 in another): all of them are kept in
 * `fields` keyed by their `key`, and only what a transaction or listing needs is projected into typed columns.
 */
const live = sql`deleted_at is null`;
const id = (name: string) => bigint(name, { mode: "number" });

export const opentocloseProperties = pgTable(
  "opentoclose_properties",
  {
    ...coreColumns(),
    /** The property's IANA zone as sent ("US/Mountain"); `created` and the date fields are local to it. */
    timezone: text("timezone"),
    /** `{key: value}` of every field value, each a string as sent ("" = unset). */
    fields: jsonb("fields").notNull(),
    /** `{key: {type, label}}`: the account's field set as this property showed it. */
    fieldTypes: jsonb("field_types").notNull(),
    teamId: id("team_id"),
    teamName: text("team_name"),
    teamUserId: id("team_user_id"),
    teamUserName: text("team_user_name"),
    agentId: id("agent_id"),
    agentName: text("agent_name"),
    title: text("title"),
    contractStatus: text("contract_status"),
    listingStatus: text("listing_status"),
    clientType: text("client_type"),
    address: text("address"),
    city: text("city"),
    state: text("state"),
    zip: text("zip"),
    purchaseAmount: numeric("purchase_amount"),
    listingPrice: numeric("listing_price"),
    contractDate: date("contract_date", { mode: "string" }),
    listingDate: date("listing_date", { mode: "string" }),
    closingDate: date("closing_date", { mode: "string" }),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("opentoclose_properties_status_idx").on(t.accountId, t.connectionId, t.contractStatus).where(live),
    index("opentoclose_properties_closing_idx").on(t.accountId, t.connectionId, t.closingDate).where(live),
  ],
);

/**
 * A contact on a property with its role. The list item has no id of its own, so the source id is
 * `<property>:<contact>:<role>` (text): the same person in two roles is two rows.
 */
export const opentoclosePropertyContacts = pgTable(
  "opentoclose_property_contacts",
  {
    ...coreColumns("text"),
    propertyId: id("property_id"),
    contactId: id("contact_id"),
    role: text("role"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    phone: text("phone"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("opentoclose_property_contacts_property_idx")
      .on(t.accountId, t.connectionId, t.propertyId)
      .where(live),
  ],
);

export const opentocloseNotes = pgTable(
  "opentoclose_notes",
  {
    ...coreColumns(),
    propertyId: id("property_id"),
    title: text("title"),
    content: text("content"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("opentoclose_notes_property_idx").on(t.accountId, t.connectionId, t.propertyId).where(live),
  ],
);

export const opentocloseTasks = pgTable(
  "opentoclose_tasks",
  {
    ...coreColumns(),
    propertyId: id("property_id"),
    title: text("title"),
    /** Due date as sent (format unpublished); typed only when it reads as a date. */
    dueDate: date("due_date", { mode: "string" }),
    status: text("status"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("opentoclose_tasks_property_idx").on(t.accountId, t.connectionId, t.propertyId).where(live),
  ],
);

/** Contacts, agents and users share a shape as far as it is known: names, email, phone. */
const person = () => ({
  ...coreColumns(),
  firstName: text("first_name"),
  lastName: text("last_name"),
  email: text("email"),
  phone: text("phone"),
});

export const opentocloseContacts = pgTable("opentoclose_contacts", person(), (t) => [
  primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
  index("opentoclose_contacts_email_idx").on(t.accountId, t.email).where(live),
]);

export const opentocloseAgents = pgTable("opentoclose_agents", person(), (t) => [
  primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
]);

export const opentocloseUsers = pgTable("opentoclose_users", person(), (t) => [
  primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
]);

export const opentocloseTeams = pgTable(
  "opentoclose_teams",
  { ...coreColumns(), name: text("name") },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

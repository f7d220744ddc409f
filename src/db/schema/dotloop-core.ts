import { sql } from "drizzle-orm";
import {
  bigint,
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
 * Dotloop core tables, the first four named as in the system this platform replaces. Keys, versions and
 * indexes follow the other providers' core tables: (account_id, connection_id, source_id), the source's `updated` time where
 * Dotloop publishes one (a content hash otherwise), the raw record, and `deleted_at` for *_DELETED events.
 * Dotloop ids are integers; the parent ids of nested resources (profile, loop, folder, task list) are columns
 * because the records themselves do not carry them (they are in the request path).
 */
const live = sql`deleted_at is null`;
const id = (name: string) => bigint(name, { mode: "number" });

export const dotloopAccounts = pgTable(
  "dotloop_accounts",
  {
    ...coreColumns(),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    defaultProfileId: id("default_profile_id"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const dotloopProfiles = pgTable(
  "dotloop_profiles",
  {
    ...coreColumns(),
    name: text("name"),
    /** INDIVIDUAL, OFFICE, BROKERAGE or COMPANY; only INDIVIDUAL profiles list loops. */
    type: text("type"),
    company: text("company"),
    phone: text("phone"),
    fax: text("fax"),
    address: text("address"),
    city: text("city"),
    state: text("state"),
    zipCode: text("zip_code"),
    isDefault: boolean("is_default"),
    requiresTemplate: boolean("requires_template"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const dotloopLoops = pgTable(
  "dotloop_loops",
  {
    ...coreColumns(),
    profileId: id("profile_id"),
    ownerProfileId: id("owner_profile_id"),
    name: text("name"),
    transactionType: text("transaction_type"),
    status: text("status"),
    /** Dotloop never deletes a loop: it ends in status ARCHIVED, and stays here, live, with that status. */
    archived: boolean("archived").notNull().default(false),
    loopUrl: text("loop_url"),
    totalTaskCount: integer("total_task_count"),
    completedTaskCount: integer("completed_task_count"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loops_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("dotloop_loops_profile_idx").on(t.accountId, t.connectionId, t.profileId, t.status).where(live),
  ],
);

/**
 * A loop's detail (source_id = the loop id): every label-keyed section kept whole, as Dotloop names them
 * ("Property Address" › "Zip/Postal Code"), plus the fields a transaction needs, typed. A label that does not
 * parse (a date like "TBD") leaves its column null; the section keeps the text.
 */
export const dotloopLoopDetails = pgTable(
  "dotloop_loop_details",
  {
    ...coreColumns(),
    profileId: id("profile_id"),
    sections: jsonb("sections").notNull(),
    /** One line: street number, street name, unit, city, state and postal code as present. */
    address: text("address"),
    streetNumber: text("street_number"),
    streetName: text("street_name"),
    unit: text("unit"),
    city: text("city"),
    state: text("state"),
    postalCode: text("postal_code"),
    county: text("county"),
    country: text("country"),
    mlsNumber: text("mls_number"),
    purchasePrice: numeric("purchase_price"),
    originalPrice: numeric("original_price"),
    currentPrice: numeric("current_price"),
    contractDate: date("contract_date", { mode: "string" }),
    closingDate: date("closing_date", { mode: "string" }),
    offerDate: date("offer_date", { mode: "string" }),
    listingDate: date("listing_date", { mode: "string" }),
    expirationDate: date("expiration_date", { mode: "string" }),
    transactionNumber: text("transaction_number"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loop_details_closing_idx").on(t.accountId, t.connectionId, t.closingDate).where(live),
    index("dotloop_loop_details_mls_idx").on(t.accountId, t.mlsNumber).where(live),
  ],
);

export const dotloopLoopParticipants = pgTable(
  "dotloop_loop_participants",
  {
    ...coreColumns(),
    loopId: id("loop_id"),
    profileId: id("profile_id"),
    fullName: text("full_name"),
    email: text("email"),
    role: text("role"),
    phone: text("phone"),
    /** The detail form's display-label keys ("company name", "zip/postal code"), kept as sent. */
    fields: jsonb("fields"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loop_participants_loop_idx").on(t.accountId, t.connectionId, t.loopId).where(live),
    index("dotloop_loop_participants_email_idx").on(t.accountId, t.email).where(live),
  ],
);

export const dotloopContacts = pgTable(
  "dotloop_contacts",
  {
    ...coreColumns(),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    home: text("home"),
    office: text("office"),
    fax: text("fax"),
    address: text("address"),
    city: text("city"),
    state: text("state"),
    zipCode: text("zip_code"),
    country: text("country"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_contacts_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("dotloop_contacts_email_idx").on(t.accountId, t.email).where(live),
  ],
);

/**
 * Folder, document and task metadata: one table each, not one shared table, because each is its own entity
 * with its own list (the table a complete scan is diffed against) and its own id space under the shared
 * (account, connection, source_id) key; one table would need the kind in the key and in every reader.
 */
export const dotloopLoopFolders = pgTable(
  "dotloop_loop_folders",
  {
    ...coreColumns(),
    loopId: id("loop_id"),
    profileId: id("profile_id"),
    name: text("name"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loop_folders_loop_idx").on(t.accountId, t.connectionId, t.loopId).where(live),
  ],
);

export const dotloopLoopDocuments = pgTable(
  "dotloop_loop_documents",
  {
    ...coreColumns(),
    folderId: id("folder_id"),
    loopId: id("loop_id"),
    profileId: id("profile_id"),
    name: text("name"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loop_documents_loop_idx").on(t.accountId, t.connectionId, t.loopId).where(live),
  ],
);

/** A loop's task lists (`{id, name}`), the parents its tasks are listed under. */
export const dotloopLoopTaskLists = pgTable(
  "dotloop_loop_task_lists",
  {
    ...coreColumns(),
    loopId: id("loop_id"),
    profileId: id("profile_id"),
    name: text("name"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loop_task_lists_loop_idx").on(t.accountId, t.connectionId, t.loopId).where(live),
  ],
);

export const dotloopLoopTasks = pgTable(
  "dotloop_loop_tasks",
  {
    ...coreColumns(),
    taskListId: id("task_list_id"),
    loopId: id("loop_id"),
    profileId: id("profile_id"),
    name: text("name"),
    /** Due with the offset Dotloop sent, as an instant. */
    dueAt: tz("due_at"),
    completed: boolean("completed"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("dotloop_loop_tasks_loop_idx").on(t.accountId, t.connectionId, t.loopId).where(live),
  ],
);

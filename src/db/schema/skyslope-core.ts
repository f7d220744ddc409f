import { sql } from "drizzle-orm";
import { date, index, integer, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { coreColumns } from "./columns";

/**
 * SkySlope core tables, named as in the system this platform replaces. Ids are lowercase GUIDs (text source
 * ids); `source_updated_at` is `modifiedOn` read in the connection's time zone (SkySlope writes no offset).
 * Users and offices publish no times: they are versioned by content. Date-only fields are dates; the .NET
 * "unset" date (0001-01-01) is stored as null.
 */
const live = sql`deleted_at is null`;

const fileColumns = () => ({
  agentGuid: text("agent_guid"),
  createdByGuid: text("created_by_guid"),
  officeGuid: text("office_guid"),
  officeId: integer("office_id"),
  mlsNumber: text("mls_number"),
  status: text("status"),
  checklistType: text("checklist_type"),
  listingPrice: numeric("listing_price"),
  streetNumber: text("street_number"),
  streetAddress: text("street_address"),
  city: text("city"),
  state: text("state"),
  zip: text("zip"),
  fileEmail: text("file_email"),
});

export const skyslopeTransactions = pgTable(
  "skyslope_transactions",
  {
    ...coreColumns("text"),
    ...fileColumns(),
    listingGuid: text("listing_guid"),
    statusId: integer("status_id"),
    dealType: text("deal_type"),
    salePrice: numeric("sale_price"),
    escrowNumber: text("escrow_number"),
    contractAcceptanceDate: date("contract_acceptance_date", { mode: "string" }),
    escrowClosingDate: date("escrow_closing_date", { mode: "string" }),
    actualClosingDate: date("actual_closing_date", { mode: "string" }),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("skyslope_transactions_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("skyslope_transactions_agent_idx").on(t.accountId, t.connectionId, t.agentGuid).where(live),
  ],
);

export const skyslopeListings = pgTable(
  "skyslope_listings",
  {
    ...coreColumns("text"),
    ...fileColumns(),
    type: text("type"),
    listingDate: date("listing_date", { mode: "string" }),
    expirationDate: date("expiration_date", { mode: "string" }),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("skyslope_listings_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("skyslope_listings_mls_idx").on(t.accountId, t.mlsNumber).where(live),
  ],
);

export const skyslopeUsers = pgTable(
  "skyslope_users",
  {
    ...coreColumns("text"),
    publicId: text("public_id"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    phone: text("phone"),
    userType: text("user_type"),
    officeGuid: text("office_guid"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("skyslope_users_email_idx").on(t.accountId, t.email).where(live),
  ],
);

export const skyslopeOffices = pgTable(
  "skyslope_offices",
  {
    ...coreColumns("text"),
    name: text("name"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

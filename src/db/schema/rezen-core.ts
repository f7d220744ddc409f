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
 * reZEN core tables, named as in the system this platform replaces. Ids are UUID strings (text source ids);
 * money is `<name>_amount numeric` beside `<name>_currency text`; reZEN's epoch-millisecond times are
 * timestamptz. Records whose path names their parent (lifecycle group, tier, agent) carry it as a column.
 */
const live = sql`deleted_at is null`;

/** The connection's own agent (GET yenta /agents/me): the yentaId every participant list is asked for. */
export const rezenAgents = pgTable(
  "rezen_agents",
  {
    ...coreColumns("text"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    emailAddress: text("email_address"),
    phoneNumber: text("phone_number"),
    status: text("status"),
    country: text("country"),
    accountCountry: text("account_country"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

/** reZEN's count per lifecycle group (tc_rezen); source_id is the group name. */
export const rezenLifecycleGroupCounts = pgTable(
  "rezen_lifecycle_group_counts",
  {
    ...coreColumns("text"),
    yentaId: text("yenta_id"),
    /** TRANSACTION for the groups listed under /transactions, LISTING for /listing-transactions. */
    kind: text("kind").notNull(),
    count: integer("count"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

/** The participant lists' items as listed (partial): where each transaction sits and when it last changed. */
export const rezenTransactionList = pgTable(
  "rezen_transaction_list",
  {
    ...coreColumns("text"),
    yentaId: text("yenta_id"),
    lifecycleGroup: text("lifecycle_group"),
    code: text("code"),
    listedUpdatedAt: tz("listed_updated_at"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const rezenTransactions = pgTable(
  "rezen_transactions",
  {
    ...coreColumns("text"),
    code: text("code"),
    transactionType: text("transaction_type"),
    listing: boolean("listing"),
    lifecycleState: text("lifecycle_state"),
    complianceStatus: text("compliance_status"),
    addressOneLine: text("address_one_line"),
    street: text("street"),
    city: text("city"),
    state: text("state"),
    zip: text("zip"),
    priceAmount: numeric("price_amount"),
    priceCurrency: text("price_currency"),
    grossCommissionAmount: numeric("gross_commission_amount"),
    grossCommissionCurrency: text("gross_commission_currency"),
    myNetPayoutAmount: numeric("my_net_payout_amount"),
    myNetPayoutCurrency: text("my_net_payout_currency"),
    participants: jsonb("participants"),
    contractAcceptanceDate: date("contract_acceptance_date", { mode: "string" }),
    closingDateEstimated: date("closing_date_estimated", { mode: "string" }),
    closingDateActual: date("closing_date_actual", { mode: "string" }),
    mlsNum: text("mls_num"),
    leadSource: text("lead_source"),
    officeName: text("office_name"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("rezen_transactions_state_idx").on(t.accountId, t.connectionId, t.lifecycleState).where(live),
  ],
);

export const rezenListings = pgTable(
  "rezen_listings",
  {
    ...coreColumns("text"),
    yentaId: text("yenta_id"),
    lifecycleGroup: text("lifecycle_group"),
    code: text("code"),
    lifecycleState: text("lifecycle_state"),
    addressOneLine: text("address_one_line"),
    city: text("city"),
    state: text("state"),
    zip: text("zip"),
    mlsNum: text("mls_num"),
    priceAmount: numeric("price_amount"),
    priceCurrency: text("price_currency"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

/** Network size per tier (GET yenta /agents/{id}/network-size-by-tier); source_id is the tier. */
export const rezenNetworkSize = pgTable(
  "rezen_network_size",
  {
    ...coreColumns("text"),
    yentaId: text("yenta_id"),
    tier: integer("tier").notNull(),
    networkSize: integer("network_size"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const rezenNetworkDownline = pgTable(
  "rezen_network_downline",
  {
    ...coreColumns("text"),
    sponsorYentaId: text("sponsor_yenta_id"),
    tier: integer("tier"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    emailAddress: text("email_address"),
    status: text("status"),
    sponsorId: text("sponsor_id"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const rezenNetworkFrontline = pgTable(
  "rezen_network_frontline",
  {
    ...coreColumns("text"),
    yentaId: text("yenta_id"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    emailAddress: text("email_address"),
    status: text("status"),
    sizeOfNetwork: integer("size_of_network"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

/** Cap progress of the connection's agent (GET yenta /agents/{id}/cap-info); source_id is the yentaId. */
export const rezenNetworkCap = pgTable(
  "rezen_network_cap",
  {
    ...coreColumns("text"),
    capAmount: numeric("cap_amount"),
    capCurrency: text("cap_currency"),
    paidAmount: numeric("paid_amount"),
    paidCurrency: text("paid_currency"),
    capStartDate: date("cap_start_date", { mode: "string" }),
    capEndDate: date("cap_end_date", { mode: "string" }),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

/** Equity of the connection's agent; source_id is the yentaId. */
export const rezenEquity = pgTable(
  "rezen_equity",
  {
    ...coreColumns("text"),
    sharesOwned: numeric("shares_owned"),
    equityPurchaseAmount: numeric("equity_purchase_amount"),
    equityPurchaseCurrency: text("equity_purchase_currency"),
    equityAwardAmount: numeric("equity_award_amount"),
    equityAwardCurrency: text("equity_award_currency"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

export const rezenContributions = pgTable(
  "rezen_contributions",
  {
    ...coreColumns("text"),
    yentaId: text("yenta_id"),
    tier: integer("tier"),
    contributorYentaId: text("contributor_yenta_id"),
    transactionId: text("transaction_id"),
    amount: numeric("amount"),
    currency: text("currency"),
    contributedAt: tz("contributed_at"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

/** Teams with their members inline (`members`), one row per team. */
export const rezenTeamRoster = pgTable(
  "rezen_team_roster",
  {
    ...coreColumns("text"),
    name: text("name"),
    status: text("status"),
    members: jsonb("members"),
    memberCount: integer("member_count"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

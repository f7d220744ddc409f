import { z } from "zod";
import {
  rezenLifecycleGroupCounts,
  rezenListings,
  rezenTransactionList,
  rezenTransactions,
} from "../../db/schema";
import type { TotalsSpec } from "../types";
import { AGENT_PARENT } from "./agents";
import { arrakis } from "./hosts";
import {
  businessDate,
  dateOf,
  epochMs,
  money,
  moneyColumns,
  msToIso,
  num,
  rezenEntity,
  rezenUuid,
  text,
} from "./records";
import {
  listingDelete,
  listingToUnified,
  oneLineOf,
  transactionDelete,
  transactionToUnified,
  zipOf,
} from "./unified";

/** The lifecycle groups a participant's transactions are listed by; LISTING_* are listed as listings. */
export const TRANSACTION_GROUPS = ["OPEN", "CLOSED", "TERMINATED"] as const;
export const LISTING_GROUPS = ["LISTING_ACTIVE", "LISTING_NONTERMINATED"] as const;

const kindOf = (group: string) => (group.startsWith("LISTING_") ? "LISTING" : "TRANSACTION");

export const rezenGroupCountSchema = z.looseObject({
  lifecycleGroup: z.string().min(1),
  count: z.number().int().nonnegative().nullish(),
  yentaId: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/**
 * reZEN's count per lifecycle group (`/lifecycle-group-counts`, shape a community-derived choice). Each group
 * is the parent the transaction and listing lists fan out over, and its count is the reconciliation's tc_rezen.
 */
export const lifecycleGroups = rezenEntity({
  name: "lifecycleGroups",
  listPath: arrakis("/transactions/participant/{yentaId}/lifecycle-group-counts"),
  parent: AGENT_PARENT,
  single: true,
  collectionKey: "lifecycleGroupCounts",
  idField: "lifecycleGroup",
  schema: rezenGroupCountSchema,
  coreTable: rezenLifecycleGroupCounts,
  columns: (g) => ({ yenta_id: g.yentaId ?? null, kind: kindOf(g.lifecycleGroup), count: g.count ?? null }),
});

const address = z
  .looseObject({
    oneLine: text,
    street: text,
    street2: text,
    city: text,
    state: text,
    zip: text,
    zipCode: text,
    county: text,
  })
  .nullish();

const lifecycleState = z.looseObject({ state: text }).nullish();

/** A list item: partial ("lite"); the detail carries participants and money. */
export const rezenTransactionItemSchema = z.looseObject({
  id: rezenUuid,
  code: text,
  lifecycleState,
  yentaId: text,
  lifecycleGroup: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/**
 * Transactions of the participant per lifecycle group, newest change first. reZEN has no updated-since filter,
 * so every run lists every group whole (versioned by content: an unchanged item writes nothing); an item whose
 * `updatedAt` or group moved is rewritten, and only those have their detail fetched again.
 */
export const transactionList = rezenEntity({
  name: "transactionList",
  listPath: arrakis("/transactions/participant/{yentaId}/transactions/{lifecycleGroup}"),
  parent: {
    entity: "lifecycleGroups",
    pathParam: "lifecycleGroup",
    ancestors: { yentaId: "yenta_id" },
    where: { kind: "TRANSACTION" },
    stamp: { yentaId: "yentaId", lifecycleGroup: "lifecycleGroup" },
  },
  collectionKey: "transactions",
  sortParams: { sortBy: "UPDATED_AT", sortDirection: "DESC" },
  schema: rezenTransactionItemSchema,
  coreTable: rezenTransactionList,
  columns: (t) => ({
    yenta_id: t.yentaId ?? null,
    lifecycle_group: t.lifecycleGroup ?? null,
    code: t.code ?? null,
    listed_updated_at: msToIso(t.updatedAt),
  }),
});

const participant = z.looseObject({
  participantRole: text,
  external: z.boolean().nullish(),
  yentaUserId: text,
  firstName: text,
  lastName: text,
  emailAddress: text,
  phoneNumber: text,
  payment: z.looseObject({ amount: num, percent: num }).nullish(),
});

export const rezenTransactionSchema = z.looseObject({
  id: rezenUuid,
  code: text,
  transactionType: text,
  listing: z.boolean().nullish(),
  lifecycleState,
  complianceStatus: text,
  address,
  price: money,
  grossCommission: money,
  grossCommissionPercentage: num,
  myNetPayout: money,
  participants: z.array(participant).nullish(),
  contractAcceptanceDate: businessDate,
  closingDateEstimated: businessDate,
  closingDateActual: businessDate,
  mlsNum: text,
  leadSource: text,
  office: z.looseObject({ name: text }).nullish(),
  currency: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});
export type RezenTransaction = z.infer<typeof rezenTransactionSchema>;

/** A transaction's detail (GET arrakis /transactions/{id}), fetched for each listed item that changed. */
export const transactions = rezenEntity({
  name: "transactions",
  listPath: arrakis("/transactions/{transactionId}"),
  parent: { entity: "transactionList", pathParam: "transactionId" },
  single: true,
  versioning: "updated",
  schema: rezenTransactionSchema,
  coreTable: rezenTransactions,
  columns: (t) => ({
    code: t.code ?? null,
    transaction_type: t.transactionType ?? null,
    listing: t.listing ?? null,
    lifecycle_state: t.lifecycleState?.state ?? null,
    compliance_status: t.complianceStatus ?? null,
    address_one_line: oneLineOf(t.address),
    street: t.address?.street ?? null,
    city: t.address?.city ?? null,
    state: t.address?.state ?? null,
    zip: zipOf(t.address),
    ...moneyColumns("price", t.price),
    ...moneyColumns("gross_commission", t.grossCommission),
    ...moneyColumns("my_net_payout", t.myNetPayout),
    participants: t.participants ?? [],
    contract_acceptance_date: dateOf(t.contractAcceptanceDate),
    closing_date_estimated: dateOf(t.closingDateEstimated),
    closing_date_actual: dateOf(t.closingDateActual),
    mls_num: t.mlsNum ?? null,
    lead_source: t.leadSource ?? null,
    office_name: t.office?.name ?? null,
  }),
  more: (t, source) => [transactionToUnified(t, source)],
  alsoDelete: (sourceId) => [transactionDelete(sourceId)],
});

export const rezenListingSchema = z.looseObject({
  id: rezenUuid,
  code: text,
  lifecycleState,
  address,
  price: money,
  mlsNum: text,
  yentaId: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/**
 * Listings of the participant. An active listing is in both LISTING_ACTIVE and LISTING_NONTERMINATED: the
 * second sighting is the same content and writes nothing. A listing gone from both lists is deleted by the
 * complete scan's absence.
 */
export const listings = rezenEntity({
  name: "listings",
  listPath: arrakis("/transactions/participant/{yentaId}/listing-transactions/{lifecycleGroup}"),
  parent: {
    entity: "lifecycleGroups",
    pathParam: "lifecycleGroup",
    ancestors: { yentaId: "yenta_id" },
    where: { kind: "LISTING" },
    stamp: { yentaId: "yentaId" },
  },
  collectionKey: "transactions",
  sortParams: { sortBy: "UPDATED_AT", sortDirection: "DESC" },
  schema: rezenListingSchema,
  coreTable: rezenListings,
  columns: (l) => ({
    yenta_id: l.yentaId ?? null,
    lifecycle_group: null,
    code: l.code ?? null,
    lifecycle_state: l.lifecycleState?.state ?? null,
    address_one_line: oneLineOf(l.address),
    city: l.address?.city ?? null,
    state: l.address?.state ?? null,
    zip: zipOf(l.address),
    mls_num: l.mlsNum ?? null,
    ...moneyColumns("price", l.price),
  }),
  more: (l, source) => [listingToUnified(l, source)],
  alsoDelete: (sourceId) => [listingDelete(sourceId)],
});

const COUNTED = new Set(["transactionList", "transactions"]);

/**
 * The daily reconciliation's count: reZEN's lifecycle-group counts of the key's agent (tc_rezen), summed over
 * the transaction groups, against our live list items and details (tc_ad). Other entities have no cheap count
 * and are rescanned whole instead (they are every run anyway).
 */
export const rezenTotals: TotalsSpec = {
  url: ({ baseUrl, entity, credentials }) => {
    const yentaId = credentials?.yentaId;
    if (!COUNTED.has(entity.name) || !yentaId || !/^[0-9a-f-]{36}$/i.test(yentaId)) return null;
    const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
    return new URL(
      arrakis(`/transactions/participant/${yentaId}/lifecycle-group-counts`).replace(/^\//, ""),
      base,
    ).toString();
  },
  of: (body) => {
    const groups = (body as { lifecycleGroupCounts?: unknown } | null)?.lifecycleGroupCounts;
    if (!Array.isArray(groups)) return null;
    let total = 0;
    for (const g of groups as { lifecycleGroup?: unknown; count?: unknown }[]) {
      if (typeof g.lifecycleGroup !== "string" || kindOf(g.lifecycleGroup) !== "TRANSACTION") continue;
      if (typeof g.count !== "number" || !Number.isInteger(g.count)) return null;
      total += g.count;
    }
    return total;
  },
};

import { z } from "zod";
import { skyslopeListings, skyslopeTransactions } from "../../db/schema";
import type { IncrementalSpec } from "../types";
import {
  addressOf,
  formatSkyslopeSince,
  guidRef,
  money,
  skyslopeEntity,
  skyslopeGuid,
  skyslopeTime,
  text,
} from "./records";
import { skyslopeDate } from "./time";
import { listingDelete, listingToListing, saleToTransaction, transactionDelete } from "./unified";

/**
 * `api/files` answers only files created in the last 7 days unless a filter is given, so every list names one:
 * created since long before SkySlope existed. It also carries the type, so sales and listings are listed apart.
 */
export const EVERY_FILE = "1900-01-01T00:00:00";

/**
 * Deltas ask for `modifiedAfter`, written in SkySlope's offset-less format in the connection's zone. The order
 * of `api/files` is not published, so the cursor moves only when a run completes (as for a newest-first list).
 */
const incremental: IncrementalSpec = {
  param: "modifiedAfter",
  cursorField: "modifiedOn",
  order: "descending",
  formatSince: formatSkyslopeSince,
};

/** Nested shapes are unpublished (the vendor sample prints them as "[Object]"): any value passes, kept in raw. */
const nested = z.unknown().optional();

const fileBase = {
  objectType: text,
  agentGuid: guidRef,
  createdByGuid: guidRef,
  mlsNumber: text,
  status: text,
  officeId: z.number().int().nullish(),
  officeGuid: guidRef,
  checklistType: text,
  modifiedOn: skyslopeTime,
  createdOn: skyslopeTime.nullish(),
  listingPrice: money,
  email: text,
  agent: nested,
  stage: nested,
  customFields: nested,
};

export const saleSchema = z.looseObject({
  ...fileBase,
  saleGuid: skyslopeGuid,
  listingGuid: guidRef,
  escrowNumber: text,
  statusId: z.number().int().nullish(),
  dealType: text,
  salePrice: money,
  escrowClosingDate: skyslopeTime.nullish(),
  actualClosingDate: skyslopeTime.nullish(),
  contractAcceptanceDate: skyslopeTime.nullish(),
  property: nested,
});
export type SkyslopeSale = z.infer<typeof saleSchema>;

export const listingSchema = z.looseObject({
  ...fileBase,
  listingGuid: skyslopeGuid,
  type: text,
  listingDate: skyslopeTime.nullish(),
  expirationDate: skyslopeTime.nullish(),
  property: nested,
});
export type SkyslopeListing = z.infer<typeof listingSchema>;

const num = (v: number | string | null | undefined) => (v === null || v === undefined ? null : String(v));
const ref = (v: string | null | undefined) => (v ? v : null);

function fileColumns(f: z.infer<z.ZodObject<typeof fileBase>> & { property?: unknown }) {
  return {
    agent_guid: ref(f.agentGuid),
    created_by_guid: ref(f.createdByGuid),
    office_guid: ref(f.officeGuid),
    office_id: f.officeId ?? null,
    mls_number: f.mlsNumber ?? null,
    status: f.status ?? null,
    checklist_type: f.checklistType ?? null,
    listing_price: num(f.listingPrice),
    ...addressOf(f.property),
    file_email: f.email ?? null,
  };
}

/** Sales files: the seeds' `transaction` entity (mirror columns `transaction_status`, ...). */
export const transaction = skyslopeEntity({
  name: "transaction",
  listPath: "/api/files",
  collectionKey: "value",
  idField: "saleGuid",
  listParams: { type: "sale", createdAfter: EVERY_FILE },
  incremental,
  schema: saleSchema,
  coreTable: skyslopeTransactions,
  columns: (s) => ({
    ...fileColumns(s),
    listing_guid: ref(s.listingGuid),
    status_id: s.statusId ?? null,
    deal_type: s.dealType ?? null,
    sale_price: num(s.salePrice),
    escrow_number: s.escrowNumber ?? null,
    contract_acceptance_date: skyslopeDate(s.contractAcceptanceDate),
    escrow_closing_date: skyslopeDate(s.escrowClosingDate),
    actual_closing_date: skyslopeDate(s.actualClosingDate),
  }),
  more: (s, source) => [saleToTransaction(s, source)],
  alsoDelete: (id) => [transactionDelete(id)],
});

/** Listing files: the seeds' `listing` entity. */
export const listing = skyslopeEntity({
  name: "listing",
  listPath: "/api/files",
  collectionKey: "value",
  idField: "listingGuid",
  listParams: { type: "listing", createdAfter: EVERY_FILE },
  incremental,
  schema: listingSchema,
  coreTable: skyslopeListings,
  columns: (l) => ({
    ...fileColumns(l),
    type: l.type ?? null,
    listing_date: skyslopeDate(l.listingDate),
    expiration_date: skyslopeDate(l.expirationDate),
  }),
  more: (l, source) => [listingToListing(l, source)],
  alsoDelete: (id) => [listingDelete(id)],
});

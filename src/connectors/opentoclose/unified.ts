import { listings, transactions } from "../../db/schema/unified";
import type { CoreWrite, DeleteTarget, SourceContext } from "../types";
import { localToInstant } from "./local-time";
import type { TypedProperty } from "./properties";

/**
 * Open To Close properties on the cross-provider tables: every property is a transaction; a property with
 * listing data (a listing status, price or date) is also a listing. Rows are versioned by content like their
 * core row (no update time exists), so their source_updated_at stays null.
 */
export const PROVIDER = "opentoclose";

/**
 * Time shown as the deleted_at of a listing row whose property no longer has listing data: fixed, so an
 * unchanged property hashes the same on every scan and its unified row is not rewritten.
 */
export const NOT_A_LISTING_AT = "1970-01-01T00:00:00.000Z";

type PropertyLike = { id: number; created?: string | null; timezone?: string | null };

function sourceColumns(p: PropertyLike, source: SourceContext) {
  return {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    source_id: String(p.id),
    source_created_at: localToInstant(p.created, p.timezone),
    source_updated_at: null,
    deleted_at: null,
  };
}

/** One line: street, city, state and zip as present. */
export function addressLine(t: Pick<TypedProperty, "address" | "city" | "state" | "zip">): string | null {
  const tail = [t.state, t.zip].filter(Boolean).join(" ");
  const line = [t.address, t.city, tail].filter(Boolean).join(", ");
  return line || null;
}

export function propertyToTransaction(p: PropertyLike, t: TypedProperty, source: SourceContext): CoreWrite {
  return {
    table: transactions,
    row: {
      ...sourceColumns(p, source),
      name: t.title,
      address: addressLine(t),
      status: t.contractStatus,
      transaction_type: t.clientType,
      // The sale price once there is one, else the asking price.
      price: t.purchaseAmount ?? t.listingPrice,
      contract_date: t.contractDate,
      close_date: t.closingDate,
    },
  };
}

export const isListing = (t: TypedProperty) =>
  t.listingStatus !== null || t.listingPrice !== null || t.listingDate !== null;

/**
 * The property as a listing. A property without listing data writes its listing row deleted, so one that loses
 * its listing data stops being a listing at the next scan; `listed_at` is the listing date's midnight in the
 * property's zone.
 */
export function propertyToListing(p: PropertyLike, t: TypedProperty, source: SourceContext): CoreWrite {
  const listed = isListing(t);
  return {
    table: listings,
    row: {
      ...sourceColumns(p, source),
      deleted_at: listed ? null : NOT_A_LISTING_AT,
      address: t.address,
      city: t.city,
      state: t.state,
      postal_code: t.zip,
      mls_number: t.mlsNumber,
      price: t.listingPrice,
      status: t.listingStatus,
      listed_at: t.listingDate ? localToInstant(t.listingDate, p.timezone) : null,
    },
  };
}

export const transactionDelete = (sourceId: string): DeleteTarget => ({ table: transactions, sourceId });
export const listingDelete = (sourceId: string): DeleteTarget => ({ table: listings, sourceId });

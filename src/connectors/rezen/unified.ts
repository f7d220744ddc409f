import { listings, transactions } from "../../db/schema/unified";
import type { CoreWrite, DeleteTarget, SourceContext } from "../types";
import { dateOf, type Money, msToIso } from "./records";

/** reZEN records on the cross-provider tables: transaction details are transactions, listings are listings. */
export const PROVIDER = "rezen";

const amount = (m: Money) =>
  m == null ? null : typeof m === "number" ? String(m) : m.amount == null ? null : String(m.amount);

type Address = {
  oneLine?: string | null;
  street?: string | null;
  city?: string | null;
  state?: string | null;
  zip?: string | null;
  zipCode?: string | null;
} | null;

/** `zip` and `zipCode` both occur; either is the postal code. */
export const zipOf = (a: Address | undefined) => a?.zip ?? a?.zipCode ?? null;

export const oneLineOf = (a: Address | undefined) =>
  a?.oneLine ?? ([a?.street, a?.city, a?.state, zipOf(a)].filter(Boolean).join(", ") || null);

function sourceColumns(
  r: { createdAt?: number | null; updatedAt?: number | null },
  source: SourceContext,
  sourceId: string,
  byContent: boolean,
) {
  return {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    source_id: sourceId,
    source_created_at: msToIso(r.createdAt),
    source_updated_at: byContent ? null : msToIso(r.updatedAt),
    deleted_at: null,
  };
}

export type TransactionLike = {
  id: string;
  code?: string | null;
  transactionType?: string | null;
  lifecycleState?: { state?: string | null } | null;
  address?: Address;
  price?: Money;
  contractAcceptanceDate?: string | number | null;
  closingDateActual?: string | number | null;
  closingDateEstimated?: string | number | null;
  createdAt?: number | null;
  updatedAt?: number | null;
};

/** A terminated deal stays a live row with status TERMINATED, as reZEN keeps it (no deletes). */
export function transactionToUnified(t: TransactionLike, source: SourceContext): CoreWrite {
  return {
    table: transactions,
    row: {
      ...sourceColumns(t, source, t.id.toLowerCase(), false),
      name: t.code ?? null,
      address: oneLineOf(t.address),
      status: t.lifecycleState?.state ?? null,
      transaction_type: t.transactionType ?? null,
      price: amount(t.price),
      contract_date: dateOf(t.contractAcceptanceDate),
      close_date: dateOf(t.closingDateActual ?? t.closingDateEstimated),
    },
  };
}

export type ListingLike = TransactionLike & { mlsNum?: string | null };

/** Listings are listed without a version reZEN publishes for the list: versioned by content, as their core row. */
export function listingToUnified(l: ListingLike, source: SourceContext): CoreWrite {
  return {
    table: listings,
    row: {
      ...sourceColumns(l, source, l.id.toLowerCase(), true),
      address: oneLineOf(l.address),
      city: l.address?.city ?? null,
      state: l.address?.state ?? null,
      postal_code: zipOf(l.address),
      mls_number: l.mlsNum ?? null,
      price: amount(l.price),
      status: l.lifecycleState?.state ?? null,
      listed_at: msToIso(l.createdAt),
    },
  };
}

export const transactionDelete = (sourceId: string): DeleteTarget => ({ table: transactions, sourceId });
export const listingDelete = (sourceId: string): DeleteTarget => ({ table: listings, sourceId });

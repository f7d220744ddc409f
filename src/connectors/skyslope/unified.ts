import { listings, transactions } from "../../db/schema/unified";
import type { CoreWrite, DeleteTarget, SourceContext } from "../types";
import type { SkyslopeListing, SkyslopeSale } from "./files";
import { addressOf, INSTANTS } from "./records";
import { skyslopeDate } from "./time";

/** SkySlope files on the cross-provider tables: sales are transactions, listings are listings. */
export const PROVIDER = "skyslope";

function sourceColumns(record: Record<string, unknown>, source: SourceContext, sourceId: string) {
  const instants = (record[INSTANTS] ?? {}) as { modifiedOn?: string | null; createdOn?: string | null };
  return {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    source_id: sourceId,
    source_created_at: instants.createdOn ?? null,
    source_updated_at: instants.modifiedOn ?? null,
    deleted_at: null,
  };
}

function oneLine(p: unknown): string | null {
  const a = addressOf(p);
  const street = [a.street_number, a.street_address].filter(Boolean).join(" ");
  const line = [street, a.city, [a.state, a.zip].filter(Boolean).join(" ")].filter(Boolean).join(", ");
  return line || null;
}

const price = (v: number | string | null | undefined) => (v === null || v === undefined ? null : String(v));

export function saleToTransaction(s: SkyslopeSale, source: SourceContext): CoreWrite {
  return {
    table: transactions,
    row: {
      ...sourceColumns(s, source, s.saleGuid),
      name: oneLine(s.property) ?? s.email ?? null,
      address: oneLine(s.property),
      status: s.status ?? null,
      transaction_type: s.dealType ?? null,
      price: price(s.salePrice),
      contract_date: skyslopeDate(s.contractAcceptanceDate),
      // The actual closing once there is one, else the escrow's planned date.
      close_date: skyslopeDate(s.actualClosingDate) ?? skyslopeDate(s.escrowClosingDate),
    },
  };
}

export function listingToListing(l: SkyslopeListing, source: SourceContext): CoreWrite {
  const a = addressOf(l.property);
  const instants = (l[INSTANTS] ?? {}) as { createdOn?: string | null };
  const listed = skyslopeDate(l.listingDate);
  return {
    table: listings,
    row: {
      ...sourceColumns(l, source, l.listingGuid),
      address: [a.street_number, a.street_address].filter(Boolean).join(" ") || null,
      city: a.city,
      state: a.state,
      postal_code: a.zip,
      mls_number: l.mlsNumber || null,
      price: price(l.listingPrice),
      status: l.status ?? null,
      // A listing date is a date: midnight UTC of it; without one, when the file was created.
      listed_at: listed ? `${listed}T00:00:00Z` : (instants.createdOn ?? null),
    },
  };
}

export const transactionDelete = (sourceId: string): DeleteTarget => ({ table: transactions, sourceId });
export const listingDelete = (sourceId: string): DeleteTarget => ({ table: listings, sourceId });

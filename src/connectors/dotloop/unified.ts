import { contacts, transactions } from "../../db/schema/unified";
import type { CoreWrite, DeleteTarget, SourceContext } from "../types";
import type { TypedDetail } from "./details";
import { instantOrNull } from "./records";

/**
 * Dotloop records mapped onto the cross-provider tables: loops (with their detail) are transactions; contacts
 * and loop participants are contacts. Participants and contacts are separate id spaces in Dotloop, so a
 * participant's unified source id carries its kind (`participant:2355`), as activities do.
 */
export const PROVIDER = "dotloop";

export const participantContactId = (id: number | string) => `participant:${id}`;

type Stamped = { id: number; created?: string | null; updated?: string | null };

function sourceColumns(record: Stamped, source: SourceContext, sourceId: string, byContent: boolean) {
  return {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    source_id: sourceId,
    source_created_at: instantOrNull(record.created),
    source_updated_at: byContent ? null : instantOrNull(record.updated),
    deleted_at: null,
  };
}

export type LoopLike = Stamped & {
  name?: string | null;
  status?: string | null;
  transactionType?: string | null;
};

/**
 * A loop as a transaction. Archived loops stay live with status ARCHIVED, as Dotloop keeps them. Without its
 * detail (a loop fetched without `include_details`) the address, price and dates are null: the connector
 * always lists loops with their details, so such a row is written only by a fetch that could not have them.
 */
export function loopToTransaction(l: LoopLike, detail: TypedDetail | null, source: SourceContext): CoreWrite {
  return {
    table: transactions,
    row: {
      ...sourceColumns(l, source, String(l.id), false),
      name: l.name ?? null,
      address: detail?.address ?? null,
      status: l.status ?? null,
      transaction_type: l.transactionType ?? null,
      // The sale price once there is one, else what the listing asks now, else what it first asked.
      price: detail ? (detail.purchase_price ?? detail.current_price ?? detail.original_price) : null,
      contract_date: detail?.contract_date ?? null,
      close_date: detail?.closing_date ?? null,
    },
  };
}

export type ContactLike = Stamped & {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  home?: string | null;
  office?: string | null;
};

export function contactToContact(c: ContactLike, source: SourceContext): CoreWrite {
  const first = c.firstName ?? null;
  const last = c.lastName ?? null;
  return {
    table: contacts,
    row: {
      ...sourceColumns(c, source, String(c.id), false),
      name: [first, last].filter(Boolean).join(" ") || null,
      first_name: first,
      last_name: last,
      primary_email: c.email ?? null,
      // Dotloop publishes home, office and fax numbers; the first two reach a person.
      primary_phone: c.home ?? c.office ?? null,
      stage: null,
      lead_source: null,
      tags: [],
      assigned_to: null,
    },
  };
}

export type ParticipantLike = Stamped & {
  fullName?: string | null;
  email?: string | null;
  role?: string | null;
  phone?: string | null;
  "cell phone"?: string | null;
};

/** A participant's name comes whole (`fullName`); first/last are not split, since names do not split reliably. */
export function participantToContact(p: ParticipantLike, source: SourceContext): CoreWrite {
  return {
    table: contacts,
    row: {
      // Participants carry no update time: versioned by content like their core row.
      ...sourceColumns(p, source, participantContactId(p.id), true),
      name: p.fullName ?? null,
      first_name: null,
      last_name: null,
      primary_email: p.email ?? null,
      primary_phone: p.phone ?? p["cell phone"] ?? null,
      // The role in the transaction (BUYER, LISTING_AGENT) is where this person stands in it.
      stage: p.role ?? null,
      lead_source: null,
      tags: [],
      assigned_to: null,
    },
  };
}

export const contactDelete = (sourceId: string): DeleteTarget => ({ table: contacts, sourceId });
export const participantDelete = (sourceId: string): DeleteTarget => ({
  table: contacts,
  sourceId: participantContactId(sourceId),
});
export const transactionDelete = (sourceId: string): DeleteTarget => ({ table: transactions, sourceId });

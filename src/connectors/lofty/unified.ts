import { activities, contacts, transactions } from "../../db/schema/unified";
import type { CoreWrite, DeleteTarget, SourceContext } from "../types";
import { instantOf } from "./time";

/**
 * Lofty records on the cross-provider tables: leads are contacts, transactions are transactions, and notes,
 * calls and activities share the activity timeline, their source ids prefixed by kind (`note:12`) because
 * Lofty numbers each kind on its own.
 */
export const PROVIDER = "lofty";

export type ActivityKind = "note" | "call" | "activity";
export const activityId = (kind: ActivityKind, id: string) => `${kind}:${id}`;

export function sourceColumns(
  source: SourceContext,
  sourceId: string,
  created: unknown,
  updated: unknown,
  byContent: boolean,
) {
  return {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    source_id: sourceId,
    source_created_at: instantOf(created),
    source_updated_at: byContent ? null : instantOf(updated),
    deleted_at: null,
  };
}

export function leadToContact(
  l: {
    id: string;
    created: unknown;
    updated: unknown;
    firstName: string | null;
    lastName: string | null;
    email: string | null;
    phone: string | null;
    stage: string | null;
    source: string | null;
    tags: string[];
    assignedUserId: string | null;
  },
  source: SourceContext,
): CoreWrite {
  return {
    table: contacts,
    row: {
      ...sourceColumns(source, l.id, l.created, l.updated, false),
      name: [l.firstName, l.lastName].filter(Boolean).join(" ") || null,
      first_name: l.firstName,
      last_name: l.lastName,
      primary_email: l.email,
      primary_phone: l.phone,
      stage: l.stage,
      lead_source: l.source,
      tags: l.tags,
      assigned_to: l.assignedUserId,
    },
  };
}

export function toActivity(
  a: {
    kind: ActivityKind;
    id: string;
    created: unknown;
    updated: unknown;
    byContent: boolean;
    type: string;
    occurredAt: string | null;
    leadId: string | null;
    userId: string | null;
    summary: string | null;
    direction?: string | null;
    durationSeconds?: number | null;
  },
  source: SourceContext,
): CoreWrite {
  return {
    table: activities,
    row: {
      ...sourceColumns(source, activityId(a.kind, a.id), a.created, a.updated, a.byContent),
      type: a.type,
      occurred_at: a.occurredAt,
      contact_source_id: a.leadId,
      user_source_id: a.userId,
      summary: a.summary,
      direction: a.direction ?? null,
      duration_seconds: a.durationSeconds ?? null,
    },
  };
}

export const contactDelete = (sourceId: string): DeleteTarget => ({ table: contacts, sourceId });
export const transactionDelete = (sourceId: string): DeleteTarget => ({ table: transactions, sourceId });
export const activityDelete =
  (kind: ActivityKind) =>
  (sourceId: string): DeleteTarget => ({ table: activities, sourceId: activityId(kind, sourceId) });

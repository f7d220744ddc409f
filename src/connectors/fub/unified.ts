import { activities, contacts, deals } from "../../db/schema/unified";
import type { CoreWrite, SourceContext } from "../types";
import { createdOf, updatedOf } from "./records";

/**
 * Follow Up Boss records mapped onto the cross-provider tables. Inputs are the fields these mappings read,
 * typed loosely on purpose: the entity schemas (validated before mapping) own the exact shapes, and any of
 * them whose parsed type has these fields can be passed in.
 */
type FubStamped = {
  id: number;
  created?: string | null;
  createdAt?: string | null;
  updated?: string | null;
  updatedAt?: string | null;
};
type ContactPoint = { value: string; isPrimary?: boolean | number | null };
type Ref = { id?: number | null };

export type FubPersonLike = FubStamped & {
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  stage?: string | null;
  source?: string | null;
  tags?: string[] | null;
  assignedUserId?: number | null;
  emails?: ContactPoint[] | null;
  phones?: ContactPoint[] | null;
};

export type FubDealLike = FubStamped & {
  name?: string | null;
  stageName?: string | null;
  stageId?: number | null;
  status?: string | null;
  price?: number | null;
  closeDate?: string | null;
  projectedCloseDate?: string | null;
  people?: Ref[] | null;
  users?: Ref[] | null;
};

export type FubCallLike = FubStamped & {
  personId?: number | null;
  userId?: number | null;
  isIncoming?: boolean | null;
  duration?: number | null;
  outcome?: string | null;
  note?: string | null;
};

export type FubTextLike = FubStamped & {
  personId?: number | null;
  userId?: number | null;
  isIncoming?: boolean | null;
  message?: string | null;
};

export type FubEventLike = FubStamped & {
  personId?: number | null;
  type?: string | null;
  description?: string | null;
  message?: string | null;
  occurred?: string | null;
};

export type FubAppointmentLike = FubStamped & {
  title?: string | null;
  description?: string | null;
  start?: string | null;
  invitees?: { personId?: number | null; userId?: number | null }[] | null;
};

const PROVIDER = "fub";

function sourceColumns(record: FubStamped, source: SourceContext, sourceId: string) {
  return {
    account_id: source.accountId,
    provider: PROVIDER,
    connection_id: source.connectionId,
    source_id: sourceId,
    source_created_at: createdOf(record),
    source_updated_at: updatedOf(record),
    deleted_at: null,
  };
}

const idText = (id: number | null | undefined) => (id == null ? null : String(id));

/** The point flagged primary (FUB sends true or 1), else the first one. */
function primaryValue(points: ContactPoint[] | null | undefined): string | null {
  if (!points || points.length === 0) return null;
  const flagged = points.find((p) => p.isPrimary === true || p.isPrimary === 1);
  return (flagged ?? points[0])?.value ?? null;
}

/** FUB sends dates as `YYYY-MM-DD` or full timestamps; the column is a date. */
function dateOnly(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^\d{4}-\d{2}-\d{2}/.exec(value);
  return match ? match[0] : null;
}

function refIds(refs: Ref[] | null | undefined): string[] {
  return (refs ?? []).flatMap((r) => (r.id == null ? [] : [String(r.id)]));
}

/** Activity source ids carry their kind: FUB numbers calls, texts, events and appointments separately. */
export const activitySourceId = (kind: "call" | "text" | "event" | "appointment", id: number | string) =>
  `${kind}:${id}`;

export function fubPersonToContact(p: FubPersonLike, source: SourceContext): CoreWrite {
  const first = p.firstName ?? null;
  const last = p.lastName ?? null;
  return {
    table: contacts,
    row: {
      ...sourceColumns(p, source, String(p.id)),
      name: p.name ?? ([first, last].filter(Boolean).join(" ") || null),
      first_name: first,
      last_name: last,
      primary_email: primaryValue(p.emails),
      primary_phone: primaryValue(p.phones),
      stage: p.stage ?? null,
      lead_source: p.source ?? null,
      tags: p.tags ?? [],
      assigned_to: idText(p.assignedUserId),
    },
  };
}

export function fubDealToDeal(d: FubDealLike, source: SourceContext): CoreWrite {
  return {
    table: deals,
    row: {
      ...sourceColumns(d, source, String(d.id)),
      name: d.name ?? null,
      stage: d.stageName ?? (d.stageId == null ? null : String(d.stageId)),
      status: d.status ?? null,
      price: d.price ?? null,
      close_date: dateOnly(d.closeDate),
      projected_close_date: dateOnly(d.projectedCloseDate),
      contact_source_ids: refIds(d.people),
      user_source_ids: refIds(d.users),
    },
  };
}

function direction(isIncoming: boolean | null | undefined): string | null {
  if (isIncoming == null) return null;
  return isIncoming ? "inbound" : "outbound";
}

function activityRow(
  record: FubStamped,
  source: SourceContext,
  kind: "call" | "text" | "event" | "appointment",
  fields: {
    type: string;
    occurredAt: string | null;
    contact: number | null | undefined;
    user: number | null | undefined;
    summary: string | null;
    direction: string | null;
    durationSeconds?: number | null;
  },
): CoreWrite {
  return {
    table: activities,
    row: {
      ...sourceColumns(record, source, activitySourceId(kind, record.id)),
      type: fields.type,
      occurred_at: fields.occurredAt,
      contact_source_id: idText(fields.contact),
      user_source_id: idText(fields.user),
      summary: fields.summary,
      direction: fields.direction,
      duration_seconds: fields.durationSeconds ?? null,
    },
  };
}

export function fubCallToActivity(c: FubCallLike, source: SourceContext): CoreWrite {
  return activityRow(c, source, "call", {
    type: "call",
    occurredAt: createdOf(c) ?? updatedOf(c),
    contact: c.personId,
    user: c.userId,
    summary: [c.outcome, c.note].filter(Boolean).join(": ") || null,
    direction: direction(c.isIncoming),
    durationSeconds: c.duration ?? null,
  });
}

export function fubTextToActivity(t: FubTextLike, source: SourceContext): CoreWrite {
  return activityRow(t, source, "text", {
    type: "text",
    occurredAt: createdOf(t) ?? updatedOf(t),
    contact: t.personId,
    user: t.userId,
    summary: t.message ?? null,
    direction: direction(t.isIncoming),
  });
}

export function fubEventToActivity(e: FubEventLike, source: SourceContext): CoreWrite {
  return activityRow(e, source, "event", {
    type: "event",
    occurredAt: e.occurred ?? createdOf(e) ?? updatedOf(e),
    contact: e.personId,
    user: null,
    summary: [e.type, e.description ?? e.message].filter(Boolean).join(": ") || null,
    // Events are things a lead did (inquiry, registration): they come in.
    direction: "inbound",
  });
}

export function fubAppointmentToActivity(a: FubAppointmentLike, source: SourceContext): CoreWrite {
  const invitees = a.invitees ?? [];
  return activityRow(a, source, "appointment", {
    type: "appointment",
    occurredAt: a.start ?? createdOf(a) ?? updatedOf(a),
    contact: invitees.find((i) => i.personId != null)?.personId,
    user: invitees.find((i) => i.userId != null)?.userId,
    summary: [a.title, a.description].filter(Boolean).join(": ") || null,
    direction: null,
  });
}

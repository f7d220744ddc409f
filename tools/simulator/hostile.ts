// Hostile data: records and webhook bodies holding what real providers and senders can produce
// and what storage layers tend to refuse (NUL, lone surrogates, control characters, megabyte
// strings, 10,000-deep nesting, integers beyond 2^53, ids beyond 2^31). A hostile record is the
// provider's data, not a transport fault: it is the same on every fetch and in the ground truth.

import {
  BIGNUM_FIELD,
  BIGNUM_JSON,
  BIGNUM_VALUE,
  DEEP_FIELD,
  DEEP_JSON,
  DEEP_LEVELS,
  DEEP_VALUE,
  hostileString,
  RawJson,
  serialize,
} from "../lib/hostile";
import type { EntityName, Rec } from "./data";

export const HOSTILE_KINDS = [
  "nul",
  "surrogate",
  "control",
  "emoji",
  "long",
  "deep",
  "bignum",
  "bigId",
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];
/** Kinds the rate knob applies to base records (an id cannot be changed after the fact). */
export const HOSTILE_CONTENT_KINDS = HOSTILE_KINDS.filter((k) => k !== "bigId");

/** Ids of records created with kind bigId start here (beyond a signed 32-bit integer). */
export const BIG_ID_BASE = 2 ** 31;

/** The string field each entity's hostile string kinds are written into. */
export const HOSTILE_FIELD: Record<EntityName, string> = {
  people: "lastName",
  deals: "name",
  events: "message",
  calls: "note",
  textMessages: "message",
  appointments: "title",
  users: "lastName",
  groups: "name",
  stages: "name",
};
export { BIGNUM_FIELD, BIGNUM_JSON, DEEP_FIELD, DEEP_JSON, DEEP_LEVELS, hostileString, RawJson, serialize };

/** Where a kind puts its payload. */
export function hostileField(entity: EntityName, kind: HostileKind): string {
  if (kind === "deep") return DEEP_FIELD;
  if (kind === "bignum") return BIGNUM_FIELD;
  if (kind === "bigId") return "id";
  return HOSTILE_FIELD[entity];
}

/** The record as the provider holds it, given its clean form. */
export function applyHostile(entity: EntityName, rec: Rec, kind: HostileKind): Rec {
  const out: Rec = { ...rec };
  if (kind === "deep") out[DEEP_FIELD] = DEEP_VALUE;
  else if (kind === "bignum") out[BIGNUM_FIELD] = BIGNUM_VALUE;
  else if (kind !== "bigId") {
    const f = HOSTILE_FIELD[entity];
    out[f] = hostileString(kind, rec[f]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Hostile webhook bodies

export const HOSTILE_WEBHOOK_KINDS = [
  "nul-eventId",
  "surrogate-eventId",
  "nul-event",
  "surrogate-event",
  "nul-uri",
  "surrogate-uri",
  "control-eventId",
  "deep-nesting",
  "deep-resourceIds",
  "invalid-utf8",
] as const;
export type HostileWebhookKind = (typeof HOSTILE_WEBHOOK_KINDS)[number];

export interface HostileWebhookBody {
  kind: HostileWebhookKind;
  /** the fields as a JSON reader sees them (eventId may hold NUL or a lone surrogate) */
  eventId: string;
  event: string;
  uri: string;
  /** exact bytes sent (and signed) */
  body: Uint8Array;
}

/**
 * A thin FUB payload naming real records, with one hostile part. JSON.stringify escapes NUL
 * and lone surrogates (`\u0000`, `\udc00`), which is what a JSON sender puts on the wire;
 * invalid-utf8 puts raw 0xFF bytes into the eventId string instead.
 */
export function hostileWebhookBody(
  kind: HostileWebhookKind,
  base: { eventId: string; eventCreated: string; event: string; resourceIds: number[]; uri: string },
): HostileWebhookBody {
  let { eventId, event, uri } = base;
  if (kind === "nul-eventId") eventId = `${eventId}\u0000`;
  if (kind === "surrogate-eventId") eventId = `${eventId}\udc00`;
  if (kind === "control-eventId") eventId = `${eventId}\u0001\u001b\u007f`;
  if (kind === "nul-event") event = `${event}\u0000`;
  if (kind === "surrogate-event") event = `${event}\ud800`;
  if (kind === "nul-uri") uri = `${uri}\u0000`;
  if (kind === "surrogate-uri") uri = `${uri}\udfff`;
  const payload: Record<string, unknown> = {
    eventId,
    eventCreated: base.eventCreated,
    event,
    resourceIds:
      kind === "deep-resourceIds"
        ? new RawJson(`${"[".repeat(DEEP_LEVELS)}${base.resourceIds.join(",")}${"]".repeat(DEEP_LEVELS)}`)
        : base.resourceIds,
    uri,
  };
  if (kind === "deep-nesting") payload.data = DEEP_VALUE;
  const enc = new TextEncoder();
  if (kind === "invalid-utf8") {
    const marker = "\u0000MARK\u0000";
    const text = serialize({ ...payload, eventId: `${eventId}${marker}` }, false).replace(
      "\\u0000MARK\\u0000",
      "MARK",
    );
    const [head, tail] = text.split("MARK") as [string, string];
    const bytes = new Uint8Array([...enc.encode(head), 0xff, 0xfe, 0xc0, 0x80, ...enc.encode(tail)]);
    const lenient = JSON.parse(new TextDecoder().decode(bytes)) as { eventId: string };
    return { kind, eventId: lenient.eventId, event, uri, body: bytes };
  }
  return { kind, eventId, event, uri, body: enc.encode(serialize(payload, true)) };
}

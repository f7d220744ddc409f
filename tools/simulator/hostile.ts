// Hostile data: records and webhook bodies holding what real providers and senders can produce
// and what storage layers tend to refuse (NUL, lone surrogates, control characters, megabyte
// strings, 10,000-deep nesting, integers beyond 2^53, ids beyond 2^31). A hostile record is the
// provider's data, not a transport fault: it is the same on every fetch and in the ground truth.

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
/** Extra fields of the structural kinds. */
export const DEEP_FIELD = "extraNested";
export const BIGNUM_FIELD = "extraNumbers";
export const DEEP_LEVELS = 10_000;

/**
 * A JSON value kept as its exact text: JSON.stringify cannot write 10,000 levels (stack) nor an
 * integer a double cannot hold. serialize() splices the text in.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

export const DEEP_JSON = `${"[".repeat(DEEP_LEVELS)}1${"]".repeat(DEEP_LEVELS)}`;
export const BIGNUM_JSON = "[9007199254740993,18446744073709551617,-123456789012345678901234567890,1e400]";
const DEEP_VALUE = new RawJson(DEEP_JSON);
const BIGNUM_VALUE = new RawJson(BIGNUM_JSON);

let longTail: string | undefined;
/** 400,000 × "Ωx": 1.2 MB of UTF-8, built once. */
function long(): string {
  longTail ??= "Ωx".repeat(400_000);
  return longTail;
}

/** The hostile string a kind writes, around the field's own value so records stay distinguishable. */
export function hostileString(kind: HostileKind, original: unknown): string {
  const o = original === null || original === undefined ? "" : String(original);
  switch (kind) {
    case "nul":
      return `${o}\u0000nul`;
    case "surrogate":
      return `${o}\udc00\ud800x`;
    case "control":
      return `${o}\u0001\u0008\u000b\u000c\u001b[31m\u007f\u0085\u2028\u2029`;
    case "emoji":
      return `🏡 ${o} 👨‍👩‍👧‍👦 Zoë ﷽ 🇺🇸`;
    case "long":
      return `${o} ${long()}`;
    default:
      return o;
  }
}

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

// Made on first use: workerd refuses random values at module scope.
let placeholder: { nonce: string; pattern: RegExp } | undefined;

/** JSON text of a value that may hold RawJson parts (plain JSON.stringify when `raw` is false). */
export function serialize(value: unknown, raw: boolean): string {
  if (!raw) return JSON.stringify(value);
  if (!placeholder) {
    const nonce = `raw${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    placeholder = { nonce, pattern: new RegExp(`"${nonce}:(\\d+)"`, "g") };
  }
  const { nonce, pattern } = placeholder;
  const parts: string[] = [];
  const text = JSON.stringify(value, (_k, v) =>
    v instanceof RawJson ? `${nonce}:${parts.push(v.text) - 1}` : v,
  );
  return parts.length === 0 ? text : text.replace(pattern, (_m, n: string) => parts[Number(n)] as string);
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

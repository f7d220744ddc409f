// Hostile values every simulator serves the same way: what real providers' users can type and senders can
// produce, and what storage layers tend to refuse (NUL, lone surrogates, control characters, bidi overrides,
// megabyte strings, 10,000-deep nesting, numbers a double cannot hold). A hostile value is the provider's data,
// not a transport fault: it is the same on every fetch and in a simulator's ground truth.

/** Kinds that change a string field. */
export const HOSTILE_STRING_KINDS = [
  "nul",
  "surrogate",
  "control",
  "bidi",
  "emoji",
  "long",
  "quote",
] as const;
export type HostileStringKind = (typeof HOSTILE_STRING_KINDS)[number];

/** Kinds that add a structure beside the record's own fields. */
export const HOSTILE_STRUCTURE_KINDS = ["deep", "bignum"] as const;
export type HostileStructureKind = (typeof HOSTILE_STRUCTURE_KINDS)[number];

/** Every kind a record can carry: one string field changed, or one hostile structure added. */
export const HOSTILE_RECORD_KINDS = [...HOSTILE_STRING_KINDS, ...HOSTILE_STRUCTURE_KINDS] as const;
export type HostileRecordKind = (typeof HOSTILE_RECORD_KINDS)[number];

export const isStringKind = (kind: string): kind is HostileStringKind =>
  (HOSTILE_STRING_KINDS as readonly string[]).includes(kind);

/** Fields the structural kinds add. */
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
/** What a copy that keeps exact digits holds for BIGNUM_JSON (each lossy number as a string of its digits). */
export const BIGNUM_EXACT = [
  "9007199254740993",
  "18446744073709551617",
  "-123456789012345678901234567890",
  "1e400",
];
export const DEEP_VALUE = new RawJson(DEEP_JSON);
export const BIGNUM_VALUE = new RawJson(BIGNUM_JSON);
/** An integer a double cannot hold, for a numeric field (an amount, a count). */
export const BIG_INTEGER = new RawJson("9007199254740993");

let longTail: string | undefined;
/** 400,000 × "Ωx": 1.2 MB of UTF-8, built once. */
function long(): string {
  longTail ??= "Ωx".repeat(400_000);
  return longTail;
}

/**
 * The hostile string of a kind, around the field's own value so records stay distinguishable; a kind that is
 * not a string kind leaves the value as it was.
 */
export function hostileString(kind: string, original: unknown): string {
  const o = original === null || original === undefined ? "" : String(original);
  switch (kind) {
    case "nul":
      return `${o}\u0000nul`;
    case "surrogate":
      return `${o}\udc00\ud800x`;
    case "control":
      return `${o}\u0001\u0008\u000b\u000c\u001b[31m\u007f\u0085\u2028\u2029`;
    case "bidi":
      return `\u202e${o}\u202c`;
    case "emoji":
      return `🏡 ${o} 👨‍👩‍👧‍👦 Zoë ﷽ 🇺🇸`;
    case "long":
      return `${o} ${long()}`;
    case "quote":
      return `${o}'); DROP TABLE loops;-- "\\`;
    default:
      return o;
  }
}

/**
 * A record carrying one hostile kind: a string kind rewrites `field` (a dotted path into nested objects), a
 * structural kind adds its field. The record is copied; nested objects on the path are copied too.
 */
export function withHostile<T extends object>(record: T, kind: HostileRecordKind, field: string): T {
  const out = { ...record } as Record<string, unknown>;
  if (kind === "deep") out[DEEP_FIELD] = DEEP_VALUE;
  else if (kind === "bignum") out[BIGNUM_FIELD] = BIGNUM_VALUE;
  else {
    const path = field.split(".");
    let holder = out;
    for (const key of path.slice(0, -1)) {
      const next = { ...((holder[key] as Record<string, unknown> | null) ?? {}) };
      holder[key] = next;
      holder = next;
    }
    const last = path[path.length - 1] as string;
    holder[last] = hostileString(kind, holder[last]);
  }
  return out as T;
}

// Made on first use: workerd refuses random values at module scope.
let placeholder: { nonce: string; pattern: RegExp } | undefined;

/** JSON text of a value that may hold RawJson parts (plain JSON.stringify when `raw` is false). */
export function serialize(value: unknown, raw = true): string {
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

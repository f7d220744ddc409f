/**
 * The storable-JSON encoding: how a JSON value Postgres cannot hold travels and is stored anyway.
 *
 * Postgres refuses, inside jsonb (and json_to_recordset / ->> / every ::jsonb cast) and in text columns:
 * - the escape \u0000 ("\u0000 cannot be converted to text"); a text column cannot hold NUL at all;
 * - an escaped lone surrogate \ud800-\udfff ("Unicode low surrogate must follow a high surrogate"); sent
 *   as a string through the driver it silently becomes U+FFFD, so it is not faithful either;
 * - nesting beyond its stack (about 16,000 levels for jsonb at the default 2 MB max_stack_depth); the JS
 *   engines' recursive JSON.stringify gives up far earlier (about 4,000 levels in Node).
 *
 * Such a value is carried as a flat wrapper whose only string holds the JSON text, with every escape as
 * plain ASCII:
 *
 *     {"$unstorable": "<the JSON text>", "reason": "nul" | "lone_surrogate" | "too_deep" | "reserved_key" | "refused"}
 *
 * and decoded back (decodeStorable) before anything reads the value. `reserved_key` marks a value that merely
 * looks like the wrapper, so decoding is never ambiguous; `refused` one Postgres refused for a reason the
 * checks here did not foresee (the copy is then kept as it was received). JSON numbers beyond 2^53 lose precision wherever
 * the JSON is parsed (the staged and failed copies too): they are JS doubles from the provider's response on.
 *
 * Detection is cheap on purpose: JSON.stringify escapes exactly NUL (as \u0000) and lone surrogates (as
 * \udXXX), so one regex test over text that is built anyway finds them. Depth is only measured where a
 * caller asks for it (bounded webhook bodies, or after Postgres refused a batch).
 */

export const UNSTORABLE_KEY = "$unstorable";

export type UnstorableReason = "nul" | "lone_surrogate" | "too_deep" | "reserved_key" | "refused";

export type UnstorableWrapper = { $unstorable: string; reason: UnstorableReason };

/**
 * Deeper than this is not stored as is where depth is checked (webhook bodies; a batch Postgres refused;
 * a value too deep for the engine's own JSON.stringify). Beyond 10,000 levels (the deepest hostile record the
 * platform promises to keep, plus the levels a core row and a batch wrap around it), and safely below what
 * jsonb takes at the default 2 MB max_stack_depth (about 16,000). Where depth isn't checked (the staging hot
 * path) a deeper record that the engine and Postgres both take is stored as it came.
 */
export const MAX_STORABLE_DEPTH = 12_000;

const REASONS: ReadonlySet<string> = new Set([
  "nul",
  "lone_surrogate",
  "too_deep",
  "reserved_key",
  "refused",
]);

// An escape starts at a backslash preceded by an even run of backslashes (an odd run is a literal backslash
// followed by an escape, an even run is all literal backslashes).
const HOSTILE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Whether JSON text (as JSON.stringify writes it) holds an escape Postgres refuses. On text from elsewhere
 * an escaped surrogate pair also matches: harmless (the value is wrapped needlessly) unless the caller needs
 * exactness, which exactEscapeReason gives.
 */
export function escapeReason(json: string): UnstorableReason | null {
  if (!json.includes("\\u")) return null;
  const m = HOSTILE_ESCAPE.exec(json);
  if (!m) return null;
  return m[1] === "0000" ? "nul" : "lone_surrogate";
}

/**
 * Exact for any JSON text: a match of the cheap test is confirmed on the text as JSON.stringify writes it,
 * where a surrogate pair is never escaped. For text from a sender (a webhook body), where `\ud83d\ude00` is
 * a legitimate emoji.
 */
export function exactEscapeReason(json: string, parsed: unknown): UnstorableReason | null {
  if (escapeReason(json) === null) return null;
  let canonical: string;
  try {
    canonical = JSON.stringify(parsed) ?? "null";
  } catch {
    return "too_deep";
  }
  return escapeReason(canonical);
}

/** Deepest nesting of arrays and objects in JSON text, without recursion (strings are skipped). */
export function jsonDepth(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) max = depth;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

/** Whether JSON text nests deeper than the limit; text shorter than twice the limit cannot. */
export function tooDeep(json: string, limit = MAX_STORABLE_DEPTH): boolean {
  return json.length > 2 * limit && jsonDepth(json) > limit;
}

/** The wrapper's JSON text for a value's JSON text. */
export function wrapJson(json: string, reason: UnstorableReason): string {
  return `{"${UNSTORABLE_KEY}":${JSON.stringify(json)},"reason":"${reason}"}`;
}

function looksWrapped(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && UNSTORABLE_KEY in value;
}

/**
 * A value's storable JSON text: JSON.stringify's, unless Postgres could not hold it, then the wrapper.
 * `checkDepth` also measures nesting (for the rare path after Postgres refused a batch).
 */
export function toStorableJson(value: unknown, opts: { checkDepth?: boolean } = {}): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? "null";
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // Too deep for the engine's recursion is not too deep for Postgres: measure before giving up on it.
    json = stringifyIteratively(value);
    if (tooDeep(json)) return wrapJson(json, "too_deep");
  }
  const reason = looksWrapped(value) ? "reserved_key" : escapeReason(json);
  if (reason) return wrapJson(json, reason);
  if (opts.checkDepth && tooDeep(json)) return wrapJson(json, "too_deep");
  return json;
}

/**
 * JSON text for a value that is already in the encoding (read back from staging or failed_records): a
 * wrapper stays as it is, anything else is encoded (depth checked: this is never the hot path).
 */
export function storedJson(stored: unknown): string {
  return asWrapper(stored) ? JSON.stringify(stored) : toStorableJson(stored, { checkDepth: true });
}

/** JSON text (not necessarily JSON.stringify's) made storable, for a body already parsed as `parsed`. */
export function storableText(
  json: string,
  parsed: unknown,
): { json: string; reason: UnstorableReason | null } {
  const reason = looksWrapped(parsed)
    ? "reserved_key"
    : (exactEscapeReason(json, parsed) ?? (tooDeep(json) ? "too_deep" : null));
  return reason ? { json: wrapJson(json, reason), reason } : { json, reason: null };
}

/** The wrapper, if the value is one. */
export function asWrapper(value: unknown): UnstorableWrapper | null {
  if (!looksWrapped(value)) return null;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (keys.length !== 2 || typeof v[UNSTORABLE_KEY] !== "string" || typeof v.reason !== "string") return null;
  if (!REASONS.has(v.reason)) return null;
  return v as UnstorableWrapper;
}

/** The value a stored value stands for: the wrapped JSON parsed back, anything else as is. */
export function decodeStorable(value: unknown): unknown {
  const wrapper = asWrapper(value);
  return wrapper ? JSON.parse(wrapper.$unstorable) : value;
}

// With the u flag a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for.
const UNHOLDABLE = /\u0000|\p{Cs}/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for.
const UNHOLDABLE_ALL = /\u0000|\p{Cs}/gu;

/**
 * Text for a text column, cut to `max`: a NUL or a lone surrogate (also one left by the cut) becomes U+FFFD.
 * For messages and ids that only identify something; payloads use the storable encoding instead.
 */
export function holdableText(s: string, max = Number.POSITIVE_INFINITY): string {
  return s.slice(0, max).replace(UNHOLDABLE_ALL, "\uFFFD");
}

/** Why Postgres can't hold this string (a text column or inside jsonb), or null. */
export function stringReason(s: string): "nul" | "lone_surrogate" | null {
  const m = UNHOLDABLE.exec(s);
  if (!m) return null;
  return m[0] === "\u0000" ? "nul" : "lone_surrogate";
}

/**
 * The path of the first string (value or object key) Postgres can't hold, with its reason, or null. Walks
 * without recursion, so any depth is fine. Paths name fields, never values.
 */
export function findUnholdable(
  value: unknown,
  root = "",
): { path: string; reason: "nul" | "lone_surrogate" } | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: root }];
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: string };
    if (typeof v === "string") {
      const reason = stringReason(v);
      if (reason) return { path: path || "(value)", reason };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]` });
    } else if (typeof v === "object" && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        const keyReason = stringReason(k);
        const name = keyReason ? "(a key)" : k;
        if (keyReason) return { path: path ? `${path}.${name}` : name, reason: keyReason };
        stack.push({ v: child, path: path ? `${path}.${name}` : name });
      }
    }
  }
  return null;
}

/**
 * JSON.stringify without recursion, for values too deep for the engine's own (plain data only: what
 * JSON.parse produces). Undefined members are left out and non-finite numbers become null, as JSON.stringify
 * does; toJSON is not consulted.
 */
export function stringifyIteratively(value: unknown): string {
  const out: string[] = [];
  type Frame = { close: string; items: [string | null, unknown][]; i: number };
  const frames: Frame[] = [];
  const emit = (v: unknown): void => {
    if (v === null || typeof v === "function" || typeof v === "symbol" || v === undefined) {
      out.push("null");
    } else if (typeof v === "number") out.push(Number.isFinite(v) ? String(v) : "null");
    else if (typeof v === "boolean") out.push(String(v));
    else if (typeof v === "bigint") throw new TypeError("BigInt value can't be serialized in JSON");
    else if (typeof v === "string") out.push(JSON.stringify(v));
    else if (Array.isArray(v)) {
      out.push("[");
      frames.push({ close: "]", items: v.map((x) => [null, x]), i: 0 });
    } else {
      out.push("{");
      const items = Object.entries(v as object).filter(
        ([, x]) => x !== undefined && typeof x !== "function" && typeof x !== "symbol",
      );
      frames.push({ close: "}", items, i: 0 });
    }
  };
  emit(value);
  while (frames.length > 0) {
    const f = frames[frames.length - 1] as Frame;
    if (f.i >= f.items.length) {
      out.push(f.close);
      frames.pop();
      continue;
    }
    const [key, v] = f.items[f.i] as [string | null, unknown];
    if (f.i > 0) out.push(",");
    f.i++;
    if (key !== null) out.push(`${JSON.stringify(key)}:`);
    emit(v);
  }
  return out.join("");
}

/** JSON text of a batch, whatever its nesting: JSON.stringify, or without recursion when that runs out of stack. */
export function stringifyDeep(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return stringifyIteratively(value);
  }
}

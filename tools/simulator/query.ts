// Parsing of FUB list parameters and the opaque `next` token.

import type { EntityName, Rec } from "./data";
import type { Cursor, ListFilter, ListRequest, SortKey } from "./store";

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
const SORT_KEYS: readonly SortKey[] = ["id", "created", "updated"];

export class QueryError extends Error {}

interface Token {
  k: SortKey;
  d: 0 | 1;
  v: number;
  i: number;
}

function b64urlEncode(s: string): string {
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function b64urlDecode(s: string): string {
  const std = s.replace(/-/g, "+").replace(/_/g, "/");
  return atob(std + "=".repeat((4 - (std.length % 4)) % 4));
}

export function encodeNext(sort: { key: SortKey; desc: boolean }, c: Cursor): string {
  const t: Token = { k: sort.key, d: sort.desc ? 1 : 0, v: c.v, i: c.i };
  return b64urlEncode(JSON.stringify(t));
}

export function decodeNext(token: string, sort: { key: SortKey; desc: boolean }): Cursor {
  let t: Partial<Token>;
  try {
    t = JSON.parse(b64urlDecode(token.trim())) as Partial<Token>;
  } catch {
    throw new QueryError("Invalid value for parameter 'next'.");
  }
  if (typeof t.v !== "number" || typeof t.i !== "number" || !SORT_KEYS.includes(t.k as SortKey)) {
    throw new QueryError("Invalid value for parameter 'next'.");
  }
  if (t.k !== sort.key || Boolean(t.d) !== sort.desc) {
    throw new QueryError("The 'next' value was issued for a different sort order.");
  }
  return { v: t.v, i: t.i };
}

function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  // FUB accepts ISO 8601; a date-time without offset is read as UTC.
  const withZone = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)
    ? `${v.replace(" ", "T")}Z`
    : v;
  const t = Date.parse(withZone);
  if (!Number.isFinite(t)) throw new QueryError(`Invalid date for parameter '${name}'.`);
  return t;
}

function parseInt32(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new QueryError(`Invalid integer for parameter '${name}'.`);
  return Number(v);
}

export interface ParsedList {
  req: ListRequest;
  requestedOffset: number;
  fields: { all: boolean; only: string[] | null };
}

export function parseList(entity: EntityName, q: (name: string) => string | undefined): ParsedList {
  const idParam = q("id");
  let ids: number[] | undefined;
  if (idParam !== undefined && idParam !== "") {
    ids = idParam.split(",").map((s) => {
      const n = parseInt32("id", s.trim());
      if (n === undefined) throw new QueryError("Invalid integer for parameter 'id'.");
      return n;
    });
  }
  const rawLimit = parseInt32("limit", q("limit"));
  if (rawLimit !== undefined && rawLimit < 1) throw new QueryError("Parameter 'limit' must be at least 1.");
  const limit = Math.min(MAX_LIMIT, rawLimit ?? (ids ? Math.max(1, ids.length) : DEFAULT_LIMIT));
  const offset = parseInt32("offset", q("offset")) ?? 0;
  if (offset < 0) throw new QueryError("Parameter 'offset' must not be negative.");

  const sortRaw = (q("sort") ?? "").trim();
  const desc = sortRaw === "" ? true : sortRaw.startsWith("-");
  const key = (sortRaw === "" ? "id" : sortRaw.replace(/^[-+]/, "")) as SortKey;
  if (!SORT_KEYS.includes(key)) {
    throw new QueryError(
      `Invalid sort field '${key}'. Supported: id, created, updated (prefix '-' for descending).`,
    );
  }
  const sort = { key, desc };
  const nextRaw = q("next");
  const cursor = nextRaw ? decodeNext(nextRaw, sort) : undefined;

  const filter: ListFilter = {
    createdAfter: parseTime("createdAfter", q("createdAfter")),
    createdBefore: parseTime("createdBefore", q("createdBefore")),
    updatedAfter: parseTime("updatedAfter", q("updatedAfter")),
    updatedBefore: parseTime("updatedBefore", q("updatedBefore")),
    idGreaterThan: parseInt32("idGreaterThan", q("idGreaterThan")),
    idLessThan: parseInt32("idLessThan", q("idLessThan")),
    includeTrash: entity === "people" && ["true", "1"].includes((q("includeTrash") ?? "").toLowerCase()),
    ids,
  };
  const fieldsRaw = (q("fields") ?? "").trim();
  const fields =
    fieldsRaw === "" || fieldsRaw === "allFields"
      ? { all: fieldsRaw === "allFields", only: null }
      : {
          all: false,
          only: fieldsRaw
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        };
  return {
    req: { filter, sort, cursor, offset: cursor ? 0 : offset, limit },
    requestedOffset: cursor ? 0 : offset,
    fields,
  };
}

/** Custom fields (custom*) appear only with fields=allFields; a field list selects fields (id always kept). */
export function project(rec: Rec, fields: { all: boolean; only: string[] | null }): Rec {
  if (fields.only) {
    const out: Rec = { id: rec.id };
    for (const f of fields.only) if (f in rec) out[f] = rec[f];
    return out;
  }
  if (fields.all) return rec;
  let hasCustom = false;
  for (const k in rec) {
    if (k.startsWith("custom")) {
      hasCustom = true;
      break;
    }
  }
  if (!hasCustom) return rec;
  const out: Rec = {};
  for (const k in rec) if (!k.startsWith("custom")) out[k] = rec[k];
  return out;
}

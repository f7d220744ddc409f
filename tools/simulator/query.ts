// Parsing of FUB list parameters and the opaque `next` token.

import { type EntityName, isPersonChild, type Rec, TIMESTAMPS } from "./data";
import type { Cursor, ListFilter, ListRequest, SortKey } from "./store";

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
const SORT_KEYS: readonly SortKey[] = ["id", "created", "updated", "name", "orderWeight"];

/** The sort values an entity accepts, each mapped to the store's key. */
function sortFields(entity: EntityName): Record<string, SortKey> {
  if (entity === "stages") return { orderWeight: "orderWeight", id: "id", name: "name" };
  if (entity === "groups") return { id: "id", name: "name" };
  if (entity === "deals")
    return { id: "id", created: "created", updated: "updated", createdAt: "created", updatedAt: "updated" };
  return { id: "id", created: "created", updated: "updated" };
}

function truthy(v: string | undefined): boolean {
  return ["true", "1"].includes((v ?? "").toLowerCase());
}

export class QueryError extends Error {}

interface Token {
  k: SortKey;
  d: 0 | 1;
  v: number | string;
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
  if (
    (typeof t.v !== "number" && typeof t.v !== "string") ||
    typeof t.i !== "number" ||
    !SORT_KEYS.includes(t.k as SortKey)
  ) {
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
  const field = sortRaw === "" ? "id" : sortRaw.replace(/^[-+]/, "");
  const fields = sortFields(entity);
  const key = Object.hasOwn(fields, field) ? fields[field] : undefined;
  if (!key) {
    throw new QueryError(
      `Invalid sort field '${field}'. Supported: ${Object.keys(fields).join(", ")} (prefix '-' for descending).`,
    );
  }
  const sort = { key, desc };
  const nextRaw = q("next");
  const cursor = nextRaw ? decodeNext(nextRaw, sort) : undefined;

  // Stages and groups have no timestamps: FUB takes no date filters for them, so they are ignored.
  const dated = TIMESTAMPS[entity] !== null;
  const filter: ListFilter = {
    createdAfter: dated ? parseTime("createdAfter", q("createdAfter")) : undefined,
    createdBefore: dated ? parseTime("createdBefore", q("createdBefore")) : undefined,
    updatedAfter: dated ? parseTime("updatedAfter", q("updatedAfter")) : undefined,
    updatedBefore: dated ? parseTime("updatedBefore", q("updatedBefore")) : undefined,
    idGreaterThan: parseInt32("idGreaterThan", q("idGreaterThan")),
    idLessThan: parseInt32("idLessThan", q("idLessThan")),
    includeTrash:
      entity === "people"
        ? truthy(q("includeTrash"))
        : entity === "deals"
          ? truthy(q("includeDeleted"))
          : false,
    includeArchived: entity === "deals" && truthy(q("includeArchived")),
    ids,
  };
  if (isPersonChild(entity)) filter.personId = parseInt32("personId", q("personId"));
  if (entity === "textMessages") {
    const to = q("toNumber");
    const from = q("fromNumber");
    if (to !== undefined && to !== "") filter.toNumber = to;
    if (from !== undefined && from !== "") filter.fromNumber = from;
    if (filter.personId === undefined && !filter.toNumber && !filter.fromNumber && !ids) {
      throw new QueryError("One of personId, toNumber or fromNumber is required to list text messages.");
    }
  }
  const fieldsRaw = (q("fields") ?? "").trim();
  const projection =
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
    fields: projection,
  };
}

/**
 * A person's custom fields (custom*) appear only with fields=allFields (a deal's are inline); a
 * field list selects fields (id always kept).
 */
export function project(
  rec: Rec,
  fields: { all: boolean; only: string[] | null },
  entity: EntityName = "people",
): Rec {
  if (fields.only) {
    const out: Rec = { id: rec.id };
    for (const f of fields.only) if (f in rec) out[f] = rec[f];
    return out;
  }
  if (fields.all || entity !== "people") return rec;
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

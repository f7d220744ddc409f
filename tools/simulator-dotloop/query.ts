// Loop-list and batch query parameters: batch_number / batch_size with a cap, `sort=key:dir`
// and `filter=updated_min=...,created_min=...,transaction_type=A|B,transaction_status=X|Y`.

import type { LoopRec } from "./data";

export interface Batch {
  number: number;
  size: number;
}

/** batch_number (1-based, default 1) and batch_size (default, clamped to the cap). */
export function parseBatch(q: URLSearchParams, defaultSize: number, maxSize: number): Batch | string {
  const n = q.get("batch_number");
  const s = q.get("batch_size");
  const number = n === null ? 1 : Number(n);
  const size = s === null ? defaultSize : Number(s);
  if (!Number.isInteger(number) || number < 1) return "batch_number must be an integer >= 1";
  if (!Number.isInteger(size) || size < 1) return "batch_size must be an integer >= 1";
  // Choice: a batch_size above the cap is clamped, silently (a client that stops on a short
  // batch must not ask for more than the cap).
  return { number, size: Math.min(size, maxSize) };
}

export function slice<T>(items: T[], b: Batch): T[] {
  return items.slice((b.number - 1) * b.size, b.number * b.size);
}

export const SORT_KEYS = [
  "address",
  "closing_date",
  "created",
  "default",
  "expiration_date",
  "listing_date",
  "purchase_price",
  "review_submission_date",
  "updated",
] as const;

type SortValue = number | string | null;

function displayDate(s: string | undefined): number | null {
  if (!s) return null;
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(s);
  if (m) return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]));
  const t = Date.parse(`${s} UTC`);
  return Number.isNaN(t) ? null : t;
}

function sortValue(key: string, l: LoopRec): SortValue {
  const d = l.details;
  switch (key) {
    case "created":
      return l.loop.created;
    case "updated":
    case "default":
      return l.loop.updated;
    case "address": {
      const a = d["Property Address"];
      return a ? `${a["Street Name"] ?? ""} ${a["Street Number"] ?? ""}` : null;
    }
    case "purchase_price": {
      const p = d.Financials?.["Purchase/Sale Price"];
      return p === undefined ? null : Number(p);
    }
    case "closing_date":
      return displayDate(d["Contract Dates"]?.["Closing Date"]);
    case "expiration_date":
      return displayDate(d["Listing Information"]?.["Expiration Date"]);
    default:
      return null; // listing_date, review_submission_date: no loop of the simulator carries them
  }
}

/** Sorts loops by `key:asc|desc` (default `updated:desc`, choice); ties by id in the same direction; nulls last. */
export function sortLoops(loops: LoopRec[], sort: string | null): LoopRec[] | string {
  const [key, dir = "asc"] = (sort ?? "updated:desc").split(":");
  if (!key || !(SORT_KEYS as readonly string[]).includes(key))
    return `unknown sort key ${JSON.stringify(key)}`;
  if (dir !== "asc" && dir !== "desc") return "sort direction must be asc or desc";
  const sign = dir === "asc" ? 1 : -1;
  const keyed = loops.map((l) => ({ l, v: sortValue(key, l) }));
  keyed.sort((a, b) => {
    if (a.v !== b.v) {
      if (a.v === null) return 1;
      if (b.v === null) return -1;
      return (a.v < b.v ? -1 : 1) * sign;
    }
    return (a.l.loop.id - b.l.loop.id) * sign;
  });
  return keyed.map((k) => k.l);
}

export interface LoopFilter {
  updatedMin?: number;
  createdMin?: number;
  types?: string[];
  statuses?: string[];
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses the comma-joined filter; unknown keys are ignored (choice), bad dates are a 400. */
export function parseFilter(raw: string | null): LoopFilter | string {
  const f: LoopFilter = {};
  if (!raw) return f;
  for (const part of raw.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === "updated_min" || k === "created_min") {
      // Choice: ISO-8601; without an offset it is UTC.
      const t = ISO.test(v)
        ? Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) || !v.includes("T") ? v : `${v}Z`)
        : NaN;
      if (Number.isNaN(t)) return `${k} must be an ISO-8601 time, got ${JSON.stringify(v.slice(0, 40))}`;
      if (k === "updated_min") f.updatedMin = t;
      else f.createdMin = t;
    } else if (k === "transaction_type") f.types = v.split("|");
    else if (k === "transaction_status") f.statuses = v.split("|");
  }
  return f;
}

/** Inclusive minimums (choice: `>=`, so a delta from the last seen `updated` sees that second again). */
export function filterLoops(loops: LoopRec[], f: LoopFilter): LoopRec[] {
  return loops.filter(
    (l) =>
      (f.updatedMin === undefined || Date.parse(l.loop.updated) >= f.updatedMin) &&
      (f.createdMin === undefined || Date.parse(l.loop.created) >= f.createdMin) &&
      (f.types === undefined || f.types.includes(l.loop.transactionType)) &&
      (f.statuses === undefined || f.statuses.includes(l.loop.status)),
  );
}

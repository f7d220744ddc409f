import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { fieldOf } from "../define";
import { recordEntity } from "../record-entity";
import type { CoreWrite, DeleteTarget, EntityDef, ParentSpec, SourceContext } from "../types";

/**
 * reZEN's shared shapes (community-derived: docs/providers/rezen.md). Ids are UUID strings; times are epoch
 * milliseconds; money is `{amount, currency}`; business dates are `YYYY-MM-DD`.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID; staging and keys lower-case it, so one id is one key whatever case a service writes it in. */
export const rezenUuid = z.string().regex(UUID, "not a UUID");

/** Epoch milliseconds. */
export const epochMs = z.number().int().nonnegative().max(8.64e15);

export const text = z.string().nullish();
export const num = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).nullish();

/** Money as `{amount, currency}`; some services send a bare number (no currency). Kept as sent in `raw`. */
export const money = z.union([z.looseObject({ amount: num, currency: text }), z.number()]).nullish();
export type Money = z.infer<typeof money>;

/** Money as the `<name>_amount` / `<name>_currency` column pair. */
export function moneyColumns(name: string, m: Money): Record<string, string | null> {
  const amount =
    m == null ? null : typeof m === "number" ? String(m) : m.amount == null ? null : String(m.amount);
  const currency = m == null || typeof m === "number" ? null : (m.currency ?? null);
  return { [`${name}_amount`]: amount, [`${name}_currency`]: currency };
}

/** A business date: `YYYY-MM-DD` as sent, or an epoch-ms value taken as its UTC date. */
export const businessDate = z.union([z.string(), z.number()]).nullish();
export function dateOf(v: string | number | null | undefined): string | null {
  if (v == null || v === "") return null;
  if (typeof v === "number") return Number.isFinite(v) ? new Date(v).toISOString().slice(0, 10) : null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(v);
  return m ? (m[1] ?? null) : null;
}
export function msToIso(ms: number | null | undefined): string | null {
  if (ms == null || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Lenient id read for staging: any non-empty string or integer (a group name, a tier, a UUID). */
export function rezenIdOf(field: string) {
  return (raw: unknown): string | null => {
    const v = fieldOf(raw, field);
    if (typeof v === "string" && v.length > 0 && v.length <= 200) return UUID.test(v) ? v.toLowerCase() : v;
    if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
    return null;
  };
}

function cursorOf(raw: unknown): Cursor | null {
  const id = rezenIdOf("id")(raw);
  const parsed = epochMs.safeParse(fieldOf(raw, "updatedAt"));
  const at = parsed.success ? msToIso(parsed.data) : null;
  return id === null || at === null ? null : { updated: at, id };
}

type Timed = { createdAt?: number | null; updatedAt?: number | null };

/**
 * A reZEN entity. Records that carry `updatedAt` (a transaction's detail) are versioned by it; everything
 * else reZEN publishes without an update time, or lists without an updated-since filter, is versioned by
 * content, so each run is a complete scan and unchanged records write nothing.
 */
export function rezenEntity<T extends Timed>(def: {
  name: string;
  listPath: string;
  collectionKey?: string;
  idField?: string;
  parent?: ParentSpec;
  single?: boolean;
  versioning?: "updated" | "contentHash";
  listParams?: Record<string, string>;
  sortParams?: Record<string, string>;
  schema: z.ZodType<T>;
  coreTable: PgTable;
  columns: (record: T, source: SourceContext) => Record<string, unknown>;
  more?: (record: T, source: SourceContext) => CoreWrite[];
  alsoDelete?: (sourceId: string) => DeleteTarget[];
}): EntityDef<T> {
  const { sortParams, ...fields } = def;
  const versioning = def.versioning ?? "contentHash";
  const idField = def.idField ?? "id";
  return recordEntity<T>(
    {
      idOf: rezenIdOf(idField),
      cursorOf,
      createdAt: (r) => msToIso(r.createdAt),
      updatedAt: (r) => msToIso(r.updatedAt),
      updatedField: "updatedAt",
    },
    {
      ...fields,
      versioning,
      collectionKey: def.collectionKey ?? "",
      // Clients guess `data` and `content` beside the attested key: a paged list under either is read the same.
      ...(def.collectionKey && !def.single ? { collectionKeyAlternatives: ["data", "content"] } : {}),
      idField,
      incremental: {
        param: null,
        cursorField: versioning === "contentHash" ? idField : "updatedAt",
        ...(sortParams ? { sortParams } : {}),
      },
    },
  );
}

import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { fieldOf } from "../define";
import type { CoreWrite, DeleteTarget, EntityDef, ParentSpec, SourceContext } from "../types";
import { instantOf, isLoftyTime } from "./time";

const INT64_MAX = 9223372036854775807n;

/** A digit string naming a positive 64-bit integer. */
const int64Digits = z
  .string()
  .regex(/^[1-9]\d{0,18}$/)
  .refine((s) => BigInt(s) <= INT64_MAX, "beyond a 64-bit integer");

/**
 * Lofty ids are 64-bit integers. A page is parsed keeping integers beyond 2^53 as their digits (a string), so
 * an id is a safe integer or a digit string, and is carried on as its exact decimal text (`idText`); anything
 * else (a fraction, a rounded double) fails validation instead of naming another record. Schemas validate
 * without transforming, so the raw record is stored as Lofty sent it.
 */
export const loftyId = z.union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), int64Digits]);

/** A reference to another record: `-1` and 0 are Lofty's "none". */
export const loftyRef = z
  .union([loftyId, z.literal(-1), z.literal(0), z.literal("-1"), z.literal("0")])
  .nullish();

/** An id or reference as its decimal text; null for Lofty's "none". */
export function idText(v: unknown): string | null {
  if (typeof v === "number") return Number.isSafeInteger(v) && v > 0 ? String(v) : null;
  if (typeof v === "string") return int64Digits.safeParse(v).success ? v : null;
  return null;
}

/** A time in any of Lofty's formats, kept as sent (the raw record) and read with `instantOf`. */
export const loftyTime = z
  .union([z.string(), z.number()])
  .nullish()
  .refine(isLoftyTime, "not a time in a format Lofty uses");

export const text = z.string().nullish();

/** A number Lofty may send as `-1` for unset, or as a numeric string. */
export const loftyNumber = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).nullish();
export const numberOf = (v: unknown): number | null =>
  v == null || v === "" || Number(v) === -1 || !Number.isFinite(Number(v)) ? null : Number(v);

/** Lenient id read for staging: a safe integer or a 64-bit digit string at `field`. */
export function loftyIdOf(raw: unknown, field: string): string | null {
  const id = fieldOf(raw, field);
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === "string" && int64Digits.safeParse(id).success) return id;
  return null;
}

/** The columns every Lofty core row shares (coreColumns). */
export function coreRow(
  source: SourceContext,
  id: string,
  created: unknown,
  updated: unknown,
  raw: unknown,
  columns: Record<string, unknown>,
  byContent: boolean,
): Record<string, unknown> {
  return {
    account_id: source.accountId,
    connection_id: source.connectionId,
    source_id: id,
    source_created_at: instantOf(created),
    source_updated_at: byContent ? null : instantOf(updated),
    raw,
    deleted_at: null,
    ...columns,
  };
}

/**
 * A Lofty entity. Lofty has no updated-since filter: every run lists the whole entity (newest first, the only
 * order it serves), so `completeScans` makes each run's completion diff against what it saw. `updated`
 * reads a record's version time; without one the entity is versioned by content.
 */
export function loftyEntity<T extends Record<string, unknown>>(def: {
  name: string;
  listPath: string;
  collectionKey: string;
  recordKey?: string;
  idField: string;
  parent?: ParentSpec;
  listParams?: Record<string, string>;
  schema: z.ZodType<T>;
  coreTable: PgTable;
  created?: (record: T) => unknown;
  updated?: (record: T) => unknown;
  columns: (record: T, source: SourceContext) => Record<string, unknown>;
  more?: (record: T, source: SourceContext) => CoreWrite[];
  alsoDelete?: (sourceId: string) => DeleteTarget[];
  /** Absences of a complete scan are checked at the record's own URL before they delete. */
  confirmAbsence?: { path: string };
  cascades?: { entity: string; column: string }[];
}): EntityDef<T> {
  const byContent = def.updated === undefined;
  const updatedOf = def.updated;
  const cursorOf = (raw: unknown): Cursor | null => {
    const id = loftyIdOf(raw, def.idField);
    const at = updatedOf ? instantOf(updatedOf(raw as T)) : null;
    return id === null || at === null ? null : { updated: at, id };
  };
  return {
    name: def.name,
    ...(byContent ? { versioning: "contentHash" as const } : {}),
    listPath: def.listPath,
    ...(def.parent ? { parent: def.parent } : {}),
    // A child listed per parent is complete only on a fan-out over every parent (onboarding); a delta lists
    // the parents that changed, so it must not delete what it did not list.
    ...(def.parent ? {} : { completeScans: true }),
    ...(def.confirmAbsence ? { confirmAbsence: def.confirmAbsence } : {}),
    ...(def.cascades ? { cascades: def.cascades } : {}),
    collectionKey: def.collectionKey,
    ...(def.recordKey ? { recordKey: def.recordKey } : {}),
    idField: def.idField,
    incremental: { param: null, cursorField: def.idField, order: "descending" },
    ...(def.listParams ? { listParams: def.listParams } : {}),
    schema:
      updatedOf === undefined
        ? def.schema
        : def.schema.refine((r) => instantOf(updatedOf(r)) !== null, {
            message: "no update time",
          }),
    coreTable: def.coreTable,
    deleteTargets: (sourceId) => [{ table: def.coreTable, sourceId }, ...(def.alsoDelete?.(sourceId) ?? [])],
    sourceIdOf: (raw) => loftyIdOf(raw, def.idField),
    cursorOf: byContent ? () => null : cursorOf,
    toCore: (record, source) => [
      {
        table: def.coreTable,
        row: coreRow(
          source,
          idText(record[def.idField]) ?? "",
          def.created?.(record),
          updatedOf?.(record),
          record,
          def.columns(record, source),
          byContent,
        ),
      },
      ...(def.more?.(record, source) ?? []),
    ],
  };
}

import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import { fieldOf } from "../define";
import type { CoreWrite, DeleteTarget, EntityDef, ParentSpec, SourceContext } from "../types";

/**
 * Open To Close ids are JSON integers. Kept exact or refused: a rounded id names another record. A digit string
 * (the engine stamps parent ids as text) is the same id.
 */
export const otcId = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER)),
]);

export const otcRef = otcId.nullish();

/** Display text: absent, null and "" all mean "no value". */
export const text = z.string().nullish();

export const blank = (s: string | null | undefined): string | null => (s == null || s === "" ? null : s);

/** Lenient id read for staging: a number or a digit string; anything else stages without an id. */
export function otcIdOf(raw: unknown): string | null {
  const id = fieldOf(raw, "id");
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === "string" && /^[1-9]\d{0,15}$/.test(id)) return id;
  return null;
}

/** The parent field the engine stamps into records listed under a property (ParentSpec.stamp). */
export const PROPERTY_FIELD = "propertyId";

/** Children of a property: listed per property, the property id in the path and stamped into each record. */
export const underProperty: ParentSpec = {
  entity: "properties",
  pathParam: "property_id",
  stamp: { [PROPERTY_FIELD]: "property_id" },
};

/**
 * An Open To Close entity. Nothing the API returns carries an update time and no list can be filtered by one,
 * so every entity is versioned by content: each run is a complete scan, an unchanged record writes nothing, a
 * changed one replaces its row, and a record a complete scan no longer sees is deleted (reversibly).
 */
export function otcEntity<T extends object>(def: {
  name: string;
  listPath: string;
  parent?: ParentSpec;
  schema: z.ZodType<T>;
  coreTable: PgTable;
  sourceIdOf?: (raw: unknown) => string | null;
  /** The row's source id from the validated record (default: its `id`). */
  idOf?: (record: T) => string;
  createdAt?: (record: T) => string | null;
  columns: (record: T, source: SourceContext) => Record<string, unknown>;
  more?: (record: T, source: SourceContext) => CoreWrite[];
  alsoDelete?: (sourceId: string) => DeleteTarget[];
}): EntityDef<T> {
  const idOf = def.idOf ?? ((r: T) => String((r as { id?: unknown }).id));
  return {
    name: def.name,
    versioning: "contentHash",
    // Nothing can be asked for "changed since": every run lists everything, so the connection's cadence
    // follows what one round of scans costs against the one-a-second budget (the engine's scan cadence).
    completeScans: true,
    listPath: def.listPath,
    ...(def.parent ? { parent: def.parent } : {}),
    collectionKey: "",
    idField: "id",
    incremental: { param: null, cursorField: "id" },
    schema: def.schema,
    coreTable: def.coreTable,
    deleteTargets: (sourceId) => [{ table: def.coreTable, sourceId }, ...(def.alsoDelete?.(sourceId) ?? [])],
    sourceIdOf: def.sourceIdOf ?? otcIdOf,
    cursorOf: () => null,
    toCore: (record, source) => [
      {
        table: def.coreTable,
        row: {
          account_id: source.accountId,
          connection_id: source.connectionId,
          source_id: idOf(record),
          source_created_at: def.createdAt?.(record) ?? null,
          source_updated_at: null,
          raw: record,
          deleted_at: null,
          ...def.columns(record, source),
        },
      },
      ...(def.more?.(record, source) ?? []),
    ],
  };
}

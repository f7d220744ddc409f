import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { isoInstant } from "../../core/iso-instant";
import { fieldOf } from "../define";
import type { CoreWrite, DeleteTarget, EntityDef, SourceContext } from "../types";

// FUB documents its API times as UTC, so a timestamp without a zone is UTC (isoInstant's reading).
export const fubTimestamp = z.string().refine((s) => isoInstant(s) !== null, "not an ISO-8601 timestamp");

/** FUB ids are positive 32-bit integers; a string or fraction is a malformed record. */
export const fubId = z.number().int().positive().max(2_147_483_647);

/** Reference to another record (personId, userId, ...): an id or absent. */
export const fubRef = fubId.nullish();

/**
 * Fields every FUB record has. Public sources disagree on the time names (`created`/`updated` in the
 * reference, `createdAt`/`updatedAt` for deals in clients written against the live API), so both are read;
 * which one a record carries is never a reason to reject it.
 */
export const fubBase = {
  id: fubId,
  created: fubTimestamp.nullish(),
  createdAt: fubTimestamp.nullish(),
  updated: fubTimestamp.nullish(),
  updatedAt: fubTimestamp.nullish(),
};

type Stamped = {
  created?: string | null;
  createdAt?: string | null;
  updated?: string | null;
  updatedAt?: string | null;
};

/** The record's update time under whichever published name it carries, as an ISO instant. */
export function updatedOf(r: Stamped): string | null {
  const v = r.updated ?? r.updatedAt;
  return typeof v === "string" ? isoInstant(v) : null;
}

export function createdOf(r: Stamped): string | null {
  const v = r.created ?? r.createdAt;
  return typeof v === "string" ? isoInstant(v) : null;
}

/**
 * Fields of a FUB record that publishes no timestamps (stages, groups): the same optional names, but nothing
 * requires a time there, since versions are by content.
 */
export const fubUntimedBase = fubBase;

export const fubFlag = z.union([z.boolean(), z.number()]).nullish();

export function fubIdOf(raw: unknown): string | null {
  const id = fieldOf(raw, "id");
  return typeof id === "number" || typeof id === "string" ? String(id) : null;
}

/** Only a well-formed record moves the cursor: a malformed one is staged for failed_records, not trusted. */
export function fubCursorOf(raw: unknown): Cursor | null {
  const id = fieldOf(raw, "id");
  const updated = fieldOf(raw, "updated") ?? fieldOf(raw, "updatedAt");
  const at = typeof updated === "string" ? isoInstant(updated) : null;
  if (!fubId.safeParse(id).success || at === null) return null;
  return { updated: at, id: String(id) };
}

export function instantOrNull(s: string | null | undefined): string | null {
  return s == null ? null : isoInstant(s);
}

export function flag(v: boolean | number | null | undefined): boolean | null {
  return v == null ? null : Boolean(v);
}

type FubRecord = { id: number } & Stamped;

/** The columns every FUB core row shares (coreColumns), keyed by the table's natural key. */
export function coreRow(
  source: SourceContext,
  r: FubRecord,
  raw: unknown,
  columns: Record<string, unknown>,
): Record<string, unknown> {
  return {
    account_id: source.accountId,
    connection_id: source.connectionId,
    source_id: r.id,
    source_created_at: createdOf(r),
    source_updated_at: updatedOf(r),
    raw,
    deleted_at: null,
    ...columns,
  };
}

/**
 * A FUB entity: every list is `/v1/{name}` with the records under `{name}`, versioned by `updated`, read in
 * delta with `updatedAfter` + `sort=updated`. Only the schema and the mapping differ per entity.
 *
 * `versioning: "contentHash"` declares an entity FUB publishes no times for (stages, groups): it takes no
 * date filter or time sort (the provider's own order; keyset paging still holds), moves no cursor, so every
 * run lists everything and is a complete scan, and its rows are versioned by a hash of the record with
 * source_updated_at null.
 */
export function fubEntity<T extends FubRecord>(def: {
  name: string;
  versioning?: "updated" | "contentHash";
  /** Records FUB deletes with this one, silently (see EntityDef.cascades). */
  cascades?: { entity: string; column: string }[];
  schema: z.ZodType<T>;
  coreTable: PgTable;
  listParams?: Record<string, string>;
  columns: (record: T) => Record<string, unknown>;
  /** Overrides of the shared columns (people: deleted_at for trashed people). */
  shared?: (record: T) => Record<string, unknown>;
  /** Unified-table writes (contacts, deals, activities) appended after the entity's own row. */
  unified?: (record: T, source: SourceContext) => CoreWrite | CoreWrite[] | null;
  /** The unified row a delete of this record also reaches (same id space as `unified`). */
  unifiedDelete?: (sourceId: string) => DeleteTarget;
}): EntityDef<T> {
  const byContent = def.versioning === "contentHash";
  return {
    name: def.name,
    ...(def.versioning ? { versioning: def.versioning } : {}),
    ...(def.cascades ? { cascades: def.cascades } : {}),
    listPath: `/v1/${def.name}`,
    collectionKey: def.name,
    idField: "id",
    incremental: byContent
      ? { param: null, cursorField: "id" }
      : { param: "updatedAfter", cursorField: "updated", sortParams: { sort: "updated" } },
    ...(def.listParams ? { listParams: def.listParams } : {}),
    // Versioned by its update time, a record must carry one under either name; by content, none is needed.
    schema: byContent
      ? def.schema
      : def.schema.refine((r) => updatedOf(r) !== null, {
          message: "no update time (updated or updatedAt)",
          path: ["updated"],
        }),
    coreTable: def.coreTable,
    deleteTargets: (sourceId) => [
      { table: def.coreTable, sourceId },
      ...(def.unifiedDelete ? [def.unifiedDelete(sourceId)] : []),
    ],
    sourceIdOf: fubIdOf,
    cursorOf: byContent ? () => null : fubCursorOf,
    toCore: (record, source) => {
      const writes: CoreWrite[] = [
        {
          table: def.coreTable,
          row: {
            ...coreRow(
              source,
              byContent ? { ...record, updated: null } : record,
              record,
              def.columns(record),
            ),
            ...def.shared?.(record),
          },
        },
      ];
      const more = def.unified?.(record, source);
      if (more) writes.push(...(Array.isArray(more) ? more : [more]));
      return writes;
    },
  };
}

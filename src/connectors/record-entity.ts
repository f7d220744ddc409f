import type { PgTable } from "drizzle-orm/pg-core";
import type { z } from "zod";
import type { Cursor } from "../core/cursor";
import type { CoreWrite, DeleteTarget, EntityDef, SourceContext } from "./types";

/**
 * How one provider's records say who and when they are: the part of a record entity that differs between
 * providers. Everything else (versioning, the refusal of a record without an update time, delete targets, the
 * core row every entity writes) is the same for all and built once by `recordEntity`.
 */
export type RecordConvention<T> = {
  /** Lenient id read: staging keys records by it, so it answers null for a malformed id, never throws. */
  idOf(raw: unknown): string | null;
  /** The record's (update time, id) cursor when it has both, else null. */
  cursorOf(raw: unknown): Cursor | null;
  /** Source times as ISO instants, or null when the record has none that parses. */
  createdAt(record: T): string | null;
  updatedAt(record: T): string | null;
  /** The field a record without an update time is refused for (named in its failed record). */
  updatedField: string;
  /** When the provider keeps deleted records in its lists and marks them: the delete's time, else null. */
  deletedAt?(record: T): string | null;
};

/** A record entity: the EntityDef fields the provider decides, and how a record maps to its own row. */
export type RecordEntityDef<T> = Omit<
  EntityDef<T>,
  "schema" | "coreTable" | "deleteTargets" | "sourceIdOf" | "cursorOf" | "toCore"
> & {
  schema: z.ZodType<T>;
  coreTable: PgTable;
  /** The table's own columns beyond the ones every core row has. */
  columns(record: T, source: SourceContext): Record<string, unknown>;
  /** Core rows besides the entity's own (embedded detail, unified rows). */
  more?(record: T, source: SourceContext): CoreWrite[];
  /** Rows a delete of this record also reaches (unified rows in their id space). */
  alsoDelete?(sourceId: string): DeleteTarget[];
};

/**
 * An entity whose records each write one row of its own table (and maybe more). Versioned by the update time
 * (a record without one is refused, never guessed) unless `versioning: "contentHash"`, where the provider
 * publishes no time: then there is no cursor and no source update time, and each run is a complete scan.
 */
export function recordEntity<T>(convention: RecordConvention<T>, def: RecordEntityDef<T>): EntityDef<T> {
  const { columns, more, alsoDelete, schema, coreTable, ...fields } = def;
  const byContent = def.versioning === "contentHash";
  return {
    ...fields,
    schema: byContent
      ? schema
      : schema.refine((r) => convention.updatedAt(r) !== null, {
          message: `no update time (${convention.updatedField})`,
          path: [convention.updatedField],
        }),
    coreTable,
    deleteTargets: (sourceId) => [{ table: coreTable, sourceId }, ...(alsoDelete?.(sourceId) ?? [])],
    sourceIdOf: convention.idOf,
    cursorOf: byContent ? () => null : convention.cursorOf,
    toCore: (record, source) => {
      const id = convention.idOf(record);
      // Validation passed, so only a convention that disagrees with its own schema gets here.
      if (id === null) throw new Error(`no ${def.idField}`);
      return [
        {
          table: coreTable,
          row: {
            account_id: source.accountId,
            connection_id: source.connectionId,
            source_id: id,
            source_created_at: convention.createdAt(record),
            source_updated_at: byContent ? null : convention.updatedAt(record),
            raw: record,
            deleted_at: convention.deletedAt?.(record) ?? null,
            ...columns(record, source),
          },
        },
        ...(more?.(record, source) ?? []),
      ];
    },
  };
}

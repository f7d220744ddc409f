import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { isoInstant } from "../../core/iso-instant";
import { fieldOf } from "../define";
import { recordEntity } from "../record-entity";
import type { EntityDef, SourceContext } from "../types";

// Shapes of the seeds-derived ZHL API (docs/providers/zhl.md): nothing here is published by the lender. Ids are
// prefixed strings (`LO-…`, `DLM-…`, the lender-contact `LC-…`), times ISO-8601 with an offset as the
// lender's one public mortgage API writes them ("2015-01-22T10:30:00-08:00").

/** A ZHL id: a short prefixed string. Anything else (a number, blank, a path) is refused. */
export const zhlId = z.string().regex(/^[A-Z]{2,4}-[A-Za-z0-9_-]{1,64}$/, "not a ZHL id");

export const zhlTimestamp = z.string().refine((s) => isoInstant(s) !== null, "not an ISO-8601 timestamp");

export const text = z.string().nullish();

export const instantOrNull = (s: string | null | undefined): string | null =>
  s == null ? null : isoInstant(s);

/** Lenient id read for staging: a malformed record still stages, to be refused with its reason. */
export function zhlIdOf(raw: unknown): string | null {
  const id = fieldOf(raw, "id");
  return typeof id === "string" && zhlId.safeParse(id).success ? id : null;
}

export function zhlCursorOf(raw: unknown): Cursor | null {
  const id = zhlIdOf(raw);
  const updated = fieldOf(raw, "updatedAt");
  const at = typeof updated === "string" ? isoInstant(updated) : null;
  return id === null || at === null ? null : { updated: at, id };
}

type Stamped = { id: string; createdAt?: string | null; updatedAt?: string | null };

/**
 * A ZHL roster entity. The lists are small (an account's officers and its territory assignments) and no
 * updated-since filter is known, so every run lists the entity whole: an assignment or officer gone from the
 * list is deleted (reversibly), and rows are versioned by `updatedAt`.
 */
export function zhlEntity<T extends Stamped>(def: {
  name: string;
  listPath: string;
  collectionKey: string;
  schema: z.ZodType<T>;
  coreTable: PgTable;
  columns: (record: T, source: SourceContext) => Record<string, unknown>;
}): EntityDef<T> {
  return recordEntity<T>(
    {
      idOf: zhlIdOf,
      cursorOf: zhlCursorOf,
      createdAt: (r) => instantOrNull(r.createdAt),
      updatedAt: (r) => instantOrNull(r.updatedAt),
      updatedField: "updatedAt",
    },
    {
      ...def,
      completeScans: true,
      idField: "id",
      incremental: { param: null, cursorField: "updatedAt" },
    },
  );
}

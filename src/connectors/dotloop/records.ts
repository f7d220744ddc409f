import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { isoInstant } from "../../core/iso-instant";
import { fieldOf } from "../define";
import { recordEntity } from "../record-entity";
import type {
  CoreWrite,
  DeleteTarget,
  EntityDef,
  IncrementalSpec,
  ParentSpec,
  SourceContext,
} from "../types";

/**
 * Dotloop ids are JSON integers. Kept exact or refused: an id beyond 2^53 would already be rounded by the
 * parse, and a rounded id names another record, so it fails validation instead of landing under a wrong key.
 * A digit string (some clients re-serialise ids) is the same id.
 */
export const dotloopId = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER)),
]);

export const dotloopRef = dotloopId.nullish();

export const dotloopTimestamp = z.string().refine((s) => isoInstant(s) !== null, "not an ISO-8601 timestamp");

/** Display text: Dotloop omits empty fields, some clients send null; both are "no value". */
export const text = z.string().nullish();

export function instantOrNull(s: string | null | undefined): string | null {
  return s == null ? null : isoInstant(s);
}

/**
 * Parent ids of a nested record. Dotloop's participant, folder and document records do not carry them: they
 * are in the request path, and the engine stamps them into the record under these names (ParentSpec.stamp,
 * RecordFetch.stamp) before anything reads it.
 */
export const PARENT_FIELDS = {
  profileId: "profileId",
  loopId: "loopId",
  folderId: "folderId",
  taskListId: "taskListId",
} as const;

/** The stamped parent fields of a nested record, validated like any id (digit strings from the stamp). */
export const stampedParents = {
  profileId: dotloopRef,
  loopId: dotloopRef,
  folderId: dotloopRef,
  taskListId: dotloopRef,
};

/** Where a nested record sits, for callers that know it from elsewhere than the record (tests, tools). */
export type DotloopPath = {
  profileId?: string | null;
  loopId?: string | null;
  folderId?: string | null;
  taskListId?: string | null;
};
export type DotloopSource = SourceContext & { path?: DotloopPath };

/**
 * A parent id of a nested record, as a number for the bigint column: the stamped field of the record, else
 * the source's path; null when neither holds a well-formed id.
 */
export function pathId(source: SourceContext, key: keyof DotloopPath, record?: unknown): number | null {
  const stamped = record && typeof record === "object" ? (record as Record<string, unknown>)[key] : undefined;
  const v = stamped ?? (source as DotloopSource).path?.[key];
  const parsed = dotloopId.safeParse(v);
  return parsed.success ? parsed.data : null;
}

/** Lenient id read for staging: a number or a digit string; anything else stages without an id. */
export function dotloopIdOf(raw: unknown): string | null {
  const id = fieldOf(raw, "id");
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === "string" && /^[1-9]\d{0,15}$/.test(id)) return id;
  return null;
}

/** Only a well-formed id and update time move the cursor; a malformed record is staged, not trusted. */
export function dotloopCursorOf(raw: unknown): Cursor | null {
  const id = dotloopIdOf(raw);
  const updated = fieldOf(raw, "updated");
  const at = typeof updated === "string" ? isoInstant(updated) : null;
  if (id === null || at === null || !dotloopId.safeParse(fieldOf(raw, "id")).success) return null;
  return { updated: at, id };
}

type Stamped = { id: number; created?: string | null; updated?: string | null };

/**
 * A Dotloop entity. `listPath` is Dotloop's path with its parents as `{profileId}`/`{loopId}`/... placeholders,
 * filled by the engine from `parent` (ParentSpec); records are under `data`.
 *
 * `versioning: "contentHash"` is for the resources Dotloop publishes no `updated` for (account, profiles,
 * participants, tasks): every run is a complete scan and rows are versioned by content.
 */
export function dotloopEntity<T extends Stamped>(def: {
  name: string;
  listPath: string;
  parent?: ParentSpec;
  single?: boolean;
  versioning?: "updated" | "contentHash";
  incremental?: IncrementalSpec;
  listParams?: Record<string, string>;
  schema: z.ZodType<T>;
  coreTable: PgTable;
  columns: (record: T, source: SourceContext) => Record<string, unknown>;
  /** Core rows besides the entity's own (a loop's embedded detail, unified rows). */
  more?: (record: T, source: SourceContext) => CoreWrite[];
  /** Rows a delete of this record also reaches (unified rows in their id space). */
  alsoDelete?: (sourceId: string) => DeleteTarget[];
}): EntityDef<T> {
  const byContent = def.versioning === "contentHash";
  return recordEntity<T>(
    {
      idOf: dotloopIdOf,
      cursorOf: dotloopCursorOf,
      createdAt: (r) => instantOrNull(r.created),
      updatedAt: (r) => instantOrNull(r.updated),
      updatedField: "updated",
    },
    {
      ...def,
      collectionKey: "data",
      idField: "id",
      incremental: def.incremental ?? { param: null, cursorField: byContent ? "id" : "updated" },
    },
  );
}

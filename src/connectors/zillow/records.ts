import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { isoInstant } from "../../core/iso-instant";
import { fieldOf } from "../define";
import { recordEntity } from "../record-entity";
import type { CoreWrite, DeleteTarget, EntityDef, SourceContext } from "../types";

// Seeds-derived shapes (docs/providers/zillow.md): nothing of Zillow's agent/team/sync API is public. Ids are
// strings (`ZU…` ZUIDs for people, `ZT…` teams, `ZS…` sync users, `ZE…` events); every record has `createdAt`
// and `updatedAt` (ISO-8601 with offset), and lists are under `data`, paged by `page`/`pageSize`.

export const zillowId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a Zillow id");
export const zillowRef = zillowId.nullish();
export const zillowTimestamp = z.string().refine((s) => isoInstant(s) !== null, "not an ISO-8601 timestamp");
export const text = z.string().nullish();

export function instantOrNull(s: string | null | undefined): string | null {
  return s == null ? null : isoInstant(s);
}

export function zillowIdOf(raw: unknown): string | null {
  const id = fieldOf(raw, "id");
  return typeof id === "string" && zillowId.safeParse(id).success ? id : null;
}

export function zillowCursorOf(raw: unknown): Cursor | null {
  const id = zillowIdOf(raw);
  const updated = fieldOf(raw, "updatedAt");
  const at = typeof updated === "string" ? isoInstant(updated) : null;
  return id === null || at === null ? null : { updated: at, id };
}

type Stamped = { id: string; createdAt?: string | null; updatedAt?: string | null };

/** Soft-deleted records (`deleted: true`) are kept by Zillow and listed; their core rows carry `deleted_at`. */
const deletedAt = (r: Stamped & { deleted?: boolean | null }) =>
  r.deleted ? (instantOrNull(r.updatedAt) ?? new Date(0).toISOString()) : null;

/** A Zillow entity: `/v1/<path>` under `data`, `updatedSince` + `sort=updatedAt` for deltas. */
export function zillowEntity<T extends Stamped & { deleted?: boolean | null }>(def: {
  name: string;
  listPath: string;
  single?: boolean;
  versioning?: "updated" | "contentHash";
  schema: z.ZodType<T>;
  coreTable: PgTable;
  columns: (record: T) => Record<string, unknown>;
  more?: (record: T, source: SourceContext) => CoreWrite[];
  alsoDelete?: (sourceId: string) => DeleteTarget[];
}): EntityDef<T> {
  const byContent = def.versioning === "contentHash";
  return recordEntity<T>(
    {
      idOf: zillowIdOf,
      cursorOf: zillowCursorOf,
      createdAt: (r) => instantOrNull(r.createdAt),
      updatedAt: (r) => instantOrNull(r.updatedAt),
      updatedField: "updatedAt",
      deletedAt,
    },
    {
      ...def,
      collectionKey: "data",
      idField: "id",
      incremental: byContent
        ? { param: null, cursorField: "id" }
        : { param: "updatedSince", cursorField: "updatedAt", sortParams: { sort: "updatedAt" } },
    },
  );
}

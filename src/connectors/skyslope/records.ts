import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Cursor } from "../../core/cursor";
import { fieldOf } from "../define";
import { recordEntity } from "../record-entity";
import type { CoreWrite, DeleteTarget, EntityDef, IncrementalSpec, SourceContext } from "../types";
import { instantToNaive, skyslopeInstant, zoneOf } from "./time";

/**
 * Where the connector keeps the instants of a file's times: SkySlope writes them without an offset, so they are
 * read in the connection's zone when the page arrives (`prepare`) and kept beside the record, untouched. Every
 * later reader (cursor, versions, columns) takes these, never the text.
 */
export const INSTANTS = "_instants";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A GUID as SkySlope's ids are written: lowercase; an upper-case copy or a trailing ':' (one client saw it) is the same id. */
export function normalGuid(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const g = v.trim().replace(/:$/, "").toLowerCase();
  return GUID.test(g) ? g : null;
}

export const skyslopeGuid = z.string().transform((s, ctx) => {
  const g = normalGuid(s);
  if (g === null) {
    ctx.addIssue({ code: "custom", message: "not a GUID" });
    return z.NEVER;
  }
  return g;
});

export const guidRef = z.union([skyslopeGuid, z.literal(""), z.null()]).optional();

/** An offset-less time, with 0-9 fraction digits, or one with an offset (tolerated). */
export const skyslopeTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i,
    "not a SkySlope time",
  );

export const text = z.string().nullish();
export const money = z.union([z.number(), z.string().regex(/^-?\d+(?:\.\d+)?$/)]).nullish();

export const instantsSchema = z.looseObject({
  modifiedOn: z.string().nullish(),
  createdOn: z.string().nullish(),
});

/**
 * The record without NUL characters in its strings. Postgres text holds no NUL, so a record carrying one (raw,
 * which repairBody drops, or escaped as \u0000) would fail as unstorable: SkySlope's stray control characters
 * must not cost the record. Other control characters are kept.
 */
export function withoutNul(v: unknown): unknown {
  if (typeof v === "string") return v.includes("\u0000") ? v.replaceAll("\u0000", "") : v;
  if (Array.isArray(v)) return v.map(withoutNul);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[withoutNul(k) as string] = withoutNul(x);
    return out;
  }
  return v;
}

/** The record with the instants of its times in the connection's zone (null where unset or unreadable). */
export function withInstants(raw: unknown, settings: Record<string, unknown>): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const zone = zoneOf(settings);
  const r = withoutNul(raw) as Record<string, unknown>;
  return {
    ...r,
    [INSTANTS]: {
      modifiedOn: skyslopeInstant(r.modifiedOn, zone),
      createdOn: skyslopeInstant(r.createdOn, zone),
    },
  };
}

function instantOf(raw: unknown, key: "modifiedOn" | "createdOn"): string | null {
  const v = fieldOf(fieldOf(raw, INSTANTS), key);
  return typeof v === "string" ? v : null;
}

/**
 * The `modifiedAfter` bound in SkySlope's own format: the zone's wall clock, no offset. An hour earlier in a
 * zone other than UTC: after a fall-back the wall clock repeats an hour, and a record written in the repeated
 * hour shows an earlier wall time than the bound's instant would; re-reading an hour is harmless.
 */
export function formatSkyslopeSince(since: string, settings: Record<string, unknown>): string {
  const zone = zoneOf(settings);
  const ms = Date.parse(since);
  return instantToNaive(new Date(zone === "UTC" ? ms : ms - 3_600_000).toISOString(), zone);
}

/** The cursor of a file: its instant and GUID, only when both are well formed. */
export function fileCursor(idField: string) {
  return (raw: unknown): Cursor | null => {
    const id = normalGuid(fieldOf(raw, idField));
    const at = instantOf(raw, "modifiedOn");
    return id === null || at === null ? null : { updated: at, id };
  };
}

type Sourced = Record<string, unknown>;

/**
 * A SkySlope entity. Files (sales, listings) are versioned by `modifiedOn` in the connection's zone; users and
 * offices publish no time and are versioned by content (every run a complete scan).
 */
export function skyslopeEntity<T extends Sourced>(def: {
  name: string;
  listPath: string;
  collectionKey: string;
  idField: string;
  versioning?: "updated" | "contentHash";
  incremental?: IncrementalSpec;
  listParams?: Record<string, string>;
  schema: z.ZodType<T>;
  coreTable: PgTable;
  columns: (record: T, source: SourceContext) => Record<string, unknown>;
  more?: (record: T, source: SourceContext) => CoreWrite[];
  alsoDelete?: (sourceId: string) => DeleteTarget[];
}): EntityDef<T> {
  const byContent = def.versioning === "contentHash";
  // Times come from the instants kept beside the record at arrival; records versioned by content keep none.
  const instants = (r: T) =>
    byContent ? {} : ((r[INSTANTS] ?? {}) as { modifiedOn?: string | null; createdOn?: string | null });
  return recordEntity<T>(
    {
      idOf: (raw) => normalGuid(fieldOf(raw, def.idField)),
      cursorOf: fileCursor(def.idField),
      createdAt: (r) => instants(r).createdOn ?? null,
      updatedAt: (r) => instantOf(r, "modifiedOn"),
      updatedField: "modifiedOn",
    },
    {
      ...def,
      incremental: def.incremental ?? { param: null, cursorField: def.idField },
      prepare: byContent ? withoutNul : withInstants,
    },
  );
}

/** A file's `property`, when it is an object (its shape is unpublished; anything else reads as none). */
const propertySchema = z
  .looseObject({
    streetNumber: text,
    streetAddress: text,
    unit: text,
    city: text,
    state: text,
    zip: text,
  })
  .nullish()
  .catch(null);

/** The typed address of a file, when its `property` is an object. */
export function addressOf(p: unknown) {
  const parsed = propertySchema.parse(p);
  return {
    street_number: parsed?.streetNumber ?? null,
    street_address: parsed?.streetAddress ?? null,
    city: parsed?.city ?? null,
    state: parsed?.state ?? null,
    zip: parsed?.zip ?? null,
  };
}

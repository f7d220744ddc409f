import { sql } from "drizzle-orm";
import { bigint, customType, jsonb, pgSequence, text, timestamp } from "drizzle-orm/pg-core";

export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "string" });

/**
 * The order in which records were fetched, across every account and run: each staged record takes the next
 * value. It breaks ties between versions with the same source time (the later fetch wins) and orders a
 * record's versions against its deletes (a delete reaches versions fetched before it was observed).
 */
export const fetchSeq = pgSequence("fetch_seq");

/** Version columns of every core row: fetch order, the delete's place in that order, and a content hash. */
export const versionColumns = () => ({
  /** fetch_seq of the staged record this row was written from (0 for rows written before it existed). */
  fetchSeq: bigint("fetch_seq", { mode: "number" }).notNull().default(0),
  /** fetch_seq at which the delete that set deleted_at was observed; versions fetched later revive the row. */
  deletedSeq: bigint("deleted_seq", { mode: "number" }),
  /** Hash of the normalized record, for entities the provider gives no update time (version by content). */
  contentHash: text("content_hash"),
});

export const nextFetchSeq = sql`nextval('fetch_seq')`;

/**
 * How a provider's ids are stored, chosen per table. `int64`: a 64-bit integer, read and written as its exact
 * decimal text, so ids beyond 2^53 are never rounded (the raw page keeps them as text too, see
 * src/core/exact-json.ts). `text`: UUID/GUID or any other string id.
 */
export type SourceIdKind = "int64" | "text";

/** A Postgres bigint carried as its decimal text both ways, never through a double. */
export const int64Text = customType<{ data: string; driverData: string }>({
  dataType: () => "bigint",
  toDriver: (value) => String(value),
  fromDriver: (value) => String(value),
});

const sourceIdColumn = (kind: SourceIdKind) =>
  kind === "text" ? text("source_id").notNull() : int64Text("source_id").notNull();

/** Columns every core row carries: tenant, source identity and the source's own version time. */
export const coreColumns = (idKind: SourceIdKind = "int64") => ({
  accountId: text("account_id").notNull(),
  connectionId: text("connection_id").notNull(),
  sourceId: sourceIdColumn(idKind),
  sourceCreatedAt: tz("source_created_at"),
  /** The source's update time; null for entities versioned by content (no timestamp published). */
  sourceUpdatedAt: tz("source_updated_at"),
  raw: jsonb("raw").notNull(),
  deletedAt: tz("deleted_at"),
  ...versionColumns(),
  syncedAt: tz("synced_at").notNull().defaultNow(),
});

/** Which provider data a pipeline row is about: the tenant, the connection, its provider and the entity. */
export const scopeColumns = () => ({
  accountId: text("account_id").notNull(),
  connectionId: text("connection_id").notNull(),
  provider: text("provider").notNull(),
  entity: text("entity").notNull(),
});

import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import { stringifyDeep } from "../core/storable";

type TableShape = {
  name: string;
  /** Natural key columns: the ON CONFLICT target. */
  key: string[];
  /** Columns a mapped row supplies (everything except database-generated ones). */
  columns: AnyPgColumn[];
  hasDeletedAt: boolean;
};

const shapes = new WeakMap<PgTable, TableShape>();

/**
 * The natural key is read from the table itself, so a new core table needs no registration: a plain unique
 * index that includes source_id (unified tables: account, provider, connection, source id), else the
 * composite primary key (per-provider tables: account, connection, source id).
 */
export function tableShape(table: PgTable): TableShape {
  const cached = shapes.get(table);
  if (cached) return cached;
  const config = getTableConfig(table);
  const uniqueKeys = config.indexes
    .filter((i) => i.config.unique && !i.config.where)
    .map((i) => i.config.columns.map((c) => ("name" in c && typeof c.name === "string" ? c.name : "")))
    .filter((cols) => cols.every((c) => c !== ""));
  const primaryKeys = config.primaryKeys.map((pk) => pk.columns.map((c) => c.name));
  const key = [...uniqueKeys, ...primaryKeys].find((cols) => cols.includes("source_id"));
  if (!key) throw new Error(`table ${config.name} has no unique key including source_id`);
  const columns = config.columns.filter(
    (c) => c.name !== "synced_at" && !c.columnType.includes("Serial") && !c.generated && !c.generatedIdentity,
  );
  const shape = {
    name: config.name,
    key,
    columns,
    hasDeletedAt: config.columns.some((c) => c.name === "deleted_at"),
  };
  shapes.set(table, shape);
  return shape;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export type Versioning = "updated" | "contentHash";

/**
 * The stored delete still covers the incoming version when it was observed after that version was fetched
 * and the version brings no newer delete of its own (the transform's tombstone check sets one).
 */
const STORED_DELETE_HOLDS = "excluded.deleted_seq is null and t.deleted_seq > excluded.fetch_seq";

/**
 * Columns that are not a row's content: its identity (the natural key) and its version bookkeeping. The
 * delete state (deleted_at, deleted_seq) is compared on its own, after the merge rules.
 */
const NOT_CONTENT = new Set(["fetch_seq", "deleted_at", "deleted_seq", "content_hash"]);

/**
 * The row's content hash, computed in SQL from every content column the mapping supplies (the raw record
 * where the table keeps one, the mapped columns, the source times): one expression for every table, so the
 * unified tables, which keep no raw record, are hashed like the rest, and a changed mapping reaches stored
 * rows on the next fetch. A row value prints jsonb with its keys in a fixed order and without insignificant
 * whitespace, so equal records hash equally however the provider serialised them.
 */
function contentHashOf(shape: TableShape): string {
  const keySet = new Set(shape.key);
  const content = shape.columns.map((c) => c.name).filter((n) => !keySet.has(n) && !NOT_CONTENT.has(n));
  return `md5(row(${content.map(quote).join(", ")})::text)`;
}

/**
 * One set-based statement per table and batch: rows travel as one jsonb document and duplicates inside the
 * batch collapse to their newest version.
 *
 * Versions are ordered by (source updated time, fetch_seq): the provider's time first, and between equal
 * times the later fetch wins, whatever order the messages arrive in. Entities versioned by content
 * (`contentHash`: the provider publishes no update time) are ordered by fetch_seq alone.
 *
 * Unchanged rows write nothing, for every entity: a newer version whose content hash (contentHashOf, stored
 * in content_hash) and delete state after the merge rules equal the stored row's leaves the row as it is
 * (no tuple, no WAL, synced_at stays), so overlap windows, duplicates, replays and complete scans of
 * unchanged data cost no core writes. Known limit of writing nothing: an unchanged fetch does not move the
 * row's fetch_seq, so an older, different version that sorts after the stored one (same source time, fetched
 * in between) can replace it when delivered late, until the next fetch writes the current content again; and
 * a delete observed after the stored version's fetch but before the unchanged one still reaches the row,
 * until a later fetch revives it.
 *
 * Deletes are ordered by fetch order too: a row is deleted while a delete observed at deleted_seq is later
 * than the fetch of its current version (deleted_seq > fetch_seq). A newer version fetched after the delete
 * clears it (a change of delete state, so it writes even with unchanged content); one fetched before it keeps
 * the row deleted. A version's own deleted_at (FUB people in Trash) travels with the version. Rows without
 * fetch_seq (direct callers, tooling) count as fetched at 0.
 */
export function upsertStatement(
  table: PgTable,
  rows: Record<string, unknown>[],
  opts: { versioning?: Versioning } = {},
): SQL {
  const shape = tableShape(table);
  const byContent = opts.versioning === "contentHash";
  const names = shape.columns.map((c) => c.name);
  const recordType = sql.raw(shape.columns.map((c) => `${quote(c.name)} ${c.getSQLType()}`).join(", "));
  const list = sql.raw(names.map(quote).join(", "));
  const hash = contentHashOf(shape);
  const selected = sql.raw(
    names
      .map((n) => (n === "fetch_seq" ? "coalesce(fetch_seq, 0)" : n === "content_hash" ? hash : quote(n)))
      .join(", "),
  );
  const key = sql.raw(shape.key.map(quote).join(", "));
  const keySet = new Set(shape.key);
  const deletedAt = `case when ${STORED_DELETE_HOLDS} then t.deleted_at else excluded.deleted_at end`;
  const deletedSeq = `case when ${STORED_DELETE_HOLDS} then t.deleted_seq else excluded.deleted_seq end`;
  const updates = names
    .filter((n) => !keySet.has(n))
    .map((n) =>
      n === "deleted_at"
        ? `deleted_at = ${deletedAt}`
        : n === "deleted_seq"
          ? `deleted_seq = ${deletedSeq}`
          : `${quote(n)} = excluded.${quote(n)}`,
    )
    .concat(["synced_at = now()"])
    .join(", ");
  const newest = byContent
    ? "coalesce(fetch_seq, 0) desc"
    : "source_updated_at desc nulls last, coalesce(fetch_seq, 0) desc";
  const newer = byContent
    ? "t.fetch_seq < excluded.fetch_seq"
    : "(t.source_updated_at, t.fetch_seq) < (excluded.source_updated_at, excluded.fetch_seq)";
  const wins = `${newer}
       and (t.content_hash is distinct from excluded.content_hash
            or t.deleted_at is distinct from (${deletedAt}) or t.deleted_seq is distinct from (${deletedSeq}))`;
  return sql`
    insert into ${sql.raw(quote(shape.name))} as t (${list})
    select ${selected} from (
      select distinct on (${key}) *
      from jsonb_to_recordset(${stringifyDeep(rows)}::jsonb) as r(${recordType})
      order by ${key}, ${sql.raw(newest)}
    ) as newest
    on conflict (${key}) do update set ${sql.raw(updates)}
    where ${sql.raw(wins)}`;
}

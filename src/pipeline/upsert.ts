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
  /** SQL type of source_id: text in a table keyed by GUIDs or composite keys, bigint in one keyed by integers. */
  sourceIdType: string;
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
    sourceIdType: config.columns.find((c) => c.name === "source_id")?.getSQLType() ?? "text",
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

/** Content columns of a table: what an unchanged version must equal (the raw record, mapped columns, times). */
function contentColumns(shape: TableShape): string[] {
  const keySet = new Set(shape.key);
  return shape.columns.map((c) => c.name).filter((n) => !keySet.has(n) && !NOT_CONTENT.has(n));
}

/** Version order: `a` sorts before `b` (a null source time never sorts, as in the batch's own order). */
function olderThan(a: string, b: string, byContent: boolean): string {
  return byContent
    ? `${a}.fetch_seq < ${b}.fetch_seq`
    : `(${a}.source_updated_at, ${a}.fetch_seq) < (${b}.source_updated_at, ${b}.fetch_seq)`;
}

export const FETCH_MARKS = "core_fetch_marks";

/** The fetch mark of the row `alias` names, in table `tableName` (core_fetch_marks aliased `m`). */
export function markOf(tableName: string, alias: string): string {
  return `m.table_name = '${tableName.replaceAll("'", "''")}' and m.account_id = ${alias}.account_id
    and m.connection_id = ${alias}.connection_id and m.source_id = ${alias}.source_id::text`;
}

/**
 * One set-based statement per table and batch: rows travel as one jsonb document and duplicates inside the
 * batch collapse to their newest version.
 *
 * Versions are ordered by (source updated time, fetch_seq): the provider's time first, and between equal
 * times the later fetch wins, whatever order the messages arrive in. Entities versioned by content
 * (`contentHash`: the provider publishes no update time) are ordered by fetch_seq alone, and keep
 * `md5(raw::text)` in content_hash (or of the content columns, for a table without `raw`).
 *
 * Unchanged rows write nothing: a newer version whose content columns and delete state (after the merge
 * rules) equal the stored row's leaves the row as it is (no tuple, synced_at stays), so overlap windows,
 * duplicates, replays and complete scans of unchanged data write no core row. Content is compared only on a
 * conflict, so inserts pay nothing for it. Such a fetch still happened, though, and what it saw must keep
 * its place in the order: a late delivery of an older version, or a delete observed before it, must not win
 * against it. So every incoming version the statement did not write leaves a fetch mark (core_fetch_marks:
 * one small row per core row at most, moved forward in place), and a version must beat both the row and its
 * mark to write; a delete must be observed after the row's fetch and after a mark newer than the row to
 * reach it (run-completion.ts). A version that lost leaves a mark too, older than the row's version: it
 * orders nothing the row does not already order, and deletes ignore it. So marks need no lookup of the core
 * row: they are the incoming rows the upsert did not return, and a backfill, which writes every row, writes
 * no mark.
 *
 * The statement returns the (connection_id, source_id) of every row it wrote.
 *
 * Deletes are ordered by fetch order too: a row is deleted while a delete observed at deleted_seq is later
 * than the fetch of its current version (deleted_seq > fetch_seq). A newer version fetched after the delete
 * clears it (a change of delete state, so it writes even with unchanged content); one fetched before it keeps
 * the row deleted. A version's own deleted_at (a record the provider moved to its trash) travels with the version. Rows without
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
  // A table without `raw` (a unified table fed by a content-versioned entity) hashes its content columns.
  const hashed = names.includes("raw")
    ? "raw::text"
    : `row(${contentColumns(shape)
        .filter((n) => n !== "content_hash")
        .map(quote)
        .join(", ")})::text`;
  const selected = sql.raw(
    names
      .map((n) =>
        n === "fetch_seq"
          ? "coalesce(fetch_seq, 0) as fetch_seq"
          : n === "content_hash" && byContent
            ? `md5(${hashed}) as content_hash`
            : quote(n),
      )
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
  const content = contentColumns(shape);
  const sameContent = `row(${content.map((n) => `t.${quote(n)}`).join(", ")})
      is not distinct from row(${content.map((n) => `excluded.${quote(n)}`).join(", ")})`;
  const sameDeleteState = `t.deleted_at is not distinct from (${deletedAt})
      and t.deleted_seq is not distinct from (${deletedSeq})`;
  const unchanged = `${sameContent} and ${sameDeleteState}`;
  const markedLater = `exists (select 1 from ${FETCH_MARKS} m
      where ${markOf(shape.name, "excluded")} and not (${olderThan("m", "excluded", byContent)}))`;
  const wins = `${olderThan("t", "excluded", byContent)} and not (${unchanged}) and not ${markedLater}`;
  const name = sql.raw(quote(shape.name));
  const matches = shape.key.map((k) => `w.${quote(k)} = i.${quote(k)}`).join(" and ");
  return sql`
    with incoming as (
      select ${selected} from (
        select distinct on (${key}) *
        from jsonb_to_recordset(${stringifyDeep(rows)}::jsonb) as r(${recordType})
        order by ${key}, ${sql.raw(newest)}
      ) as newest
    ), written as (
      insert into ${name} as t (${list})
      select * from incoming
      on conflict (${key}) do update set ${sql.raw(updates)}
      where ${sql.raw(wins)}
      returning ${key}
    ), marked as (
      insert into ${sql.raw(FETCH_MARKS)} as m
        (table_name, account_id, connection_id, source_id, source_updated_at, fetch_seq)
      select ${shape.name}, i.account_id, i.connection_id, i.source_id::text, i.source_updated_at, i.fetch_seq
      from incoming as i
      where not exists (select 1 from written as w where ${sql.raw(matches)})
      on conflict (table_name, account_id, connection_id, source_id) do update
        set source_updated_at = excluded.source_updated_at, fetch_seq = excluded.fetch_seq, marked_at = now()
        where ${sql.raw(olderThan("m", "excluded", byContent))}
    )
    select connection_id, source_id::text as source_id from written`;
}

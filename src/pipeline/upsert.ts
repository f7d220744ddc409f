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
 * One set-based statement per table and batch: rows travel as one jsonb document and duplicates inside the
 * batch collapse to their newest version.
 *
 * Versions are ordered by (source updated time, fetch_seq): the provider's time first, and between equal
 * times the later fetch wins, whatever order the messages arrive in. Entities versioned by content
 * (`contentHash`: the provider publishes no update time) are ordered by fetch_seq alone and hashed in SQL as
 * `md5(raw::text)`: jsonb prints keys in a fixed order without insignificant whitespace, so equal records
 * hash equally however the provider serialised them. A newer fetch with the same hash and the same delete
 * state writes nothing (synced_at stays). Known limit of writing nothing: an unchanged fetch does not move
 * the row's fetch_seq, so an older, different version delivered late can replace it until the next complete
 * scan (every run of such an entity is one) writes the current content again.
 *
 * Deletes are ordered by fetch order too: a row is deleted while a delete observed at deleted_seq is later
 * than the fetch of its current version (deleted_seq > fetch_seq). A newer version fetched after the delete
 * clears it; one fetched before it keeps the row deleted. A version's own deleted_at (FUB people in Trash)
 * travels with the version. Rows without fetch_seq (direct callers, tooling) count as fetched at 0.
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
  const selected = sql.raw(
    names
      .map((n) =>
        n === "fetch_seq"
          ? "coalesce(fetch_seq, 0)"
          : n === "content_hash" && byContent
            ? "md5(raw::text)"
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
  const wins = byContent
    ? `t.fetch_seq < excluded.fetch_seq
       and (t.content_hash is distinct from excluded.content_hash
            or t.deleted_at is distinct from (${deletedAt}) or t.deleted_seq is distinct from (${deletedSeq}))`
    : "(t.source_updated_at, t.fetch_seq) < (excluded.source_updated_at, excluded.fetch_seq)";
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

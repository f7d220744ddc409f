import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, getTableConfig, type PgTable } from "drizzle-orm/pg-core";

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

/**
 * One set-based statement per table and batch: rows travel as one jsonb document, duplicates inside the
 * batch collapse to their newest version, and a stored row is only replaced by a version at least as new
 * (last writer wins on the source's own update time, whatever order messages arrive in). A soft delete is
 * its own last-writer-wins register: a version not newer than the stored delete keeps the row deleted, a
 * newer one (the record came back) clears it.
 */
export function upsertStatement(table: PgTable, rows: Record<string, unknown>[]): SQL {
  const shape = tableShape(table);
  const names = shape.columns.map((c) => c.name);
  const recordType = sql.raw(shape.columns.map((c) => `${quote(c.name)} ${c.getSQLType()}`).join(", "));
  const list = sql.raw(names.map(quote).join(", "));
  const key = sql.raw(shape.key.map(quote).join(", "));
  const keySet = new Set(shape.key);
  const updates = names
    .filter((n) => !keySet.has(n))
    .map((n) =>
      n === "deleted_at"
        ? `deleted_at = case when t.deleted_at is not null and excluded.source_updated_at <= t.deleted_at
             then greatest(t.deleted_at, excluded.deleted_at) else excluded.deleted_at end`
        : `${quote(n)} = excluded.${quote(n)}`,
    )
    .concat(["synced_at = now()"])
    .join(", ");
  return sql`
    insert into ${sql.raw(quote(shape.name))} as t (${list})
    select ${list} from (
      select distinct on (${key}) *
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${recordType})
      order by ${key}, source_updated_at desc
    ) as newest
    on conflict (${key}) do update set ${sql.raw(updates)}
    where t.source_updated_at <= excluded.source_updated_at`;
}

import { type SQL, sql } from "drizzle-orm";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";

const KEY = ["account_id", "connection_id", "source_id"];
const NOT_UPDATED = new Set([...KEY, "synced_at"]);

/**
 * One set-based statement per table and batch: rows travel as one jsonb document, duplicates inside the
 * batch collapse to their newest version, and a stored row is only replaced by a version at least as new
 * (last writer wins on the source's own update time, whatever order messages arrive in).
 */
export function upsertStatement(table: PgTable, rows: Record<string, unknown>[]): SQL {
  const config = getTableConfig(table);
  const columns = config.columns.filter((c) => c.name !== "synced_at");
  const names = columns.map((c) => c.name);
  const recordType = sql.raw(columns.map((c) => `"${c.name}" ${c.getSQLType()}`).join(", "));
  const list = sql.raw(names.map((n) => `"${n}"`).join(", "));
  const key = sql.raw(KEY.join(", "));
  const updates = sql.raw(
    names
      .filter((n) => !NOT_UPDATED.has(n))
      .map((n) => `"${n}" = excluded."${n}"`)
      .concat(["synced_at = now()"])
      .join(", "),
  );
  const target = sql.raw(`"${config.name}"`);
  return sql`
    insert into ${target} as t (${list})
    select ${list} from (
      select distinct on (${key}) *
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${recordType})
      order by ${key}, source_updated_at desc
    ) as newest
    on conflict (${key}) do update set ${updates}
    where t.source_updated_at <= excluded.source_updated_at`;
}

import type { PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { connectorFor } from "../../../src/connectors/registry";
import { tableShape } from "../../../src/pipeline/upsert";

export type RawUpsertResult = {
  rows: number;
  seconds: number;
  recordsPerSec: number;
  batchSize: number;
  /** Core tables written per record: the pipeline's own (fub_people + contacts), or fub_people alone. */
  tables: string[];
};

/**
 * This machine's ceiling for the job: the same mapped core rows the pipeline wrote, upserted from Node over
 * one connection in plain multi-row INSERT ... ON CONFLICT DO UPDATE statements (same last-writer-wins guard),
 * one transaction per batch, into empty scratch copies of the core tables. `only` restricts it to one table
 * (the figure earlier runs compared against). Only the upsert round trips are timed; reading the records back
 * from fub_people to build the rows is not.
 */
export async function rawUpsert(opts: {
  databaseUrl: string;
  accountId: string;
  connectionId: string;
  batchSize?: number;
  only?: string;
}): Promise<RawUpsertResult> {
  const batchSize = opts.batchSize ?? 1000;
  const entity = connectorFor("fub").entities.people;
  if (!entity) throw new Error("the fub connector has no people entity");
  const reader = new pg.Client({ connectionString: opts.databaseUrl });
  const writer = new pg.Client({ connectionString: opts.databaseUrl });
  await reader.connect();
  await writer.connect();
  const scratch = new Map<PgTable, string>();
  try {
    let lastId = -1;
    let rows = 0;
    let timedMs = 0;
    for (;;) {
      // Keyset over the primary key (account, connection, source id): each batch is an index range, not a
      // scan and sort of the whole account.
      const page = await reader.query(
        `/* bench */ select source_id, connection_id, raw, fetch_seq from fub_people
         where account_id = $1 and connection_id = $2 and source_id > $3 order by source_id limit ${batchSize}`,
        [opts.accountId, opts.connectionId, lastId],
      );
      if (page.rows.length === 0) break;
      lastId = Number(page.rows[page.rows.length - 1].source_id);
      const byTable = new Map<PgTable, Record<string, unknown>[]>();
      for (const r of page.rows) {
        const parsed = entity.schema.parse(r.raw);
        for (const w of entity.toCore(parsed, { accountId: opts.accountId, connectionId: r.connection_id })) {
          if (opts.only && tableShape(w.table).name !== opts.only) continue;
          const list = byTable.get(w.table) ?? [];
          // The version the pipeline wrote (the consumer adds it to every mapped row; the column is not null).
          list.push({ ...w.row, fetch_seq: r.fetch_seq });
          byTable.set(w.table, list);
        }
      }
      for (const table of byTable.keys()) {
        if (scratch.has(table)) continue;
        const source = tableShape(table).name;
        const name = `bench_raw_${source}`;
        await writer.query(`/* bench */ drop table if exists ${name}`);
        await writer.query(`/* bench */ create table ${name} (like ${source} including all)`);
        scratch.set(table, name);
      }
      const t0 = performance.now();
      await writer.query("begin");
      for (const [table, list] of byTable) {
        const statement = rawUpsertStatement(table, list, scratch.get(table));
        await writer.query(statement.text, statement.values);
      }
      await writer.query("commit");
      timedMs += performance.now() - t0;
      rows += page.rows.length;
    }
    const seconds = timedMs / 1000;
    return {
      rows,
      seconds: round(seconds, 2),
      recordsPerSec: Math.round(rows / seconds),
      batchSize,
      tables: [...scratch.keys()].map((t) => tableShape(t).name),
    };
  } finally {
    for (const name of scratch.values()) {
      await writer.query(`/* bench */ drop table if exists ${name}`).catch(() => {});
    }
    await reader.end();
    await writer.end();
  }
}

/**
 * A plain parameterised multi-row upsert of mapped core rows into `table` (or a scratch copy of it), with the
 * pipeline's last-writer-wins guard: the baseline both benchmarks compare the pipeline against.
 */
export function rawUpsertStatement(
  table: PgTable,
  rows: Record<string, unknown>[],
  into?: string,
): { text: string; values: unknown[] } {
  const shape = tableShape(table);
  const names = shape.columns.map((c) => c.name);
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = names.map((n) => {
      // Rows without a version (the transform bench's) count as fetched at 0, as in the pipeline's upsert.
      values.push(param(n === "fetch_seq" ? (row[n] ?? 0) : row[n]));
      return `$${values.length}`;
    });
    return `(${placeholders.join(",")})`;
  });
  const keys = new Set(shape.key);
  const updates = names
    .filter((n) => !keys.has(n))
    .map((n) => `"${n}" = excluded."${n}"`)
    .concat("synced_at = now()")
    .join(", ");
  const text = `/* bench */ insert into "${into ?? shape.name}" as t (${names.map((n) => `"${n}"`).join(", ")})
    values ${tuples.join(", ")}
    on conflict (${shape.key.map((k) => `"${k}"`).join(", ")}) do update set ${updates}
    where t.source_updated_at <= excluded.source_updated_at`;
  return { text, values };
}

// jsonb columns get JSON text; node-postgres would send a JS array as a Postgres array literal.
function param(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return value;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

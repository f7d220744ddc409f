import { getTableConfig } from "drizzle-orm/pg-core";
import pg from "pg";
import { connectorFor } from "../../../src/connectors/registry";

export type RawUpsertResult = { rows: number; seconds: number; recordsPerSec: number; batchSize: number };

/**
 * This machine's ceiling for the job: the same mapped rows the pipeline wrote, upserted from Node over one
 * connection in plain multi-row INSERT ... ON CONFLICT DO UPDATE statements (same last-writer-wins guard)
 * into an empty scratch copy of fub_people. Only the upsert round trips are timed; reading the rows back
 * from fub_people to build them is not.
 */
export async function rawUpsert(opts: {
  databaseUrl: string;
  accountId: string;
  batchSize?: number;
}): Promise<RawUpsertResult> {
  const batchSize = opts.batchSize ?? 1000;
  const entity = connectorFor("fub").entities.people;
  if (!entity) throw new Error("the fub connector has no people entity");
  const reader = new pg.Client({ connectionString: opts.databaseUrl });
  const writer = new pg.Client({ connectionString: opts.databaseUrl });
  await reader.connect();
  await writer.connect();
  try {
    await writer.query("/* bench */ drop table if exists bench_raw_people");
    await writer.query("/* bench */ create table bench_raw_people (like fub_people including all)");
    let columns: string[] | null = null;
    let statementText = "";
    let lastId = -1;
    let rows = 0;
    let timedMs = 0;
    for (;;) {
      const page = await reader.query(
        `/* bench */ select source_id::bigint as id, connection_id, raw from fub_people
         where account_id = $1 and source_id > $2 order by source_id limit ${batchSize}`,
        [opts.accountId, lastId],
      );
      if (page.rows.length === 0) break;
      lastId = Number(page.rows[page.rows.length - 1].id);
      const mapped: Record<string, unknown>[] = [];
      for (const r of page.rows) {
        const parsed = entity.schema.parse(r.raw);
        // Only the fub_people row: the unified tables the pipeline also feeds are its extra work.
        for (const w of entity.toCore(parsed, { accountId: opts.accountId, connectionId: r.connection_id })) {
          if (getTableConfig(w.table).name === "fub_people") mapped.push(w.row);
        }
      }
      if (!columns) columns = Object.keys(mapped[0] as Record<string, unknown>);
      const cols = columns;
      if (mapped.length === batchSize && !statementText) statementText = upsertSql(cols, batchSize);
      const text = mapped.length === batchSize ? statementText : upsertSql(cols, mapped.length);
      const values: unknown[] = [];
      for (const row of mapped) for (const c of cols) values.push(param(row[c]));
      const t0 = performance.now();
      await writer.query(text, values);
      timedMs += performance.now() - t0;
      rows += mapped.length;
    }
    const seconds = timedMs / 1000;
    return { rows, seconds: round(seconds, 2), recordsPerSec: Math.round(rows / seconds), batchSize };
  } finally {
    await writer.query("/* bench */ drop table if exists bench_raw_people").catch(() => {});
    await reader.end();
    await writer.end();
  }
}

function upsertSql(columns: string[], n: number): string {
  const width = columns.length;
  const tuples: string[] = [];
  for (let i = 0; i < n; i++) {
    tuples.push(`(${columns.map((_, j) => `$${i * width + j + 1}`).join(", ")})`);
  }
  const key = new Set(["account_id", "connection_id", "source_id"]);
  const updates = columns
    .filter((c) => !key.has(c))
    .map((c) => `"${c}" = excluded."${c}"`)
    .concat("synced_at = now()")
    .join(", ");
  return `/* bench */ insert into bench_raw_people as t (${columns.map((c) => `"${c}"`).join(", ")})
    values ${tuples.join(", ")}
    on conflict (account_id, connection_id, source_id) do update set ${updates}
    where t.source_updated_at <= excluded.source_updated_at`;
}

// jsonb columns get JSON text; node-postgres would send a JS array as a Postgres array literal.
function param(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return value;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

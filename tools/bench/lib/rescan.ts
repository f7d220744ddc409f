import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import * as schema from "../../../src/db/schema";
import { FETCH_MARKS } from "../../../src/pipeline/upsert";
import type { Tenant } from "./backfill";
import type { BenchStack } from "./bench-stack";
import { statementsDelta, statementsSnapshot } from "./statements";

export type CoreWrites = {
  /** tuples written to the core tables (pg_stat_user_tables n_tup_ins + n_tup_upd deltas) */
  tuples: number;
  inserted: number;
  updated: number;
  /** the tables that were written, with their tuples */
  byTable: Record<string, number>;
};

export type RescanResult = {
  /** records the scan fetched and staged */
  records: number;
  seconds: number;
  recordsPerSec: number;
  coreWrites: CoreWrites;
  /** tuples written to core_fetch_marks: what each unchanged fetch saw, one small row per core row at most */
  markWrites: number;
  /** WAL of the platform's statements during the scan (staging included), per fetched record */
  walBytesPerRecord: number;
  statementsPer1000: number;
};

/** Core tables: every table that carries a row version (content_hash), per provider and unified. */
export function coreTableNames(): string[] {
  const values: unknown[] = Object.values(schema);
  return values
    .filter((t): t is PgTable => t instanceof PgTable)
    .map((t) => getTableConfig(t))
    .filter((c) => c.columns.some((col) => col.name === "content_hash"))
    .map((c) => c.name)
    .sort();
}

type Counters = Map<string, { ins: number; upd: number }>;

async function coreCounters(client: pg.Client, tables: string[]): Promise<Counters> {
  // Counters reach the shared statistics when a backend's transaction ends (at most once a second) or it
  // exits; clearing this session's cached snapshot makes the read see what was flushed since.
  await client.query("/* bench */ select pg_stat_clear_snapshot()");
  const r = await client.query(
    `/* bench */ select relname as bench_rel, n_tup_ins::float8 as ins, n_tup_upd::float8 as upd
     from pg_stat_user_tables where relname = any($1::text[])`,
    [tables],
  );
  const counters: Counters = new Map();
  for (const row of r.rows as { bench_rel: string; ins: number; upd: number }[]) {
    counters.set(row.bench_rel, { ins: row.ins, upd: row.upd });
  }
  return counters;
}

function writesBetween(before: Counters, after: Counters): CoreWrites {
  let inserted = 0;
  let updated = 0;
  const byTable: Record<string, number> = {};
  for (const [table, a] of after) {
    const b = before.get(table) ?? { ins: 0, upd: 0 };
    const ins = a.ins - b.ins;
    const upd = a.upd - b.upd;
    inserted += ins;
    updated += upd;
    if (ins + upd > 0) byTable[table] = ins + upd;
  }
  return { tuples: inserted + updated, inserted, updated, byTable };
}

/**
 * Core tuples `work` wrote, read from the same counters the rescan reads: the backfill's figure shows they
 * count every write (a rescan's zero is then a measurement, not a counter that never moved).
 */
export async function measureCoreWrites<T>(
  databaseUrl: string,
  work: () => Promise<T>,
): Promise<{ result: T; coreWrites: CoreWrites }> {
  const tables = coreTableNames();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const before = await coreCounters(client, tables);
    const result = await work();
    await new Promise((r) => setTimeout(r, 1500));
    return { result, coreWrites: writesBetween(before, await coreCounters(client, tables)) };
  } finally {
    await client.end();
  }
}

/**
 * A second onboarding run (a complete scan) of a tenant whose data did not change since its backfill: every
 * record is fetched, staged and transformed again, and none should write a core tuple. Timed from the admin
 * call until the new run is complete and all its staged records are transformed.
 */
export async function runRescan(
  b: BenchStack,
  t: Tenant,
  opts: { timeoutMs: number; pollIntervalMs?: number },
): Promise<RescanResult> {
  const pollIntervalMs = opts.pollIntervalMs ?? 500;
  const tables = coreTableNames();
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  try {
    const previous = await client.query(
      `/* bench */ select coalesce(max(id), 0)::text as bench_last from sync_runs
       where account_id = $1 and entity = 'people'`,
      [t.accountId],
    );
    const lastRunRow = (previous.rows[0] as { bench_last: string }).bench_last;
    // Whatever the backfill left in flight (stats not yet flushed) must not count as the rescan's.
    await new Promise((r) => setTimeout(r, 1500));
    const counters = await coreCounters(client, tables);
    const marksBefore = await coreCounters(client, [FETCH_MARKS]);
    const statements = await statementsSnapshot(client);
    const t0 = performance.now();
    await b.admin.sync(t.accountId, { entity: "people", mode: "onboarding" });
    let polls = 0;
    let finishedAt = 0;
    let fetched = 0;
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const r = await client.query(
        `/* bench */ select r.run_id as bench_run, r.status as bench_status, r.fetched::float8 as bench_fetched,
           exists (select 1 from stage_records s where s.connection_id = r.connection_id and s.entity = r.entity
                   and s.run_id = r.run_id and s.done_at is null) as bench_pending
         from sync_runs r
         where r.account_id = $1 and r.entity = 'people' and r.id > $2::bigint and r.mode = 'onboarding'
         order by r.id desc limit 1`,
        [t.accountId, lastRunRow],
      );
      finishedAt = performance.now();
      polls++;
      const run = r.rows[0] as
        | { bench_run: string; bench_status: string; bench_fetched: number; bench_pending: boolean }
        | undefined;
      if (run?.bench_status.startsWith("COMPLETED") && !run.bench_pending) {
        fetched = run.bench_fetched;
        break;
      }
      if (run && (run.bench_status === "ERROR" || run.bench_status === "ABANDONED")) {
        throw new Error(`the unchanged rescan ended ${run.bench_status}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the unchanged rescan did not finish in ${opts.timeoutMs} ms: ${JSON.stringify(run)}`,
        );
      }
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
    const seconds = (finishedAt - t0) / 1000;
    // Let the Worker's last connections end (their counters flush on exit) before reading the deltas.
    await new Promise((r) => setTimeout(r, 1500));
    const stats = await statementsDelta(client, statements, polls + 2);
    const coreWrites = writesBetween(counters, await coreCounters(client, tables));
    const markWrites = writesBetween(marksBefore, await coreCounters(client, [FETCH_MARKS])).tuples;
    return {
      records: fetched,
      seconds: round(seconds, 2),
      recordsPerSec: round(fetched / Math.max(seconds, 0.001), 0),
      coreWrites,
      markWrites,
      walBytesPerRecord: Math.round(stats.walBytes / Math.max(1, fetched)),
      statementsPer1000: round((stats.statements / Math.max(1, fetched)) * 1000, 1),
    };
  } finally {
    await client.end();
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

import type pg from "pg";

type Row = { queryid: string; query: string; calls: number; wal_bytes: number; total_ms: number };
export type StatementsSnapshot = {
  rows: Map<string, Row>;
  xactCommit: number;
  xactRollback: number;
  sessions: number;
};

export type StatementStats = {
  /** statements the platform ran (the bench's own queries excluded), BEGIN/COMMIT included */
  statements: number;
  transactionControl: number;
  xactCommit: number;
  xactRollback: number;
  /** new connections (each costs ~3 extra round trips for startup + SCRAM auth) */
  sessions: number;
  walBytes: number;
  top: { calls: number; totalMs: number; query: string }[];
};

const BENCH_TAG = "/* bench */";
// pg_stat_statements keeps normalised text without comments: the bench's queries are known by their
// `bench_` identifiers (aliases, the scratch table) and by the statistics views they read.
const OWN_QUERY = /bench_|pg_stat_|pg_database/;

/** Cumulative counters of the bench database; deltas of two snapshots cover what ran in between. */
export async function statementsSnapshot(client: pg.Client): Promise<StatementsSnapshot> {
  const rows = new Map<string, Row>();
  try {
    const r = await client.query(`${BENCH_TAG} select queryid::text, query, calls::float8 as calls,
        wal_bytes::float8 as wal_bytes, total_exec_time as total_ms
      from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = current_database()`);
    for (const row of r.rows as Row[]) rows.set(row.queryid, row);
  } catch {
    // pg_stat_statements not loaded: only the database counters below
  }
  const db = await client.query(`${BENCH_TAG} select xact_commit::float8 as c, xact_rollback::float8 as r,
      sessions::float8 as s from pg_stat_database where datname = current_database()`);
  const d = db.rows[0] as { c: number; r: number; s: number };
  return { rows, xactCommit: d.c, xactRollback: d.r, sessions: d.s };
}

/** `ownTransactions`: queries the bench itself sent on `client` in between (each an autocommit transaction). */
export async function statementsDelta(
  client: pg.Client,
  before: StatementsSnapshot,
  ownTransactions = 0,
): Promise<StatementStats> {
  // The stats collector publishes counters with a short delay; give it a moment.
  await new Promise((r) => setTimeout(r, 700));
  await client.query(`${BENCH_TAG} select pg_stat_clear_snapshot()`);
  const after = await statementsSnapshot(client);
  let statements = 0;
  let transactionControl = 0;
  let walBytes = 0;
  const top: StatementStats["top"] = [];
  for (const [id, row] of after.rows) {
    if (OWN_QUERY.test(row.query)) continue;
    const prev = before.rows.get(id);
    const calls = row.calls - (prev?.calls ?? 0);
    if (calls <= 0) continue;
    statements += calls;
    walBytes += row.wal_bytes - (prev?.wal_bytes ?? 0);
    if (/^\s*(begin|commit|rollback|start transaction)/i.test(row.query)) transactionControl += calls;
    top.push({
      calls,
      totalMs: Math.round(row.total_ms - (prev?.total_ms ?? 0)),
      query: row.query.replace(/\s+/g, " ").slice(0, 120),
    });
  }
  top.sort((a, b) => b.totalMs - a.totalMs);
  return {
    statements,
    transactionControl,
    // +2: the snapshot query itself and the clear_snapshot call.
    xactCommit: after.xactCommit - before.xactCommit - ownTransactions - 2,
    xactRollback: after.xactRollback - before.xactRollback,
    sessions: after.sessions - before.sessions,
    walBytes,
    top: top.slice(0, 8),
  };
}

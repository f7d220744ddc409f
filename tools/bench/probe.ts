// A short look at where one backfill spends the machine: the backfill and the raw-upsert baseline of the
// default bench (same functions), plus the CPU seconds each process group used during the backfill and the
// Postgres statements that took the most time. Meant for comparing two commits on the same machine in the
// same hour: copy this file into the other checkout's tools/bench/ and run it there too.
//   tsx tools/bench/probe.ts [--people 200000] [--top 12]
// Linux only (reads /proc). Runs on the working tree, not a snapshot.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { createTenant, runBackfill } from "./lib/backfill";
import { startBenchStack } from "./lib/bench-stack";
import { rawUpsert } from "./lib/raw-upsert";

const { values } = parseArgs({
  options: {
    people: { type: "string", default: "200000" },
    top: { type: "string", default: "12" },
    // Writes the Worker's CPU profile of the backfill here (open it in Chrome DevTools → Performance).
    "worker-profile": { type: "string" },
  },
});
const people = Number(values.people);
const top = Number(values.top);
if (!Number.isInteger(people) || people <= 0) throw new Error(`--people needs a positive integer`);

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux this runs on). */
const HZ = 100;

type Group = "workerd" | "postgres" | "wrangler" | "this process (simulator, proxy, bench)";

function groupOf(cmd: string): Group | null {
  if (cmd.includes("workerd serve") && !cmd.includes("vitest")) return "workerd";
  if (cmd.includes("bench-postgres") && cmd.includes(" -D ")) return "postgres";
  if (cmd.includes("wrangler dev")) return "wrangler";
  return null;
}

/**
 * CPU ticks by process. Postgres backends come and go (one per Worker connection), so its figure is the
 * postmaster's own time plus that of the children it reaped, which the kernel adds to the parent.
 */
function cpuTicks(): Map<string, { group: Group; ticks: number }> {
  const out = new Map<string, { group: Group; ticks: number }>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const group = groupOf(cmd);
      if (!group) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const own = Number(f[11]) + Number(f[12]);
      const reaped = group === "postgres" ? Number(f[13]) + Number(f[14]) : 0;
      out.set(pid, { group, ticks: own + reaped });
    } catch {
      // the process ended between listing and reading
    }
  }
  const self = process.cpuUsage();
  out.set("self", {
    group: "this process (simulator, proxy, bench)",
    ticks: ((self.user + self.system) / 1e6) * HZ,
  });
  return out;
}

const b = await startBenchStack({});
try {
  const tenant = await createTenant(b, { name: "probe", people, rateLimit: false });
  const sessions = async () => {
    const c = new pg.Client({ connectionString: b.cluster.url });
    await c.connect();
    try {
      const r = await c.query(
        "/* bench */ select sessions::int as n, session_time from pg_stat_database where datname = current_database()",
      );
      return r.rows[0] as { n: number; session_time: number };
    } finally {
      await c.end();
    }
  };
  // Background work the backfill causes in Postgres (autovacuum, analyze) and the WAL it writes: the CPU
  // figure below counts autovacuum workers too (reaped children of the postmaster).
  const background = async () => {
    const c = new pg.Client({ connectionString: b.cluster.url });
    await c.connect();
    try {
      const tables = await c.query(
        `/* bench */ select relname, autovacuum_count::int as vacuums, autoanalyze_count::int as analyzes,
           total_autovacuum_time as vacuum_ms, total_autoanalyze_time as analyze_ms
         from pg_stat_user_tables`,
      );
      const wal = await c.query("/* bench */ select wal_bytes::float8 as bytes from pg_stat_wal");
      return {
        tables: new Map(
          (
            tables.rows as {
              relname: string;
              vacuums: number;
              analyzes: number;
              vacuum_ms: number;
              analyze_ms: number;
            }[]
          ).map((r) => [r.relname, r]),
        ),
        walBytes: Number((wal.rows[0] as { bytes: number }).bytes),
      };
    } finally {
      await c.end();
    }
  };
  const backgroundBefore = await background();
  const sessionsBefore = await sessions();
  const profiling = values["worker-profile"] ? await b.stack.worker.profile() : null;
  const before = cpuTicks();
  const run = await runBackfill(b, tenant, { timeoutMs: 120_000 + people * 10 });
  const after = cpuTicks();
  if (profiling && values["worker-profile"]) {
    writeFileSync(values["worker-profile"], JSON.stringify(await profiling()));
    console.log(`worker CPU profile written to ${values["worker-profile"]}`);
  }
  const sessionsAfter = await sessions();
  const backgroundAfter = await background();
  const byGroup = new Map<Group, number>();
  for (const [pid, a] of after) {
    const used = (a.ticks - (before.get(pid)?.ticks ?? 0)) / HZ;
    byGroup.set(a.group, (byGroup.get(a.group) ?? 0) + used);
  }
  console.log(`backfill: ${run.records} records in ${run.seconds} s = ${run.recordsPerSec}/s`);
  // Every Worker invocation opens its own connections (a socket belongs to the request that opened it), and
  // each is a new Postgres backend here: what the backfill paid in connection setup is this count's business.
  const opened = sessionsAfter.n - sessionsBefore.n - 1;
  console.log(
    `  Postgres sessions opened: ${opened} (${((opened / Math.max(1, run.records)) * 1000).toFixed(2)} per 1,000 records)`,
  );
  console.log(
    `  WAL: ${Math.round((backgroundAfter.walBytes - backgroundBefore.walBytes) / Math.max(1, run.records))} bytes/record`,
  );
  for (const [name, t] of backgroundAfter.tables) {
    const was = backgroundBefore.tables.get(name);
    const vacuums = t.vacuums - (was?.vacuums ?? 0);
    const analyzes = t.analyzes - (was?.analyzes ?? 0);
    if (vacuums + analyzes === 0) continue;
    const vacuumMs = Math.round(t.vacuum_ms - (was?.vacuum_ms ?? 0));
    const analyzeMs = Math.round(t.analyze_ms - (was?.analyze_ms ?? 0));
    console.log(
      `  autovacuum on ${name}: ${vacuums} vacuums (${vacuumMs} ms), ${analyzes} analyzes (${analyzeMs} ms)`,
    );
  }
  for (const [group, seconds] of byGroup) {
    const perRecord = Math.round((seconds / Math.max(1, run.records)) * 1e6);
    console.log(`  ${group}: ${seconds.toFixed(1)} CPU s = ${perRecord} us/record`);
  }
  const walBeforeRaw = (await background()).walBytes;
  const raw = await rawUpsert({
    databaseUrl: b.cluster.url,
    accountId: tenant.accountId,
    connectionId: tenant.connectionId,
  });
  console.log(
    `raw upsert: ${raw.recordsPerSec}/s; backfill / raw = ${(run.recordsPerSec / raw.recordsPerSec).toFixed(3)}`,
  );
  console.log(
    `  raw upsert WAL: ${Math.round(((await background()).walBytes - walBeforeRaw) / Math.max(1, raw.rows))} bytes/record`,
  );
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  try {
    const r = await client.query(
      `/* bench */ select round(total_exec_time)::int as ms, calls, rows,
         round(wal_bytes / greatest(rows, 1))::int as wal_per_row, wal_fpi::int as fpi,
         left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as statement
       from pg_stat_statements order by total_exec_time desc limit $1`,
      [top],
    );
    console.log("statements by total time (backfill and baseline together):");
    for (const s of r.rows as {
      ms: number;
      calls: string;
      rows: string;
      wal_per_row: number;
      fpi: number;
      statement: string;
    }[]) {
      console.log(
        `  ${s.ms} ms, ${s.calls} calls, ${s.rows} rows, WAL ${s.wal_per_row} B/row (${s.fpi} full pages): ${s.statement}`,
      );
    }
  } finally {
    await client.end();
  }
} finally {
  await b.stop();
}

// Measures the platform end to end on this machine and writes the figures as JSON.
//   tsx tools/bench/main.ts [--people 200000] [--smoke] [--out bench-results/bench.json]
//     [--memory-sizes 100000,200000] [--budget-seconds 60] [--webhook-seconds 10]
//     [--concurrency 16,64,128] [--freshness 30] [--skip-transform] [--live] [--verbose]
// Runs on a snapshot of HEAD (plus tools/bench and tools/chaos) unless --live: see lib/snapshot.ts.
// See docs/performance.md for what each figure means and what limits it.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseFleetOptions, runFleetBench } from "./fleet";
import { type BackfillResult, createTenant, runBackfill } from "./lib/backfill";
import { startBenchStack } from "./lib/bench-stack";
import { type BudgetResult, runBudget } from "./lib/budget";
import { machineInfo } from "./lib/machine";
import { rawUpsert } from "./lib/raw-upsert";
import { BENCH_SCHEMA_VERSION, type BenchReport, renderTable } from "./lib/report";
import { type CoreWrites, measureCoreWrites, runRescan } from "./lib/rescan";
import type { MemoryPeak } from "./lib/rss";
import { runInSnapshot } from "./lib/snapshot";
import { runWebhookBench } from "./lib/webhooks";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type BenchOptions = {
  people: number;
  smoke: boolean;
  out: string;
  memorySizes: number[];
  budgetSeconds: number;
  budgetLimit: number;
  budgetWindowSec: number;
  webhookSeconds: number;
  /** connection counts the webhook sweep measures at */
  concurrency: number[];
  freshness: number;
  /**
   * Longest wait, per measured webhook run, for the machine to go quiet first. The smoke waits briefly: on a
   * machine busy with other work it would otherwise wait the full two minutes three times over.
   */
  idleTimeoutSec: number;
  skipTransform: boolean;
  verbose: boolean;
  /** the commit a snapshot run measures (null: the live working tree) */
  commit: string | null;
};

export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith("--")) {
      flags.set(a.slice(2), argv[i + 1] as string);
      i++;
    } else bools.add(a.slice(2));
  }
  const smoke = bools.has("smoke");
  const num = (k: string, d: number) => {
    const v = flags.get(k);
    if (v === undefined) return d;
    const n = Number(v.replaceAll("_", ""));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} needs a positive number, got ${v}`);
    return n;
  };
  const nums = (k: string, d: number[]) => {
    const v = flags.get(k);
    if (v === undefined) return d;
    const list = v.split(",").map((x) => Number(x.replaceAll("_", "")));
    if (list.some((n) => !Number.isInteger(n) || n <= 0))
      throw new Error(`--${k} needs a comma-separated list of positive integers, got ${v}`);
    return list;
  };
  const people = num("people", smoke ? 2_000 : 200_000);
  return {
    people,
    smoke,
    out: flags.get("out") ?? path.join("bench-results", smoke ? "bench-smoke.json" : "bench.json"),
    memorySizes: nums("memory-sizes", [Math.max(1, Math.floor(people / 2)), people]),
    // FUB's limit for the full run; a proportionally small one for the smoke so it still spans many windows.
    budgetSeconds: num("budget-seconds", smoke ? 10 : 60),
    budgetLimit: num("budget-limit", smoke ? 10 : 250),
    budgetWindowSec: num("budget-window", smoke ? 2 : 10),
    webhookSeconds: num("webhook-seconds", smoke ? 2 : 10),
    concurrency: nums("concurrency", smoke ? [8] : [16, 64, 128]),
    freshness: num("freshness", smoke ? 5 : 30),
    idleTimeoutSec: num("idle-timeout", smoke ? 10 : 120),
    skipTransform: bools.has("skip-transform") || smoke,
    verbose: bools.has("verbose"),
    commit: flags.get("commit") ?? null,
  };
}

export async function runBench(
  opts: BenchOptions,
  log: (line: string) => void = console.log,
): Promise<BenchReport> {
  const machine = machineInfo();
  log(`bench on ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGb} GB, node ${machine.node}`);
  const b = await startBenchStack({ log: opts.verbose ? (l) => log(`[worker] ${l}`) : undefined });
  const report: Partial<BenchReport> = {
    schemaVersion: BENCH_SCHEMA_VERSION,
    machine,
    commit: opts.commit,
    options: opts,
  };
  const interrupted = () => {
    void b.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const timeoutFor = (n: number) => 120_000 + n * 10;
    const memoryRuns: { people: number; memory: MemoryPeak[]; recordsPerSec: number }[] = [];
    let main: BackfillResult | null = null;
    let mainCoreWrites: CoreWrites = { tuples: 0, inserted: 0, updated: 0, byTable: {} };
    const mainTenant = await createTenant(b, { name: "main", people: opts.people, rateLimit: false });
    const sizes = [...new Set([...opts.memorySizes.filter((s) => s !== opts.people), opts.people])].sort(
      (x, y) => x - y,
    );
    for (const size of sizes) {
      const tenant =
        size === opts.people
          ? mainTenant
          : await createTenant(b, { name: `mem${size}`, people: size, rateLimit: false });
      log(`backfill: ${size} people, rate limits off…`);
      const backfill = () => runBackfill(b, tenant, { timeoutMs: timeoutFor(size) });
      const run =
        size === opts.people
          ? await measureCoreWrites(b.cluster.url, backfill).then((m) => {
              mainCoreWrites = m.coreWrites;
              return m.result;
            })
          : await backfill();
      log(`  ${run.records} records in ${run.seconds} s = ${run.recordsPerSec}/s`);
      memoryRuns.push({ people: size, memory: run.memory, recordsPerSec: run.recordsPerSec });
      if (size === opts.people) main = run;
    }
    if (!main) throw new Error("the main backfill did not run");

    log(`unchanged rescan: a second complete scan of the ${opts.people} people…`);
    const rescan = await runRescan(b, mainTenant, { timeoutMs: timeoutFor(opts.people) });
    log(
      `  ${rescan.records} records in ${rescan.seconds} s = ${rescan.recordsPerSec}/s, ${rescan.coreWrites.tuples} core tuples written, ${rescan.markWrites} fetch marks, WAL ${rescan.walBytesPerRecord} B/record`,
    );

    log("raw upsert baseline (Node, pg, 1000-row multi-row upsert, one connection)…");
    const raw = await rawUpsert({
      databaseUrl: b.cluster.url,
      accountId: mainTenant.accountId,
      connectionId: mainTenant.connectionId,
    });
    log(`  ${raw.tables.join(" + ")}: ${raw.rows} records in ${raw.seconds} s = ${raw.recordsPerSec}/s`);
    const rawPeopleOnly = await rawUpsert({
      databaseUrl: b.cluster.url,
      accountId: mainTenant.accountId,
      connectionId: mainTenant.connectionId,
      only: "fub_people",
    });
    log(
      `  fub_people only: ${rawPeopleOnly.rows} records in ${rawPeopleOnly.seconds} s = ${rawPeopleOnly.recordsPerSec}/s`,
    );

    log(
      `rate budget: ${opts.budgetSeconds} s of onboarding at ${opts.budgetLimit} per ${opts.budgetWindowSec} s…`,
    );
    const budget: BudgetResult = await runBudget(b, {
      seconds: opts.budgetSeconds,
      limit: opts.budgetLimit,
      windowSec: opts.budgetWindowSec,
      name: "budget",
    });
    log(`  steady share ${budget.steadyShare}, 429s ${budget.rateLimited}`);

    log("webhooks: ack load vs bare route, freshness…");
    const webhooks = await runWebhookBench(b, mainTenant, {
      durationMs: opts.webhookSeconds * 1000,
      concurrency: opts.concurrency,
      freshnessSamples: opts.freshness,
      maxId: opts.people,
      idleTimeoutMs: opts.idleTimeoutSec * 1000,
    });

    const per1000 = (x: number) => Math.round((x / main.records) * 1000 * 10) / 10;
    const s = main.statements;
    report.backfill = {
      people: main.people,
      records: main.records,
      seconds: main.seconds,
      recordsPerSec: main.recordsPerSec,
      failedRecords: main.failedRecords,
      pollIntervalMs: main.pollIntervalMs,
      coreWrites: mainCoreWrites,
      raw,
      ratio: Math.round((main.recordsPerSec / raw.recordsPerSec) * 1000) / 1000,
      rawPeopleOnly,
      ratioPeopleOnly: Math.round((main.recordsPerSec / rawPeopleOnly.recordsPerSec) * 1000) / 1000,
      target: 0.6,
    };
    report.rescan = { ...rescan, target: 0 };
    report.rateBudget = { ...budget, target: 0.95 };
    report.webhooks = { ...webhooks, ackTarget: 0.7 };
    report.cost = {
      statementsPer1000: per1000(s.statements),
      transactionControlPer1000: per1000(s.transactionControl),
      transactionsPer1000: per1000(s.xactCommit + s.xactRollback),
      sessionsPer1000: per1000(s.sessions),
      // Each new connection costs about 3 round trips (startup, SCRAM first/final) before its first query.
      roundTripsPer1000: per1000(s.statements + 3 * s.sessions),
      walBytesPerRecord: Math.round(s.walBytes / main.records),
      fubRequestsPer1000: per1000(main.simRequests),
      subrequestsPerInvocation: {
        invocations: main.invocations.invocations,
        mean:
          Math.round((main.invocations.subrequests / Math.max(1, main.invocations.invocations)) * 10) / 10,
        max: main.invocations.max ?? { fetch: 0, queue: 0, database: 0, total: 0 },
        // Workers Paid's per-invocation cap (Free: 50).
        limit: 10_000,
      },
      topStatements: s.top,
    };
    report.memory = { runs: memoryRuns, ...memoryGrowth(memoryRuns) };
  } catch (error) {
    log("bench failed; last Worker output:");
    for (const line of b.workerLog.slice(-40)) log(`  ${line}`);
    throw error;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await b.stop();
  }
  report.transform = opts.skipTransform ? { skipped: true } : runTransformBenches(log);
  const full = report as BenchReport;
  mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(full, null, 2)}\n`);
  log("");
  log(renderTable(full));
  log(`\nwritten to ${opts.out}`);
  return full;
}

/**
 * Memory must not grow with N: compare each process group's peak at the largest size with the smallest.
 * Postgres is expected to grow until its shared buffers (256 MB) are warm; that's a cap, not a leak.
 */
function memoryGrowth(runs: { people: number; memory: MemoryPeak[] }[]) {
  const first = runs[0];
  const last = runs[runs.length - 1];
  const growth: { name: string; fromMb: number; toMb: number; ratio: number }[] = [];
  if (!first || !last || first === last) return { growth, flat: null as boolean | null };
  for (const peak of last.memory) {
    const base = first.memory.find((m) => m.name === peak.name);
    if (!base || base.peakPssSumMb === 0) continue;
    growth.push({
      name: peak.name,
      fromMb: base.peakPssSumMb,
      toMb: peak.peakPssSumMb,
      ratio: Math.round((peak.peakPssSumMb / base.peakPssSumMb) * 100) / 100,
    });
  }
  // Flat: nothing but Postgres grows by more than a quarter while N grows by last/first.
  const flat = growth.filter((g) => !g.name.startsWith("postgres")).every((g) => g.ratio <= 1.25);
  return { growth, flat };
}

/** Runs the pipeline engineer's transform micro-benchmarks (tools/bench/transform*.ts) when they exist. */
function runTransformBenches(log: (line: string) => void) {
  const dir = path.join(ROOT, "tools", "bench");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^transform.*\.ts$/.test(f)) : [];
  if (files.length === 0) return { available: false, reason: "no tools/bench/transform*.ts yet" };
  const results: Record<string, unknown> = {};
  for (const f of files) {
    log(`transform sub-bench ${f}…`);
    const started = Date.now();
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(dir, f)], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: 900_000,
    });
    const out = (r.stdout ?? "").trim();
    // transform.ts writes bench-results/<name>.json under its cwd; take it when this run wrote it.
    const json = path.join(ROOT, "bench-results", f.replace(/\.ts$/, ".json"));
    let parsed: unknown = null;
    if (existsSync(json) && statSync(json).mtimeMs >= started)
      parsed = JSON.parse(readFileSync(json, "utf8"));
    results[f] = { exitCode: r.status, json: parsed, output: out.slice(-3000) };
    if (!parsed) log(`  ${f} exited ${r.status} without writing ${json}`);
  }
  return { available: true, results };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  const run = argv.includes("--fleet")
    ? runFleetBench(parseFleetOptions(argv)).then(() => 0)
    : argv.includes("--live")
      ? runBench(parseOptions(argv)).then(() => 0)
      : runInSnapshot("tools/bench/main.ts", argv);
  run.then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
}

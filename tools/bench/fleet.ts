// The fleet benchmark: many small accounts plus concurrent large backfills, through the whole stack.
//   tsx tools/bench/fleet.ts [--accounts 1000] [--small-people 20] [--big 10] [--big-people 20000]
//     [--freshness 20] [--ticks-per-interval 15] [--out bench-results/fleet.json] [--smoke] [--verbose]
// (`npm run bench:fleet -- …`, or `npm run bench -- --fleet …`). Runs on the working tree.
// Figures, all from this one run: the scheduler tick's duration, per-account delta latency p50/p99 and webhook
// freshness p50/p99 of small accounts without (baseline) and during the big backfills, the backfills' aggregate
// records/s against the raw upsert of the same rows, Postgres round trips per account per tick, and the
// memory of each process. See docs/performance.md.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createTenant, runsLanded, type Tenant } from "./lib/backfill";
import { type BenchStack, startBenchStack } from "./lib/bench-stack";
import { memoryGroups } from "./lib/groups";
import { percentile } from "./lib/load";
import { machineInfo } from "./lib/machine";
import { rawUpsert } from "./lib/raw-upsert";
import { type MemoryPeak, startMemorySampler } from "./lib/rss";
import { statementsDelta, statementsSnapshot } from "./lib/statements";
import { freshnessTimes } from "./lib/webhooks";

export type FleetOptions = {
  accounts: number;
  smallPeople: number;
  big: number;
  bigPeople: number;
  /** webhook freshness samples per phase */
  freshness: number;
  /**
   * Ticks per delta interval: the scheduler spreads the fleet's slots over the interval, so one tick finds this
   * fraction of the small accounts due. Onboarding goes through the ticks in the same slices.
   */
  ticksPerInterval: number;
  out: string;
  smoke: boolean;
  verbose: boolean;
};

export function parseFleetOptions(argv: string[]): FleetOptions {
  const smoke = argv.includes("--smoke");
  const value = (k: string) => {
    const i = argv.findIndex((a) => a === `--${k}` || a.startsWith(`--${k}=`));
    if (i < 0) return undefined;
    const a = argv[i] as string;
    return a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1];
  };
  const num = (k: string, d: number) => {
    const v = value(k);
    if (v === undefined) return d;
    const n = Number(v.replaceAll("_", ""));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${k} needs a positive integer, got ${v}`);
    return n;
  };
  return {
    accounts: num("accounts", smoke ? 8 : 1_000),
    smallPeople: num("small-people", smoke ? 5 : 20),
    big: num("big", smoke ? 1 : 10),
    bigPeople: num("big-people", smoke ? 2_000 : 20_000),
    freshness: num("freshness", smoke ? 2 : 20),
    ticksPerInterval: num("ticks-per-interval", smoke ? 1 : 15),
    out: value("out") ?? path.join("bench-results", smoke ? "fleet-smoke.json" : "fleet.json"),
    smoke,
    verbose: argv.includes("--verbose"),
  };
}

export type Latency = { samples: number; timeouts: number; p50Ms: number; p99Ms: number; maxMs: number };

export type FleetPhase = {
  /** the tick that started the deltas of one tick's share of the small accounts */
  tick: { wallMs: number; reportedMs: number; connections: number; claims: number; behind: number };
  /** from the tick's start to the account's changed person in core */
  deltaLatency: Latency;
  /** Postgres round trips (statements, BEGIN/COMMIT included) from the tick until every change landed, per account */
  roundTripsPerAccount: number;
  /** from the change in the provider (which sends its webhook) to the core row */
  webhookFreshness: Latency;
  /** the big accounts' transform pages waiting in the queue when the phase began (sum) */
  bigBacklogPages: number;
};

export type FleetReport = {
  machine: ReturnType<typeof machineInfo>;
  options: FleetOptions;
  /** `expected`: the small accounts' live people in the provider (the simulator trashes some of each seed) */
  onboarding: {
    ticks: number;
    /** small connections a tick claimed whose runs never started, made due again */
    unstarted: number;
    /** the slowest onboarding tick */
    tick: FleetPhase["tick"];
    seconds: number;
    records: number;
    expected: number;
  };
  baseline: FleetPhase;
  duringBackfill: FleetPhase;
  backfill: {
    accounts: number;
    records: number;
    seconds: number;
    recordsPerSec: number;
    raw: { rows: number; seconds: number; recordsPerSec: number };
    ratio: number;
  };
  memory: MemoryPeak[];
};

const SMALL = "fs";
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

function latency(times: number[], timeouts: number): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    timeouts,
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** Runs fn over items with at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

/** One scheduler tick through the Worker's own scheduled handler, and the report it kept. */
async function tick(b: BenchStack, client: pg.Client): Promise<FleetPhase["tick"]> {
  const t0 = performance.now();
  const res = await fetch(`${b.stack.workerUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  await res.text();
  const wallMs = round(performance.now() - t0);
  const r = await client.query(
    `/* bench */ select duration_ms as bench_ms, report from scheduler_ticks where job = 'delta'`,
  );
  const row = r.rows[0] as { bench_ms: number; report: Record<string, number> } | undefined;
  return {
    wallMs,
    reportedMs: row?.bench_ms ?? -1,
    connections: row?.report.connections ?? 0,
    claims: row?.report.claims ?? 0,
    behind: row?.report.behind ?? 0,
  };
}

/**
 * A small account's dataset: the simulator's default proportions (per 1,000 people: 2,000 events, 500 calls,
 * 500 texts, 100 deals, 100 appointments) scaled to its people, with a handful of users, groups and stages.
 */
export function smallCounts(people: number): Record<string, number> {
  const per = (n: number) => Math.max(1, Math.round((n * people) / 1_000));
  return {
    people,
    events: per(2_000),
    calls: per(500),
    textMessages: per(500),
    deals: per(100),
    appointments: per(100),
    users: 5,
    groups: 3,
    stages: 12,
  };
}

/** Live people in core of the given accounts. */
async function coreCount(client: pg.Client, accountIds: string[]): Promise<number> {
  const r = await client.query(
    `/* bench */ select count(*)::int as bench_n from fub_people
     where account_id = any($1::text[]) and deleted_at is null`,
    [accountIds],
  );
  return (r.rows[0] as { bench_n: number }).bench_n;
}

/** Accounts among these without a single sync run (claimed or not, never started). */
async function neverStarted(client: pg.Client, accountIds: string[]): Promise<string[]> {
  const r = await client.query(
    `/* bench */ select c.account_id as bench_account from connections c
     where c.account_id = any($1::text[])
       and not exists (select 1 from sync_runs r where r.connection_id = c.id)`,
    [accountIds],
  );
  return (r.rows as { bench_account: string }[]).map((x) => x.bench_account);
}

/** Makes exactly these small accounts' connections due now and every other small one due in a day. */
async function makeDue(client: pg.Client, accountIds: string[]): Promise<void> {
  await client.query(
    `/* bench */ update connections set next_delta_at = case when account_id = any($2::text[]) then now()
       else now() + interval '1 day' end where account_id like $1`,
    [`acc_${SMALL}%`, accountIds],
  );
}

/** The i-th of n slices of the small accounts (one tick's share of the interval). */
function slice<T>(items: T[], n: number, i: number): T[] {
  const size = Math.ceil(items.length / n);
  return items.slice((i % n) * size, (i % n) * size + size);
}

async function bigBacklog(client: pg.Client): Promise<number> {
  const r = await client.query(
    `/* bench */ select count(*)::int as bench_n from stage_pending_pages p
     where p.account_id like 'acc_fb%' and exists (
       select 1 from stage_records s where s.connection_id = p.connection_id and s.entity = p.entity
         and s.run_id = p.run_id and s.page_no = p.page_no and s.done_at is null and s.op = 'upsert')`,
  );
  return (r.rows[0] as { bench_n: number }).bench_n;
}

/**
 * Changes one person in each of one tick's share of the small accounts, makes exactly those due, runs one tick,
 * and times each change to its core row; then webhook freshness on a few other accounts.
 */
async function measurePhase(
  b: BenchStack,
  client: pg.Client,
  small: Tenant[],
  webhookTenants: Tenant[],
  opts: FleetOptions,
  log: (line: string) => void,
): Promise<FleetPhase> {
  const bigBacklogPages = await bigBacklog(client);
  const changes: { accountId: string; id: number; at: string }[] = [];
  await eachLimited(small, 8, async (t) => {
    const m = (await b.sim.mutate(t.apiKey, { entity: "people", updates: 1 })) as {
      updated: number[];
      at: string;
    };
    const id = m.updated[0];
    if (id !== undefined) changes.push({ accountId: t.accountId, id, at: m.at });
  });
  await makeDue(
    client,
    small.map((t) => t.accountId),
  );
  const before = await statementsSnapshot(client);
  const t0 = performance.now();
  const tickResult = await tick(b, client);
  const seenAt = new Map<string, number>();
  const deadline = Date.now() + 120_000 + opts.accounts * 100;
  let polls = 0;
  while (seenAt.size < changes.length && Date.now() < deadline) {
    const pending = changes.filter((c) => !seenAt.has(c.accountId));
    const r = await client.query(
      `/* bench */ select c.account_id as bench_account from fub_people p
       join jsonb_to_recordset($1::jsonb) as c(account_id text, id bigint, at timestamptz)
         on p.account_id = c.account_id and p.source_id = c.id and p.source_updated_at >= c.at`,
      [JSON.stringify(pending.map((c) => ({ account_id: c.accountId, id: c.id, at: c.at })))],
    );
    polls++;
    const now = performance.now();
    for (const row of r.rows as { bench_account: string }[]) seenAt.set(row.bench_account, now - t0);
    if (seenAt.size < changes.length) await new Promise((r) => setTimeout(r, 100));
  }
  const stats = await statementsDelta(client, before, polls + 2);
  log(
    `  tick ${tickResult.wallMs} ms (reported ${tickResult.reportedMs} ms) for ${tickResult.connections} connections; ` +
      `${seenAt.size}/${changes.length} deltas landed`,
  );
  const perSample = Math.max(1, Math.ceil(opts.freshness / webhookTenants.length));
  const fresh: number[] = [];
  let freshTimeouts = 0;
  for (const t of webhookTenants) {
    const f = await freshnessTimes(b, t, perSample);
    fresh.push(...f.times);
    freshTimeouts += f.timeouts;
  }
  return {
    tick: tickResult,
    deltaLatency: latency([...seenAt.values()], changes.length - seenAt.size),
    roundTripsPerAccount: round(stats.statements / Math.max(1, small.length), 1),
    webhookFreshness: latency(fresh, freshTimeouts),
    bigBacklogPages,
  };
}

export async function runFleetBench(
  opts: FleetOptions,
  log: (line: string) => void = console.log,
): Promise<FleetReport> {
  const machine = machineInfo();
  log(
    `fleet bench on ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGb} GB, node ${machine.node}`,
  );
  const b = await startBenchStack({
    statements: true,
    log: opts.verbose ? (l) => log(`[worker] ${l}`) : undefined,
  });
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  const sampler = startMemorySampler(memoryGroups(b));
  try {
    log(`creating ${opts.accounts} small accounts of ${opts.smallPeople} people…`);
    const small: Tenant[] = new Array(opts.accounts);
    await eachLimited(
      Array.from({ length: opts.accounts }, (_, i) => i),
      16,
      async (i) => {
        small[i] = await createTenant(b, {
          name: `${SMALL}${i}`,
          people: opts.smallPeople,
          tenant: { counts: smallCounts(opts.smallPeople) },
        });
      },
    );
    let expected = 0;
    const expectedOf = new Map<string, number>();
    await eachLimited(small, 8, async (t) => {
      const { count } = await b.sim.summary(t.apiKey, "people");
      expected += count;
      expectedOf.set(t.accountId, count);
    });

    const n = opts.ticksPerInterval;
    log(
      `onboarding the small accounts through the scheduler, ${n} tick(s) of ${Math.ceil(small.length / n)}…`,
    );
    const o0 = performance.now();
    const allIds = small.map((t) => t.accountId);
    let slowest: FleetPhase["tick"] | undefined;
    let landed = 0;
    for (let i = 0; i < n; i++) {
      const ids = slice(allIds, n, i);
      if (ids.length === 0) continue;
      await makeDue(client, ids);
      const t = await tick(b, client);
      if (!slowest || t.wallMs > slowest.wallMs) slowest = t;
      // The interval's ticks come a minute apart whatever the last one started is doing.
      const want = ids.reduce((sum, id) => sum + (expectedOf.get(id) ?? 0), 0);
      const sliceDeadline = Date.now() + 60_000;
      while ((await coreCount(client, ids)) < want && Date.now() < sliceDeadline) {
        await new Promise((r) => setTimeout(r, 250));
      }
      landed = await coreCount(client, allIds);
      log(
        `  tick ${i + 1}/${n}: ${t.wallMs} ms, ${t.connections} connections started; ${landed}/${expected} people`,
      );
    }
    // Connections a tick claimed but never started (the invocation ended first) wait for their next slot; the
    // bench gives them theirs now, counted, instead of waiting a whole interval.
    let unstarted = 0;
    for (let round = 0; round < 3; round++) {
      const missing = await neverStarted(client, allIds);
      if (missing.length === 0) break;
      unstarted += missing.length;
      log(`  ${missing.length} claimed connection(s) never started; due again`);
      await makeDue(client, missing);
      await tick(b, client);
    }
    const onboardDeadline = Date.now() + 600_000;
    landed = await coreCount(client, allIds);
    while (landed < expected && Date.now() < onboardDeadline) {
      await new Promise((r) => setTimeout(r, 500));
      landed = await coreCount(client, allIds);
    }
    if (landed < expected) throw new Error(`small accounts onboarded ${landed} of ${expected} people`);
    const onboarding = {
      ticks: n,
      unstarted,
      tick: slowest as FleetPhase["tick"],
      seconds: round((performance.now() - o0) / 1000, 1),
      records: landed,
      expected,
    };
    log(`  ${landed} people in ${onboarding.seconds} s; slowest tick ${onboarding.tick.wallMs} ms`);

    const hooks = Math.min(small.length, 4);
    log("baseline (no backfill)…");
    const baseline = await measurePhase(b, client, slice(small, n, 0), small.slice(0, hooks), opts, log);

    log(`starting ${opts.big} backfills of ${opts.bigPeople} people…`);
    const big: Tenant[] = [];
    for (let i = 0; i < opts.big; i++)
      big.push(await createTenant(b, { name: `fb${i}`, people: opts.bigPeople }));
    // The big accounts run their people backfill only: their scheduled deltas would add every other entity's
    // onboarding (thousands of events, calls and texts each) to what the phase measures.
    await client.query(
      `/* bench */ update connections set next_delta_at = now() + interval '1 day' where account_id like 'acc_fb%'`,
    );
    let bigExpected = 0;
    for (const t of big) bigExpected += (await b.sim.summary(t.apiKey, "people")).count;
    const b0 = performance.now();
    for (const t of big) await b.admin.sync(t.accountId, { entity: "people", mode: "onboarding" });
    // Let the backfills fill their share of the queue before measuring.
    await new Promise((r) => setTimeout(r, 3_000));
    log("during the backfills…");
    const duringBackfill = await measurePhase(
      b,
      client,
      slice(small, n, 1),
      small.slice(hooks, hooks * 2),
      opts,
      log,
    );

    const bigDeadline = Date.now() + 600_000 + opts.big * opts.bigPeople * 5;
    const bigIds = big.map((t) => t.accountId);
    let bigLanded = 0;
    let polls = 0;
    let bigEnd = performance.now();
    // Counting the big accounts' rows scans them (about a second of Postgres at 200,000): done every 250 ms it
    // took a core from the backfills it timed. What the single backfill polls is polled instead, and the rows
    // are counted once everything landed (and every 300th poll, should a state mirror lag).
    for (;;) {
      const landed = await runsLanded(client, bigIds);
      bigEnd = performance.now();
      if (landed || ++polls % 300 === 0) {
        bigLanded = await coreCount(client, bigIds);
        if (bigLanded >= bigExpected) break;
      }
      if (Date.now() > bigDeadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Everything had landed when the poll before the count that found every row returned.
    const bigSeconds = (bigEnd - b0) / 1000;
    if (bigLanded < bigExpected) throw new Error(`backfills landed ${bigLanded} of ${bigExpected} people`);
    log(`  ${bigLanded} records in ${round(bigSeconds, 1)} s`);

    log("raw upsert of the same rows…");
    let rawRows = 0;
    let rawSeconds = 0;
    for (const t of big) {
      const raw = await rawUpsert({
        databaseUrl: b.cluster.url,
        accountId: t.accountId,
        connectionId: t.connectionId,
      });
      rawRows += raw.rows;
      rawSeconds += raw.seconds;
    }
    const recordsPerSec = round(bigLanded / bigSeconds);
    const rawPerSec = round(rawRows / rawSeconds);
    const report: FleetReport = {
      machine,
      options: opts,
      onboarding,
      baseline,
      duringBackfill,
      backfill: {
        accounts: opts.big,
        records: bigLanded,
        seconds: round(bigSeconds, 1),
        recordsPerSec,
        raw: { rows: rawRows, seconds: round(rawSeconds, 2), recordsPerSec: rawPerSec },
        ratio: round(recordsPerSec / rawPerSec, 3),
      },
      memory: sampler.stop(),
    };
    for (const line of renderFleet(report)) log(line);
    mkdirSync(path.dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${opts.out}`);
    return report;
  } finally {
    sampler.stop();
    await client.end();
    await b.stop();
  }
}

export function renderFleet(r: FleetReport): string[] {
  const phase = (name: string, p: FleetPhase) =>
    `| ${name} | ${p.tick.wallMs} ms (${p.tick.connections} connections, ${p.tick.claims} claims) | ` +
    `${p.deltaLatency.p50Ms} / ${p.deltaLatency.p99Ms} ms (${p.deltaLatency.samples}, ${p.deltaLatency.timeouts} late) | ` +
    `${p.webhookFreshness.p50Ms} / ${p.webhookFreshness.p99Ms} ms (${p.webhookFreshness.samples}) | ` +
    `${p.roundTripsPerAccount} | ${p.bigBacklogPages} |`;
  return [
    `| phase | tick | delta latency p50 / p99 | webhook freshness p50 / p99 | round trips / account / tick | big backlog pages |`,
    `|---|---|---|---|---|---|`,
    phase("baseline", r.baseline),
    phase(`${r.backfill.accounts} backfills`, r.duringBackfill),
    `backfill / raw upsert: ${r.backfill.recordsPerSec} vs ${r.backfill.raw.recordsPerSec} rec/s = ${r.backfill.ratio}`,
    `memory (peak PSS): ${r.memory.map((m) => `${m.name} ${m.peakPssSumMb} MB`).join(", ")}`,
  ];
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  runFleetBench(parseFleetOptions(process.argv.slice(2))).then(
    () => process.exit(0),
    (error) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
}

// Fault harness: an onboarding backfill with live mutations and webhooks while the Worker is SIGKILLed and
// restarted at random points, Postgres is down for --outage seconds once (an immediate shutdown, i.e. a crash,
// mid-backfill and during a webhook burst, then started again), and the simulator injects 5xx, timeouts, 429
// storms, truncated bodies, malformed records, duplicated and reordered webhooks. Nothing is done by hand
// about the outage: no replay, no restart of a run (a run the harness has to restart fails the chaos).
// Then faults off, the simulator's webhook retries settle, a final delta sync drains, and the core must equal
// the simulator's truth except malformed records, each of which must be in failed_records; a full scan
// after that must make the core equal the truth exactly.
//   tsx tools/chaos/main.ts [--smoke] [--people 20000] [--seconds 150] [--outage 300] [--seed 42]
//     [--out bench-results/chaos.json] [--live] [--verbose]
// Runs on a snapshot of HEAD (plus tools/bench and tools/chaos) unless --live: see ../bench/lib/snapshot.ts.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createTenant, type Tenant } from "../bench/lib/backfill";
import { type BenchStack, startBenchStack } from "../bench/lib/bench-stack";
import { runInSnapshot } from "../bench/lib/snapshot";
import { waitFor } from "../lib/admin-client";
import { compareWithTruth } from "../lib/truth-compare";
import { entityRun } from "./status";

export type ChaosOptions = {
  smoke: boolean;
  people: number;
  seconds: number;
  /** how long Postgres stays down (smoke 25 s, full 300 s) */
  outageSeconds: number;
  seed: number;
  mutationsPerSec: number;
  out: string | null;
  verbose: boolean;
};

export type ChaosReport = {
  options: ChaosOptions;
  workerKills: number;
  postgresRestarts: number;
  postgresOutage: {
    seconds: number;
    /** staged records of the backfill when Postgres went down (0 < this < people: mid-backfill) */
    stagedBefore: number;
    /** whether the onboarding run was still in progress when Postgres went down */
    midBackfill: boolean;
    /** records the simulator changed during the outage, each announced by a webhook */
    burstMutations: number;
  };
  /** runs the harness found in ERROR and restarted, as an operator would: any is a failure */
  operatorRestarts: number;
  faults: {
    http5xx: number;
    timeouts: number;
    rateLimited: number;
    stormRateLimited: number;
    truncated: number | null;
    malformedRecords: number;
    webhookDuplicates: number;
    webhookEvents: number;
    webhookFailedAttempts: number;
    webhookGaveUp: number;
  };
  records: { truth: number; core: number; mutations: Record<string, number>; failedRecords: number };
  afterDelta: {
    missing: number;
    extra: number;
    stale: number;
    missingNotMalformed: number[];
    /** missing and not malformed: nothing excuses these, a staged page never transformed included */
    unexplainedMissing: number[];
  };
  /** staged pages still pending at the end: each one is a failure (re-announce must have transformed it) */
  orphanedStaged: { pages: number; records: number };
  /**
   * Deletes a full scan held for an operator. The harness confirms a hold through the admin API only when the
   * scenario itself deleted at least that many records (the guard was right to ask, and the deletes are real);
   * any other hold is a false delete and fails the run.
   */
  heldDeletes: {
    confirmedRuns: number;
    confirmedDeletes: number;
    unjustified: { runId: string; deletes: number }[];
  };
  malformedUnaccounted: number[];
  /** webhook events still pending in the inbox at the end, by last error */
  inboxPending: Record<string, number>;
  afterFullScan: { ok: boolean; missing: number; extra: number; stale: number; truth: number; core: number };
  ok: boolean;
  seconds: number;
};

const FIELDS: [string, string][] = [
  ["firstName", "first_name"],
  ["lastName", "last_name"],
  ["stage", "stage"],
];
const PEOPLE_EVENTS = ["peopleCreated", "peopleUpdated", "peopleDeleted", "peopleStageUpdated"];

export function parseChaosOptions(argv: string[]): ChaosOptions {
  const get = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  };
  const smoke = argv.includes("--smoke");
  const num = (k: string, d: number) => (get(k) === undefined ? d : Number(get(k)));
  return {
    smoke,
    people: num("people", smoke ? 4_000 : 20_000),
    seconds: num("seconds", smoke ? 45 : 150),
    outageSeconds: num("outage", smoke ? 25 : 300),
    seed: num("seed", Date.now() % 100_000),
    mutationsPerSec: num("mutations", smoke ? 4 : 10),
    out: get("out") ?? (smoke ? null : path.join("bench-results", "chaos.json")),
    verbose: argv.includes("--verbose"),
  };
}

/** Small seeded PRNG so a failing run can be replayed with --seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export async function runChaos(
  opts: ChaosOptions,
  log: (line: string) => void = console.log,
): Promise<ChaosReport> {
  const started = performance.now();
  const random = rng(opts.seed);
  log(`chaos: ${opts.people} people, ${opts.seconds} s of faults, seed ${opts.seed}`);
  const b = await startBenchStack({
    statements: false,
    extraVars: {
      // A page whose transform message died with a killed runtime is announced again by the delta cron; the
      // harness waits for that instead of 15 minutes.
      STAGING_REANNOUNCE_AFTER_MINUTES: "0.5",
      // The smoke's short outage must still exhaust some pages' queue retries, so the dead-letter path is
      // exercised: 0.1 s as the schedule's base makes the five retries span 20 to 37 s. The full run keeps the
      // production schedule (at least 17 min), which outlasts its outage.
      ...(opts.smoke ? { TRANSFORM_RETRY_BASE_SECONDS: "0.1" } : {}),
    },
    log: opts.verbose ? (l) => log(`[worker] ${l}`) : undefined,
  });
  let kills = 0;
  let pgRestarts = 0;
  const restarts = { count: 0 };
  const interrupted = () => {
    void b.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const t = await createTenant(b, {
      name: "chaos",
      people: opts.people,
      // FUB retries at 1, 5, 5, 10, 30 min (51 in all); compressed (smoke 2, 10, 10, 20, 60 s) so the run
      // stays short while a delivery still outlives a Worker restart and, like FUB's, twice the outage.
      tenant: { webhookRetryScale: webhookRetryScale(opts) },
    });
    // Registered before the faults start: the registration call itself would be subject to them.
    await registerWebhooks(b, t);
    await b.sim.setFaults(t.apiKey, {
      seed: opts.seed,
      // The smoke makes ~100 requests: faults are denser so each kind still happens.
      errorRate: opts.smoke ? 0.1 : 0.05,
      timeoutRate: opts.smoke ? 0.03 : 0.01,
      timeoutMs: 3_000,
      truncateRate: 0.01,
      malformedRate: opts.smoke ? 0.005 : 0.003,
      storm: { everyN: opts.smoke ? 10 : 150, durationSec: 3 },
      webhookDuplicateRate: 0.2,
      webhookReorder: true,
    });

    await b.admin.sync(t.accountId, { entity: "people", mode: "onboarding" });
    await b.sim.mutate(t.apiKey, {}).catch(() => {}); // notes the origin webhook URIs are built from
    await simCall(b, "POST", `/tenants/${t.apiKey}/stream`, {
      ratePerSec: opts.mutationsPerSec,
      entity: "people",
      mix: { creates: 0.25, updates: 0.6, deletes: 0.08, trash: 0.07 },
    });

    // The Postgres outage, once the backfill is under way: down mid-backfill and during a webhook burst.
    const outage = await postgresOutage(b, t, opts, log);
    pgRestarts++;

    // Chaos: SIGKILL the Worker at random points.
    const end = Date.now() + opts.seconds * 1000;
    while (Date.now() < end) {
      const wait = (opts.smoke ? 5_000 : 8_000) + random() * (opts.smoke ? 7_000 : 15_000);
      await sleep(Math.min(wait, Math.max(0, end - Date.now())));
      if (Date.now() >= end) break;
      // A random extra delay inside the kill window lands it mid-request, mid-step or mid-batch.
      await sleep(random() * 1_000);
      log(`  worker: SIGKILL #${kills + 1}`);
      await b.stack.worker.restart("SIGKILL");
      kills++;
    }

    log("faults off, mutation stream stopped; waiting for webhook retries to settle");
    await simCall(b, "DELETE", `/tenants/${t.apiKey}/stream`);
    const faultSummary = (await b.sim.tenant(t.apiKey)) as SimSummary;
    await b.sim.setFaults(t.apiKey, {});
    await waitFor(
      "simulator webhook deliveries to be acknowledged or given up",
      async () => {
        const s = (await b.sim.tenant(t.apiKey)) as SimSummary;
        const w = s.webhooks;
        return w.acknowledged + w.gaveUp >= w.events + w.duplicates;
      },
      { timeoutMs: Math.max(400_000, 3_060_000 * webhookRetryScale(opts) + 120_000), intervalMs: 1_000 },
    );

    // The onboarding run must have finished (it may still be retrying after the faults); then a delta.
    await settle(b, t, "onboarding", 600_000, restarts);
    await b.admin.sync(t.accountId, { entity: "people", mode: "delta" });
    await settle(b, t, "delta", 300_000, restarts);

    const malformed = (faultSummary.malformedIds?.people ?? []).map(Number);
    const afterDelta = await compareWithTruth({
      databaseUrl: b.cluster.url,
      sim: b.sim,
      apiKey: t.apiKey,
      accountId: t.accountId,
      entity: "people",
      table: "fub_people",
      fields: FIELDS,
    });
    const failed = await failedSourceIds(b.cluster.url, t.accountId);
    const failedIds = failed.ids;
    const malformedSet = new Set(malformed);
    const orphans = await orphanedStaged(b.cluster.url, t.accountId);
    const missingNotMalformed = afterDelta.missing.filter((id) => !malformedSet.has(id));
    const unexplainedMissing = missingNotMalformed;
    const malformedUnaccounted = malformed.filter(
      (id) => !failedIds.has(String(id)) && !failedIds.has(`fub-${id.toString(36)}`),
    );

    log("full scan with faults off (applies deletes a lost webhook could not)");
    await b.admin.sync(t.accountId, { entity: "people", mode: "onboarding" });
    await settle(b, t, "onboarding", 600_000, restarts);
    const applied = (
      (await simCall(b, "GET", `/tenants/${t.apiKey}/stream`)) as { applied?: Record<string, number> }
    ).applied;
    const held = await decideHeldDeletes(b, t, applied?.deletes ?? 0);
    const full = await compareWithTruth({
      databaseUrl: b.cluster.url,
      sim: b.sim,
      apiKey: t.apiKey,
      accountId: t.accountId,
      entity: "people",
      table: "fub_people",
      fields: FIELDS,
    });
    const final = (await b.sim.tenant(t.apiKey)) as SimSummary;
    const by = faultSummary.requests.byStatus;
    const stream = (await simCall(b, "GET", `/tenants/${t.apiKey}/stream`)) as {
      applied?: Record<string, number>;
    };
    const report: ChaosReport = {
      options: opts,
      workerKills: kills,
      postgresRestarts: pgRestarts,
      postgresOutage: outage,
      operatorRestarts: restarts.count,
      faults: {
        http5xx: (by["500"] ?? 0) + (by["502"] ?? 0) + (by["503"] ?? 0),
        timeouts: by["504"] ?? 0,
        rateLimited: faultSummary.requests.rateLimited,
        stormRateLimited: faultSummary.requests.stormRateLimited,
        truncated: null,
        malformedRecords: malformed.length,
        webhookDuplicates: final.webhooks.duplicates,
        webhookEvents: final.webhooks.events,
        webhookFailedAttempts: final.webhooks.failedAttempts,
        webhookGaveUp: final.webhooks.gaveUp,
      },
      records: {
        truth: full.truth,
        core: full.core,
        mutations: stream.applied ?? {},
        failedRecords: failed.rows,
      },
      afterDelta: {
        missing: afterDelta.missing.length,
        extra: afterDelta.extra.length,
        stale: afterDelta.stale.length,
        missingNotMalformed: missingNotMalformed.slice(0, 20),
        unexplainedMissing: unexplainedMissing.slice(0, 20),
      },
      orphanedStaged: { pages: orphans.pages, records: orphans.records },
      heldDeletes: held,
      malformedUnaccounted,
      inboxPending: await inboxPending(b.cluster.url, t.accountId),
      afterFullScan: {
        ok: full.ok,
        missing: full.missing.length,
        extra: full.extra.length,
        stale: full.stale.length,
        truth: full.truth,
        core: full.core,
      },
      ok:
        full.ok &&
        malformedUnaccounted.length === 0 &&
        unexplainedMissing.length === 0 &&
        orphans.pages === 0 &&
        held.unjustified.length === 0 &&
        restarts.count === 0 &&
        afterDelta.extra.length === 0 &&
        afterDelta.stale.length === 0,
      seconds: Math.round((performance.now() - started) / 1000),
    };
    printReport(report, log);
    if (opts.out) {
      mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
      writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
    }
    return report;
  } catch (error) {
    log(`chaos failed after ${kills} kills, ${pgRestarts} Postgres restarts; last Worker output:`);
    for (const line of b.workerLog.slice(-40)) log(`  ${line}`);
    throw error;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await b.stop();
  }
}

type SimSummary = {
  requests: {
    served: number;
    rateLimited: number;
    stormRateLimited: number;
    byStatus: Record<string, number>;
  };
  webhooks: {
    registered: number;
    events: number;
    attempts: number;
    acknowledged: number;
    failedAttempts: number;
    gaveUp: number;
    duplicates: number;
  };
  malformedIds?: Record<string, number[]>;
};

async function simCall(b: BenchStack, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${b.stack.simulatorUrl}/_sim${route}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator ${method} ${route} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Points the tenant's people webhooks at the Worker, unless the platform registered them already. */
async function registerWebhooks(b: BenchStack, t: Tenant): Promise<void> {
  const url = `${b.stack.workerUrl}/webhooks/fub/${t.connectionId}`;
  const existing = (await simCall(b, "GET", `/tenants/${t.apiKey}/webhooks`)) as {
    registrations: { event: string; url: string }[];
  };
  for (const event of PEOPLE_EVENTS) {
    if (existing.registrations.some((r) => r.event === event && r.url === url)) continue;
    const res = await fetch(`${b.stack.simulatorUrl}/v1/webhooks`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`${t.apiKey}:`)}`,
        "X-System": "edge-etl-chaos",
        "X-System-Key": t.systemKey,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ event, url }),
    });
    if (!res.ok) throw new Error(`registering ${event} → ${res.status} ${await res.text()}`);
  }
}

/**
 * Waits for the entity's run of `mode` to complete and staging to drain. The webhook inbox is reported, not
 * waited for: events parked by an open breaker stay pending until something re-dispatches them.
 */
async function settle(
  b: BenchStack,
  t: Tenant,
  mode: string,
  timeoutMs: number,
  restarts: { count: number },
): Promise<void> {
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  try {
    let lastCron = 0;
    await waitFor(
      `${mode} run to complete and staging/inbox to drain`,
      async () => {
        // The delta cron also runs the platform's periodic safety nets (inbox sweep, due syncs).
        if (Date.now() - lastCron > 10_000) {
          lastCron = Date.now();
          await fetch(`${b.stack.workerUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`)
            .then((r) => r.body?.cancel())
            .catch(() => {});
        }
        const run = await entityRun(b.admin, t.accountId, "people");
        if (run?.status === "ERROR") {
          // A run that gave up during the faults is restarted, as an operator would; counted, and any fails
          // the chaos (no fault here may need an operator).
          restarts.count++;
          await b.admin.sync(t.accountId, { entity: "people", mode: mode as "delta" | "onboarding" });
          return false;
        }
        // Injected malformed records fail on purpose, so a finished run reads COMPLETED_WITH_ERRORS; that they
        // are all in failed_records is asserted separately (malformedUnaccounted).
        if (run?.status !== "COMPLETED" && run?.status !== "COMPLETED_WITH_ERRORS") return false;
        // The run's own pages must be transformed; a page whose queue message died with a killed runtime
        // is announced again by the delta cron fired above.
        const r = await client.query(
          "select count(*)::int as staged from stage_records where account_id = $1 and run_id = $2 and done_at is null",
          [t.accountId, run.runId ?? ""],
        );
        const row = r.rows[0] as { staged: number };
        return row.staged === 0 ? row : false;
      },
      { timeoutMs, intervalMs: 1_000 },
    );
  } finally {
    await client.end();
  }
}

/**
 * A full scan whose deletes exceed the safety share waits for an operator. The harness acts as that operator
 * only for holds the scenario explains: no more held deletes than the scenario made. Read through the admin API,
 * as an operator would.
 */
async function decideHeldDeletes(
  b: BenchStack,
  t: Tenant,
  scenarioDeletes: number,
): Promise<ChaosReport["heldDeletes"]> {
  const out: ChaosReport["heldDeletes"] = { confirmedRuns: 0, confirmedDeletes: 0, unjustified: [] };
  const listed = (await b.admin.ok("GET", `/admin/accounts/${t.accountId}/deletes`)) as {
    items?: { runId: string; deletes: number; status: string }[];
  };
  const perRun = new Map<string, number>();
  for (const d of listed.items ?? []) {
    if (d.status === "pending") perRun.set(d.runId, (perRun.get(d.runId) ?? 0) + d.deletes);
  }
  for (const [runId, deletes] of perRun) {
    if (deletes > scenarioDeletes) {
      out.unjustified.push({ runId, deletes });
      continue;
    }
    await b.admin.ok("POST", `/admin/accounts/${t.accountId}/deletes/${encodeURIComponent(runId)}/confirm`);
    out.confirmedRuns++;
    out.confirmedDeletes += deletes;
  }
  return out;
}

async function orphanedStaged(url: string, accountId: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      `select source_id, run_id, page_no from stage_records
       where account_id = $1 and done_at is null and staged_at < now() - interval '30 seconds'`,
      [accountId],
    );
    const rows = r.rows as { source_id: string | null; run_id: string; page_no: number }[];
    return {
      ids: new Set(rows.map((x) => x.source_id ?? "")),
      pages: new Set(rows.map((x) => `${x.run_id}/${x.page_no}`)).size,
      records: rows.length,
    };
  } finally {
    await client.end();
  }
}

async function inboxPending(url: string, accountId: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      `select coalesce(last_error, 'never attempted') as reason, count(*)::int as n from webhook_inbox
       where account_id = $1 and status = 'pending' group by 1`,
      [accountId],
    );
    return Object.fromEntries((r.rows as { reason: string; n: number }[]).map((x) => [x.reason, x.n]));
  } finally {
    await client.end();
  }
}

async function failedSourceIds(url: string, accountId: string): Promise<{ ids: Set<string>; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      "select source_id, payload->>'id' as payload_id from failed_records where account_id = $1 and entity = 'people'",
      [accountId],
    );
    // A record whose id itself is malformed is keyed by its staging row; its payload still names it.
    const ids = new Set<string>();
    for (const row of r.rows as { source_id: string; payload_id: string | null }[]) {
      ids.add(row.source_id);
      if (row.payload_id) ids.add(row.payload_id);
    }
    return { ids, rows: r.rowCount ?? 0 };
  } finally {
    await client.end();
  }
}

function printReport(r: ChaosReport, log: (line: string) => void): void {
  log("");
  log(`chaos ${r.ok ? "PASSED" : "FAILED"} in ${r.seconds} s (seed ${r.options.seed})`);
  log(`  worker SIGKILLs: ${r.workerKills}, Postgres crash-restarts: ${r.postgresRestarts}`);
  const o = r.postgresOutage;
  log(
    `  Postgres outage: ${o.seconds} s, ${o.midBackfill ? "mid-backfill" : "NOT mid-backfill"} ` +
      `(${o.stagedBefore} records staged before), ${o.burstMutations} records changed during it; ` +
      `runs restarted by hand: ${r.operatorRestarts}`,
  );
  const f = r.faults;
  log(
    `  faults: ${f.http5xx} 5xx, ${f.timeouts} timeouts, ${f.rateLimited} 429s (${f.stormRateLimited} in storms), ` +
      `${f.malformedRecords} malformed records, ${f.webhookDuplicates} duplicated webhooks of ${f.webhookEvents}, ` +
      `${f.webhookFailedAttempts} failed webhook deliveries, ${f.webhookGaveUp} given up`,
  );
  log(
    `  records: truth ${r.records.truth}, core ${r.records.core}, failed_records ${r.records.failedRecords}, ` +
      `mutations ${JSON.stringify(r.records.mutations)}`,
  );
  const d = r.afterDelta;
  log(
    `  after final delta: missing ${d.missing} (not malformed: ${d.missingNotMalformed.length}, unexplained: ${d.unexplainedMissing.length}), extra ${d.extra}, stale ${d.stale}; ` +
      `malformed not in failed_records: ${r.malformedUnaccounted.length}`,
  );
  const h = r.heldDeletes;
  log(
    `  held deletes: ${h.confirmedRuns} runs (${h.confirmedDeletes} deletes) confirmed through the admin API, ` +
      `${h.unjustified.length} holds the scenario does not explain`,
  );
  if (r.orphanedStaged.pages > 0) {
    log(
      `  WARNING: ${r.orphanedStaged.pages} staged pages (${r.orphanedStaged.records} records) never transformed: ` +
        "still pending after the cron re-announced lost transform messages",
    );
  }
  const pending = Object.values(r.inboxPending).reduce((a, n) => a + n, 0);
  if (pending > 0) {
    log(
      `  WARNING: ${pending} webhook events never processed (inbox still pending): ${JSON.stringify(r.inboxPending)}`,
    );
  }
  const s = r.afterFullScan;
  log(
    `  after full scan: ${s.ok ? "core = truth" : `missing ${s.missing}, extra ${s.extra}, stale ${s.stale}`}`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The simulator's webhook retry compression: FUB's 51 minutes of retries scaled to at least twice the outage. */
function webhookRetryScale(opts: ChaosOptions): number {
  return Math.max(opts.smoke ? 1 / 30 : 1 / 12, (2 * opts.outageSeconds) / 3_060);
}

/**
 * Waits until the backfill has staged part of the people, then stops Postgres (an immediate shutdown: what a
 * crash or a failover looks like to clients) for opts.outageSeconds, changing records in the simulator at its
 * start and middle so their webhooks arrive while Postgres is down, and starts it again.
 */
async function postgresOutage(
  b: BenchStack,
  t: Tenant,
  opts: ChaosOptions,
  log: (line: string) => void,
): Promise<ChaosReport["postgresOutage"]> {
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  let stagedBefore = 0;
  try {
    const target = Math.max(1, Math.floor(opts.people * 0.1));
    await waitFor(
      "the backfill to stage a tenth of the people",
      async () => {
        const r = await client.query(
          "select count(*)::int as n from stage_records where account_id = $1 and entity = 'people'",
          [t.accountId],
        );
        stagedBefore = (r.rows[0] as { n: number }).n;
        return stagedBefore >= target;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
  } finally {
    await client.end().catch(() => {});
  }
  const run = await entityRun(b.admin, t.accountId, "people");
  const midBackfill = run?.status === "IN_PROGRESS";
  log(
    `  postgres: immediate shutdown (crash), ${stagedBefore} records staged; down for ${opts.outageSeconds} s`,
  );
  await b.cluster.crash();
  let burstMutations = 0;
  const burst = async () => {
    // Creates and updates only: the harness's delete accounting counts the mutation stream's deletes.
    const n = opts.smoke ? 20 : 100;
    await b.sim.mutate(t.apiKey, { entity: "people", creates: n / 4, updates: n }).then(
      () => {
        burstMutations += n + n / 4;
      },
      (e) => log(`  webhook burst failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  };
  await burst();
  await sleep((opts.outageSeconds * 1000) / 2);
  await burst();
  await sleep((opts.outageSeconds * 1000) / 2);
  await b.cluster.start();
  log("  postgres: started again");
  return { seconds: opts.outageSeconds, stagedBefore, midBackfill, burstMutations };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  const run = argv.includes("--live")
    ? runChaos(parseChaosOptions(argv)).then((r) => (r.ok ? 0 : 1))
    : runInSnapshot("tools/chaos/main.ts", argv);
  run.then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
}

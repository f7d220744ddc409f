import { z } from "zod";

export const BENCH_SCHEMA_VERSION = 3;

const load = z.object({
  requests: z.number(),
  errors: z.number(),
  statuses: z.record(z.string(), z.number()),
  durationSec: z.number(),
  rps: z.number(),
  p50Ms: z.number(),
  p99Ms: z.number(),
});

const peak = z.object({ concurrency: z.number(), rps: z.number() });

const rawSchema = z.object({
  rows: z.number(),
  seconds: z.number(),
  recordsPerSec: z.number(),
  batchSize: z.number(),
  tables: z.array(z.string()),
});

const coreWrites = z.object({
  tuples: z.number(),
  inserted: z.number(),
  updated: z.number(),
  byTable: z.record(z.string(), z.number()),
});

const memoryPeak = z.object({
  name: z.string(),
  processes: z.number(),
  peakRssMb: z.number(),
  peakPssSumMb: z.number(),
  samples: z.number(),
});

/** The JSON `npm run bench` writes; the smoke test holds every run to it. */
export const benchReportSchema = z.object({
  schemaVersion: z.literal(BENCH_SCHEMA_VERSION),
  machine: z.object({
    cpuModel: z.string(),
    cores: z.number().int().positive(),
    ramGb: z.number().positive(),
    node: z.string(),
    platform: z.string(),
    date: z.string(),
  }),
  /** the commit measured, or null for the live working tree */
  commit: z.string().nullable(),
  options: z.record(z.string(), z.unknown()),
  backfill: z.object({
    people: z.number(),
    records: z.number(),
    seconds: z.number(),
    recordsPerSec: z.number(),
    failedRecords: z.number(),
    pollIntervalMs: z.number(),
    /** core tuples the backfill wrote, counted as the rescan's are */
    coreWrites,
    raw: rawSchema,
    ratio: z.number(),
    rawPeopleOnly: rawSchema,
    ratioPeopleOnly: z.number(),
    target: z.number(),
  }),
  /** A second complete scan of the backfilled people, nothing changed at the provider. */
  rescan: z.object({
    records: z.number(),
    seconds: z.number(),
    recordsPerSec: z.number(),
    coreWrites,
    markWrites: z.number(),
    walBytesPerRecord: z.number(),
    statementsPer1000: z.number(),
    /** core tuples the unchanged scan may write */
    target: z.number(),
  }),
  rateBudget: z.object({
    people: z.number(),
    limit: z.number(),
    windowSec: z.number(),
    seconds: z.number(),
    requests: z.number(),
    served: z.number(),
    rateLimited: z.number(),
    durationSec: z.number(),
    windows: z.number(),
    steadyShare: z.number(),
    wholeRunShare: z.number(),
    target: z.number(),
  }),
  webhooks: z.object({
    levels: z.array(
      z.object({
        concurrency: z.number(),
        idleBeforeMs: z.number(),
        idleReached: z.boolean(),
        bareGet: load,
        barePost: load,
        webhook: load,
        presignedEvents: z.number(),
        backlog: z.object({
          events: z.number(),
          processed: z.number(),
          seconds: z.number(),
          eventsPerSec: z.number(),
          drained: z.boolean(),
        }),
      }),
    ),
    peak: z.object({ bareGet: peak, barePost: peak, webhook: peak }).nullable(),
    ackRatio: z.number().nullable(),
    ackRatioGet: z.number().nullable(),
    freshness: z
      .object({ samples: z.number(), timeouts: z.number(), p50Ms: z.number(), p99Ms: z.number() })
      .nullable(),
    unavailableReason: z.string().nullable(),
    ackTarget: z.number(),
  }),
  cost: z.object({
    statementsPer1000: z.number(),
    transactionControlPer1000: z.number(),
    transactionsPer1000: z.number(),
    sessionsPer1000: z.number(),
    roundTripsPer1000: z.number(),
    walBytesPerRecord: z.number(),
    fubRequestsPer1000: z.number(),
    subrequestsPerInvocation: z.object({
      invocations: z.number(),
      mean: z.number(),
      max: z.object({ fetch: z.number(), queue: z.number(), database: z.number(), total: z.number() }),
      limit: z.number(),
    }),
    topStatements: z.array(z.object({ calls: z.number(), totalMs: z.number(), query: z.string() })),
  }),
  memory: z.object({
    runs: z.array(z.object({ people: z.number(), recordsPerSec: z.number(), memory: z.array(memoryPeak) })),
    growth: z.array(z.object({ name: z.string(), fromMb: z.number(), toMb: z.number(), ratio: z.number() })),
    flat: z.boolean().nullable(),
  }),
  transform: z.record(z.string(), z.unknown()),
});

export type BenchReport = z.infer<typeof benchReportSchema>;

const n = (x: number) => x.toLocaleString("en-US");

export function renderTable(r: BenchReport): string {
  const rows: [string, string, string][] = [["figure", "measured", "target"]];
  const b = r.backfill;
  rows.push([
    `backfill ${n(b.people)} people, end to end`,
    `${n(b.recordsPerSec)} rec/s (${b.seconds} s)`,
    "",
  ]);
  rows.push([
    `raw upsert, same rows (${b.raw.tables.join(" + ")}), Node pg 1000-row batches`,
    `${n(b.raw.recordsPerSec)} rec/s`,
    "",
  ]);
  rows.push(["backfill / raw upsert", String(b.ratio), `>= ${b.target}`]);
  rows.push([
    `raw upsert, ${b.rawPeopleOnly.tables.join(" + ")} only`,
    `${n(b.rawPeopleOnly.recordsPerSec)} rec/s`,
    "",
  ]);
  rows.push([`backfill / raw ${b.rawPeopleOnly.tables.join(" + ")} only`, String(b.ratioPeopleOnly), ""]);
  const u = r.rescan;
  rows.push([
    `unchanged rescan of ${n(u.records)} people: core tuples written`,
    `${n(u.coreWrites.tuples)} (${n(u.recordsPerSec)} rec/s, ${u.seconds} s)`,
    `${u.target}`,
  ]);
  rows.push(["backfill: core tuples written", n(b.coreWrites.tuples), ""]);
  rows.push(["unchanged rescan: fetch marks written (core_fetch_marks)", n(u.markWrites), ""]);
  rows.push(["unchanged rescan: WAL bytes / record (staging included)", n(u.walBytesPerRecord), ""]);
  const rb = r.rateBudget;
  rows.push([
    `rate budget use (${rb.limit}/${rb.windowSec} s, ${n(rb.served)} req)`,
    `${rb.steadyShare} steady, ${rb.wholeRunShare} whole run (${rb.windows} windows)`,
    `>= ${rb.target}`,
  ]);
  rows.push(["429s during budget run", String(rb.rateLimited), ""]);
  const w = r.webhooks;
  const lat = (l: { rps: number; p50Ms: number; p99Ms: number }) =>
    `${n(l.rps)} req/s (p50 ${l.p50Ms}, p99 ${l.p99Ms} ms)`;
  for (const l of w.levels) {
    const others = Object.entries(l.webhook.statuses).filter(([s]) => s !== "202");
    rows.push([`c=${l.concurrency}: bare GET / bare POST`, `${lat(l.bareGet)} / ${lat(l.barePost)}`, ""]);
    rows.push([
      `c=${l.concurrency}: signed FUB webhook ack`,
      `${lat(l.webhook)}${others.length ? `; NOT 202: ${others.map(([s, k]) => `${k}x ${s}`).join(", ")}` : ""}`,
      "",
    ]);
    rows.push([
      `c=${l.concurrency}: backlog after the ack run`,
      `${n(l.backlog.processed)} of ${n(l.backlog.events)} processed ${l.backlog.drained ? "" : "(NOT drained) "}${l.backlog.seconds} s from the run's start; quiet-stack waits ${n(l.idleBeforeMs)} ms${l.idleReached ? "" : " (NOT reached)"}`,
      "",
    ]);
  }
  if (w.peak) {
    const p = w.peak;
    rows.push([
      "webhook / bare POST, each at its best level",
      `${w.ackRatio} (${n(p.webhook.rps)} at c=${p.webhook.concurrency} / ${n(p.barePost.rps)} at c=${p.barePost.concurrency})`,
      `>= ${w.ackTarget}`,
    ]);
    rows.push([
      "webhook / bare GET, each at its best level",
      `${w.ackRatioGet} (bare GET ${n(p.bareGet.rps)} at c=${p.bareGet.concurrency})`,
      "",
    ]);
  } else {
    rows.push([
      "signed FUB webhook ack",
      `not available: ${w.unavailableReason}`,
      `>= ${w.ackTarget} of bare`,
    ]);
  }
  rows.push([
    "freshness webhook → core row",
    w.freshness
      ? `p50 ${w.freshness.p50Ms} ms, p99 ${w.freshness.p99Ms} ms (${w.freshness.samples})`
      : "not available",
    "",
  ]);
  const c = r.cost;
  rows.push(["Postgres statements / 1000 records", String(c.statementsPer1000), ""]);
  rows.push(["Postgres round trips / 1000 records (stmts + 3x sessions)", String(c.roundTripsPer1000), ""]);
  rows.push(["Postgres transactions / 1000 records", String(c.transactionsPer1000), ""]);
  rows.push(["WAL bytes / record", n(c.walBytesPerRecord), ""]);
  rows.push(["FUB requests / 1000 records", String(c.fubRequestsPer1000), ""]);
  const sub = c.subrequestsPerInvocation;
  rows.push([
    `subrequests per object invocation (${n(sub.invocations)} invocations)`,
    `mean ${sub.mean}, max ${sub.max.total} (${sub.max.fetch} fetch, ${sub.max.queue} queue, ${sub.max.database} Postgres)`,
    `< ${n(sub.limit)}`,
  ]);
  for (const run of r.memory.runs) {
    const peaks = run.memory.map((m) => `${m.name.split(" ")[0]} ${m.peakPssSumMb}`).join(", ");
    rows.push([`peak PSS MB at ${n(run.people)} people`, peaks, ""]);
  }
  rows.push(["memory flat in N (non-Postgres <= 1.25x)", String(r.memory.flat), "true"]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows
    .map((row, i) => {
      const line = row.map((cell, j) => cell.padEnd(widths[j] as number)).join(" | ");
      return i === 0 ? `${line}\n${widths.map((w2) => "-".repeat(w2)).join("-|-")}` : line;
    })
    .join("\n");
}

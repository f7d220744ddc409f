import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { benchReportSchema } from "../../tools/bench/lib/report";
import { parseOptions, runBench } from "../../tools/bench/main";

// `npm run bench` at a small size: the whole stack runs, every figure is measured and the JSON keeps its shape.
const dir = mkdtempSync(path.join(os.tmpdir(), "edge-etl-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench smoke", () => {
  it("measures every figure and writes a report that matches the schema", async () => {
    const out = path.join(dir, "bench.json");
    const lines: string[] = [];
    // Printed as it goes, so a run that times out shows how far it got.
    await runBench(parseOptions(["--smoke", "--out", out]), (l) => {
      lines.push(l);
      console.log(l);
    });
    const report = benchReportSchema.parse(JSON.parse(readFileSync(out, "utf8")));

    expect(report.machine.cores).toBeGreaterThan(0);
    const b = report.backfill;
    // The seed trashes a few people; FUB hides them from lists and the truth counts only live ones.
    expect(b.records).toBeGreaterThan(report.backfill.people * 0.9);
    expect(b.records).toBe(b.people);
    expect(b.recordsPerSec).toBeGreaterThan(0);
    expect(b.raw.rows).toBeGreaterThanOrEqual(b.records);
    expect(b.raw.recordsPerSec).toBeGreaterThan(0);
    expect(b.ratio).toBeGreaterThan(0);
    // The baseline writes the core rows the pipeline writes, not just the provider table.
    expect(b.raw.tables.sort()).toEqual(["contacts", "fub_people"]);
    expect(b.rawPeopleOnly.tables).toEqual(["fub_people"]);
    expect(b.rawPeopleOnly.rows).toBe(b.raw.rows);

    // A second complete scan of the same, unchanged people fetches every record again and writes no core
    // tuple (pg_stat_user_tables counters of every core table, own and unified).
    const u = report.rescan;
    expect(u.records).toBeGreaterThanOrEqual(b.records);
    expect(u.seconds).toBeGreaterThan(0);
    expect(u.coreWrites).toEqual({ tuples: 0, inserted: 0, updated: 0, byTable: {} });
    // The same counters saw the backfill write each person's own row and contact: they do move.
    expect(b.coreWrites.inserted).toBeGreaterThanOrEqual(2 * b.records);
    expect(Object.keys(b.coreWrites.byTable).sort()).toEqual(["contacts", "fub_people"]);
    expect(u.target).toBe(0);
    // What each unchanged fetch saw is kept as one fetch mark per core row (own and unified): small rows.
    expect(u.markWrites).toBeGreaterThanOrEqual(2 * b.records);
    expect(u.markWrites).toBeLessThanOrEqual(2 * u.records);
    // Staging still writes each fetched record once.
    expect(u.walBytesPerRecord).toBeGreaterThan(0);
    expect(lines.join("\n")).toContain("unchanged rescan");

    // The object counted what each alarm invocation sent out during the backfill.
    const sub = report.cost.subrequestsPerInvocation;
    expect(sub.invocations).toBeGreaterThan(0);
    expect(sub.max.fetch).toBeGreaterThan(0);
    expect(sub.max.total).toBe(sub.max.fetch + sub.max.queue + sub.max.database);
    expect(sub.max.total).toBeLessThan(sub.limit);

    const rb = report.rateBudget;
    expect(rb.served).toBeGreaterThan(rb.limit);
    expect(rb.steadyShare).toBeGreaterThan(0);
    // Whole windows of a sliding-window limit: no client can use more than all of it.
    expect(rb.steadyShare).toBeLessThanOrEqual(1);
    expect(rb.wholeRunShare).toBeLessThanOrEqual(1);
    expect(rb.windows).toBeGreaterThanOrEqual(2);

    const w = report.webhooks;
    expect(w.unavailableReason).toBeNull();
    expect(w.levels.map((l) => l.concurrency)).toEqual([8]);
    for (const l of w.levels) {
      expect(l.bareGet.statuses["404"]).toBe(l.bareGet.requests);
      expect(l.barePost.statuses["404"]).toBe(l.barePost.requests);
      expect(l.barePost.rps).toBeGreaterThan(0);
      expect(l.webhook.rps).toBeGreaterThan(0);
      // Every pre-signed event is new, so every delivery is a first (202), none a duplicate.
      expect(l.webhook.statuses["202"]).toBe(l.webhook.requests);
      expect(l.presignedEvents).toBeGreaterThanOrEqual(l.barePost.requests);
      // Whether the machine went quiet before each run is reported, not required: the smoke caps the wait at
      // 10 s, and a machine busy with other work never gets there; the full bench waits up to 120 s.
      expect(typeof l.idleReached).toBe("boolean");
      expect(l.idleBeforeMs).toBeLessThan(3 * 12_000);
      expect(l.backlog.drained).toBe(true);
      expect(l.backlog.processed).toBe(l.webhook.statuses["202"]);
    }
    const level = w.levels[0];
    expect(w.peak?.webhook.rps).toBe(level?.webhook.rps);
    expect(w.ackRatio).toBe(
      Math.round(((level?.webhook.rps ?? 0) / (level?.barePost.rps ?? 1)) * 1000) / 1000,
    );
    expect(w.ackRatioGet).toBeGreaterThan(0);
    expect(w.freshness?.samples).toBeGreaterThan(0);
    expect(w.freshness?.p50Ms).toBeGreaterThan(0);

    expect(report.cost.statementsPer1000).toBeGreaterThan(0);
    expect(report.cost.roundTripsPer1000).toBeGreaterThanOrEqual(report.cost.statementsPer1000);
    expect(report.cost.fubRequestsPer1000).toBeGreaterThan(9); // 100 people per page, at least

    expect(report.memory.runs.map((r) => r.people)).toEqual([1000, 2000]);
    for (const run of report.memory.runs) {
      for (const peak of run.memory) expect(peak.peakPssSumMb, peak.name).toBeGreaterThan(0);
    }
    expect(lines.join("\n")).toContain("backfill / raw upsert");
  }, 300_000);
});

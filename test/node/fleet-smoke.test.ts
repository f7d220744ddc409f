import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type FleetReport, parseFleetOptions, runFleetBench } from "../../tools/bench/fleet";

// `npm run bench:fleet` at a small size: many small accounts and a big backfill through the whole stack.
const dir = mkdtempSync(path.join(os.tmpdir(), "edge-etl-fleet-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fleet bench smoke", () => {
  it("schedules every small account in one tick, and their deltas and webhooks land during a backfill", async () => {
    const out = path.join(dir, "fleet.json");
    const lines: string[] = [];
    await runFleetBench(parseFleetOptions(["--smoke", "--out", out]), (l) => lines.push(l));
    const r = JSON.parse(readFileSync(out, "utf8")) as FleetReport;
    const accounts = r.options.accounts;

    // Every small account onboarded through the scheduler's one tick.
    expect(r.onboarding.expected).toBeGreaterThan(0);
    expect(r.onboarding.records).toBe(r.onboarding.expected);
    expect(r.onboarding.tick.connections).toBe(accounts);
    for (const phase of [r.baseline, r.duringBackfill]) {
      // Every due connection claimed by the one tick (the big account's own delta too, once it exists), none
      // left behind.
      expect(phase.tick.connections).toBeGreaterThanOrEqual(accounts);
      expect(phase.tick.connections).toBeLessThanOrEqual(accounts + r.options.big);
      expect(phase.tick.behind).toBe(0);
      expect(phase.tick.reportedMs).toBeGreaterThan(0);
      // Every account's change landed, none timed out.
      expect(phase.deltaLatency.samples).toBe(accounts);
      expect(phase.deltaLatency.timeouts).toBe(0);
      expect(phase.webhookFreshness.samples).toBeGreaterThan(0);
      expect(phase.webhookFreshness.timeouts).toBe(0);
      expect(phase.roundTripsPerAccount).toBeGreaterThan(0);
    }
    // The backfill was in full swing, yet it held no more than its share of the queue...
    expect(r.duringBackfill.bigBacklogPages).toBeLessThanOrEqual(40 * r.options.big);
    // ...so the small accounts' deltas and webhooks were not held back by it: within a minute of the same run's
    // baseline (this machine's speed moves a lot between runs; a herd would add the whole backfill's time).
    expect(r.duringBackfill.deltaLatency.p99Ms).toBeLessThan(r.baseline.deltaLatency.p99Ms + 60_000);
    expect(r.duringBackfill.webhookFreshness.p99Ms).toBeLessThan(r.baseline.webhookFreshness.p99Ms + 60_000);

    expect(r.backfill.records).toBeGreaterThan(r.options.bigPeople * 0.9);
    expect(r.backfill.raw.rows).toBeGreaterThanOrEqual(r.backfill.records);
    expect(r.backfill.ratio).toBeGreaterThan(0);
    expect(r.memory.length).toBeGreaterThan(0);
    for (const m of r.memory) expect(m.peakPssSumMb, m.name).toBeGreaterThan(0);
    expect(lines.join("\n")).toContain("backfill / raw upsert");
  }, 420_000);
});

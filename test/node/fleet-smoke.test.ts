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

    expect(r.onboarding.records).toBeGreaterThan(accounts * r.options.smallPeople * 0.8);
    expect(r.onboarding.tick.connections).toBe(accounts);
    for (const phase of [r.baseline, r.duringBackfill]) {
      // Every due connection claimed by the one tick, none left behind, in pages.
      expect(phase.tick.connections).toBe(accounts);
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
    // ...so the small accounts' deltas landed within one tick's interval (a minute), far below it in fact.
    expect(r.duringBackfill.deltaLatency.maxMs).toBeLessThan(60_000);
    expect(r.duringBackfill.webhookFreshness.maxMs).toBeLessThan(60_000);

    expect(r.backfill.records).toBeGreaterThan(r.options.bigPeople * 0.9);
    expect(r.backfill.raw.rows).toBeGreaterThanOrEqual(r.backfill.records);
    expect(r.backfill.ratio).toBeGreaterThan(0);
    expect(r.memory.length).toBeGreaterThan(0);
    for (const m of r.memory) expect(m.peakPssSumMb, m.name).toBeGreaterThan(0);
    expect(lines.join("\n")).toContain("backfill / raw upsert");
  }, 180_000);
});

import { describe, expect, it } from "vitest";
import { parseChaosOptions, runChaos } from "../../tools/chaos/main";

// `npm run chaos` at a small size: SIGKILLs, a 25 s Postgres outage (mid-backfill, during a webhook burst) and
// provider faults, then the core must match the simulator's truth and every malformed record must be in
// failed_records, with no run restarted by hand and nothing replayed.
describe("chaos smoke", () => {
  it("survives kills, a Postgres outage and provider faults with the core equal to the truth", async () => {
    const lines: string[] = [];
    const report = await runChaos(parseChaosOptions(["--smoke"]), (l) => {
      lines.push(l);
      console.log(l);
    });
    const summary = lines.join("\n");
    expect(report.workerKills, summary).toBeGreaterThanOrEqual(2);
    expect(report.postgresRestarts, summary).toBe(1);
    expect(report.postgresOutage, summary).toMatchObject({ seconds: 25, midBackfill: true });
    expect(report.postgresOutage.burstMutations, summary).toBeGreaterThan(0);
    expect(report.operatorRestarts, summary).toBe(0);
    expect(report.faults.http5xx + report.faults.timeouts, summary).toBeGreaterThan(0);
    expect(report.faults.rateLimited, summary).toBeGreaterThan(0);
    expect(report.faults.webhookEvents, summary).toBeGreaterThan(0);
    expect(report.malformedUnaccounted, summary).toEqual([]);
    expect(report.afterDelta, summary).toMatchObject({ extra: 0, stale: 0, unexplainedMissing: [] });
    // Nothing excused: every staged page transformed, and no delete held that the scenario doesn't explain.
    expect(report.orphanedStaged, summary).toEqual({ pages: 0, records: 0 });
    expect(report.heldDeletes.unjustified, summary).toEqual([]);
    expect(report.afterFullScan, summary).toMatchObject({ ok: true, missing: 0, extra: 0, stale: 0 });
    expect(report.ok, summary).toBe(true);
  }, 420_000);
});

import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rows } from "../support/db";
import {
  admin,
  entityState,
  fubAccount,
  sim,
  simPut,
  simSummary,
  stubFor,
  waitFor,
} from "./account-sync-fixtures";

async function truthIds(apiKey: string): Promise<number[]> {
  const text = await (await fetch(`${sim()}/_sim/tenants/${apiKey}/truth/people`)).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: number }).id)
    .sort((a, b) => a - b);
}

describe("end to end", () => {
  it("backfills 10,000 people through 20% injected 5xx: core equals the simulator's truth, the breaker opened and closed", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({
      tenant: { counts: { people: 10_000 }, rateLimit: false },
      settings: {
        breaker: { minCalls: 10, openMs: 300, halfOpenProbes: 2 },
        retry: { baseMs: 20, capMs: 300, maxAttempts: 40 },
      },
    });
    await simPut(apiKey, "faults", { errorRate: 0.2, seed: 7 });
    const t0 = Date.now();
    const res = await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "people",
      mode: "onboarding",
    });
    expect(res.status).toBe(202);
    const done = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      if (s?.status === "ERROR") throw new Error(`run failed: ${s.errorMessage}`);
      return s?.status === "COMPLETED" ? s : undefined;
    }, 150_000);
    const syncMs = Date.now() - t0;
    expect(done.progress).toMatchObject({ pages: 100, records: 10_000, total: 10_000 });

    const breaker = (await stubFor(accountId).status([connectionId])).connections[0]?.breaker;
    expect(breaker?.transitions.opened).toBeGreaterThan(0);
    expect(breaker?.transitions.closed).toBeGreaterThan(0);
    const sim5xx = Object.entries((await simSummary(apiKey)).requests.byStatus)
      .filter(([code]) => code.startsWith("5"))
      .reduce((n, [, v]) => n + v, 0);
    expect(sim5xx).toBeGreaterThan(10);

    const truth = await truthIds(apiKey);
    await waitFor(async () => {
      const [c] = await rows<{ n: number }>(
        sql`select count(*)::int as n from fub_people where connection_id = ${connectionId} and deleted_at is null`,
      );
      return c?.n === truth.length;
    }, 60_000);
    const core = await rows<{ id: number }>(
      sql`select source_id::int as id from fub_people where connection_id = ${connectionId} and deleted_at is null order by 1`,
    );
    expect(core.map((r) => r.id)).toEqual(truth);
    console.log(
      `e2e: 10,000 people, ${sim5xx} injected 5xx, breaker opened ${breaker?.transitions.opened}x / closed ${breaker?.transitions.closed}x, run ${syncMs} ms, core == truth after ${Date.now() - t0} ms`,
    );
  }, 240_000);
});

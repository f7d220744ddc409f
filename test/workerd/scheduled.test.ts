import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { DELTA_CRON, RECONCILE_CRON, runCron } from "../../src/sync/cron";
import { rows } from "../support/db";
import { entityState, fubAccount, simSummary, waitFor } from "./account-sync-fixtures";

// The cron jobs span every account in the (shared) test database; scoped runs keep this file from starting
// syncs on other files' connections.
async function cron(expression: string, accountIds: string[]) {
  const ctx = createExecutionContext();
  const result = await runCron(expression, env, ctx, { accountIds });
  await waitOnExecutionContext(ctx);
  return result;
}

describe("scheduled()", () => {
  it("dispatches on controller.cron and ignores expressions it has no job for", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "5 4 * * *", scheduledTime: Date.now() }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    // One structured JSON line, at warning level, naming the expression.
    const lines = warn.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "warning", message: "scheduled: no job for cron", cron: "5 4 * * *" }),
    );
    warn.mockRestore();
  });

  it("the 15-minute cron starts a delta run of every entity of each due connection, once per interval", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 30, users: 3 } } });
    const first = await cron(DELTA_CRON, [accountId]);
    expect(first).toMatchObject({ job: "delta", connections: 1, failed: 0, reannouncedPages: 0 });
    const done = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.status === "COMPLETED" ? s : undefined;
    });
    expect(done).toMatchObject({ mode: "delta", runRecords: 30 });
    // Claimed by stamping last_delta_at: a second tick inside the interval finds nothing due.
    expect(await cron(DELTA_CRON, [accountId])).toMatchObject({
      job: "delta",
      connections: 0,
      failed: 0,
      reannouncedPages: 0,
    });
  });

  it("the daily cron records provider vs our counts, and a mismatch queues a catch-up run that closes it", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 120 } } });
    // The provider's own count leaves out its trash; the seed puts a few people there.
    const truth = (await simSummary(apiKey)).counts.people ?? -1;
    expect(truth).toBeGreaterThan(100);
    const result = await cron(RECONCILE_CRON, [accountId]);
    // people drifted; text messages can't be counted cheaply (listed per person), so they are scanned too.
    expect(result).toMatchObject({ job: "reconcile", connections: 1, failed: 0, mismatches: 1, repairs: 2 });
    const [counts] = await rows(
      sql`select people_fub::int as fub, people_ad::int as ad, reconciled_at is not null as reconciled
          from fub_sync_jobs where connection_id = ${connectionId}`,
    );
    expect(counts).toEqual({ fub: truth, ad: 0, reconciled: true });

    const caughtUp = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.status === "COMPLETED" ? s : undefined;
    });
    // The backfill reads the trash too, and keeps trashed people as deleted rows.
    expect(caughtUp).toMatchObject({ mode: "onboarding", runRecords: 120 });
    await waitFor(async () => {
      const [c] = await rows<{ n: number }>(
        sql`select count(*)::int as n from fub_people where connection_id = ${connectionId} and deleted_at is null`,
      );
      return c?.n === truth;
    });

    const again = await cron(RECONCILE_CRON, [accountId]);
    expect(again).toMatchObject({ job: "reconcile", connections: 1, mismatches: 0 });
    const [after] = await rows(
      sql`select people_fub::int as fub, people_ad::int as ad from fub_sync_jobs where connection_id = ${connectionId}`,
    );
    expect(after).toEqual({ fub: truth, ad: truth });
    expect((await entityState(accountId, connectionId, "people"))?.runId).toBe(caughtUp.runId);
  });
});

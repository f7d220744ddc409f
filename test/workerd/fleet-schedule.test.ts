import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DELTA_CRON, runCron } from "../../src/sync/cron";
import {
  claimDueConnections,
  claimDueReconciliations,
  fanOutDeltaSyncs,
  releaseClaims,
} from "../../src/sync/fan-out";
import { lastTicks } from "../../src/sync/ticks";
import { rows, uniqueId, withTestDb } from "../support/db";
import { entityState, fubAccount, waitFor } from "./account-sync-fixtures";

const MINUTE = 60_000;

/** An account with `n` active connections (never synced: the claim functions are what is under test). */
async function fleet(n: number): Promise<{ accountId: string; ids: string[] }> {
  const accountId = uniqueId("fleet");
  const ids = Array.from({ length: n }, (_, i) => `${accountId}_c${i}`);
  await rows(sql`insert into accounts (id, name) values (${accountId}, 'Fleet')`);
  await rows(sql`
    insert into connections (id, account_id, provider, credentials_enc)
    select c, ${accountId}, 'fub', 'unused' from jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) as c`);
  return { accountId, ids };
}

describe("fleet scheduling", () => {
  it("claims more connections than one tick may take, each within its interval, spread over it, once per interval", async () => {
    const { accountId, ids } = await fleet(150);
    // Each tick may claim 25 (a sixth of the fleet); the interval is 15 ticks of one minute.
    const perTick = 25;
    const t0 = Date.parse("2026-12-01T10:00:00.000Z");
    const claimsOf = new Map<string, number[]>(ids.map((id) => [id, []]));
    const perMinute: number[] = [];
    await withTestDb(async (db) => {
      for (let minute = 0; minute < 60; minute++) {
        const now = new Date(t0 + minute * MINUTE);
        const due = await claimDueConnections(db, { limit: perTick, now, accountIds: [accountId] });
        perMinute.push(due.length);
        for (const d of due) claimsOf.get(d.connectionId)?.push(minute);
      }
    });
    // All due at once at first (never synced), yet more than a tick may take: every one is claimed within the
    // first interval all the same.
    expect(perMinute[0]).toBe(perTick);
    for (const [id, minutes] of claimsOf) expect(minutes[0], id).toBeLessThan(15);
    // From the second interval on, each connection is claimed exactly once per interval at its own phase...
    for (const [id, minutes] of claimsOf) {
      const steady = minutes.filter((m) => m >= 30);
      expect(steady.length, id).toBe(2);
      expect((steady[1] ?? 0) - (steady[0] ?? 0), id).toBe(15);
      // ...and never twice within half an interval.
      for (let i = 1; i < minutes.length; i++)
        expect((minutes[i] ?? 0) - (minutes[i - 1] ?? 0)).toBeGreaterThanOrEqual(8);
    }
    // ...and the phases spread the fleet over the interval: no herd, every minute has a share.
    const steadyTicks = perMinute.slice(30, 45);
    expect(steadyTicks.reduce((a, b) => a + b, 0)).toBe(150);
    expect(Math.max(...steadyTicks)).toBeLessThanOrEqual(25);
    expect(Math.min(...steadyTicks)).toBeGreaterThan(0);
  });

  it("a connection whose run could not be started is due again at the next tick, not a whole interval later", async () => {
    const { accountId, ids } = await fleet(4);
    const t0 = new Date(Date.parse("2026-12-02T10:00:00.000Z"));
    await withTestDb(async (db) => {
      const due = await claimDueConnections(db, { now: t0, accountIds: [accountId] });
      expect(due).toHaveLength(4);
      // Two account objects refuse the start (an overloaded runtime, a deploy).
      const refused = new Set([ids[1], ids[3]]);
      const r = await fanOutDeltaSyncs(due, async (req) => {
        if (refused.has(req.connectionId)) throw new Error("start refused");
      });
      expect(r).toMatchObject({ connections: 4, failed: 2 });
      expect(await releaseClaims(db, r.failedConnections, t0)).toBe(2);
      // Not in this tick (a start that just failed would fail again), but in the next one.
      expect(await claimDueConnections(db, { now: t0, accountIds: [accountId] })).toHaveLength(0);
      const next = await claimDueConnections(db, {
        now: new Date(t0.getTime() + MINUTE),
        accountIds: [accountId],
      });
      expect(next.map((d) => d.connectionId).sort()).toEqual([ids[1], ids[3]].sort());
    });
  });

  it("reconciles each connection once a day at its own slot, spread over the day", async () => {
    const { accountId, ids } = await fleet(120);
    const t0 = Date.parse("2026-12-01T00:30:00.000Z");
    const seen = new Map<string, number[]>(ids.map((id) => [id, []]));
    const perHour: number[] = [];
    await withTestDb(async (db) => {
      // A connection without a slot gets its next one: none is due at once.
      expect(await claimDueReconciliations(db, { now: new Date(t0), accountIds: [accountId] })).toEqual([]);
      for (let hour = 1; hour <= 48; hour++) {
        const due = await claimDueReconciliations(db, {
          now: new Date(t0 + hour * 60 * MINUTE),
          accountIds: [accountId],
        });
        perHour.push(due.length);
        for (const d of due) seen.get(d.connectionId)?.push(hour);
      }
    });
    for (const [id, hours] of seen) {
      expect(hours.length, id).toBe(2);
      expect((hours[1] ?? 0) - (hours[0] ?? 0), id).toBe(24);
    }
    // 120 over 24 hours is 5 an hour; a herd would put them in a few.
    expect(Math.max(...perHour)).toBeLessThan(20);
    expect(perHour.filter((n) => n > 0).length).toBeGreaterThanOrEqual(30);
  });

  it("a tick that runs out of time leaves the rest due, the next ticks take it, and every due connection syncs", async () => {
    const accounts = await Promise.all(
      Array.from({ length: 5 }, () => fubAccount({ tenant: { counts: { people: 12, users: 2 } } })),
    );
    const accountIds = accounts.map((a) => a.accountId);
    const tick = async () => {
      const ctx = createExecutionContext();
      // Claims of two connections, and a tick whose time is up after its first claim.
      const result = await runCron(
        DELTA_CRON,
        { ...env, SCHEDULER_CLAIM_PAGE: "2", SCHEDULER_TICK_MS: "1" },
        ctx,
        { accountIds },
      );
      await waitOnExecutionContext(ctx);
      if (result.job !== "delta") throw new Error(`unexpected job ${result.job}`);
      return result;
    };
    const first = await tick();
    expect(first).toMatchObject({ connections: 2, claims: 1, behind: 3, failed: 0 });
    expect(first.durationMs).toBeGreaterThan(0);
    expect(await tick()).toMatchObject({ connections: 2, behind: 1 });
    expect(await tick()).toMatchObject({ connections: 1, behind: 0 });
    expect(await tick()).toMatchObject({ connections: 0, behind: 0 });
    for (const { accountId, connectionId } of accounts) {
      const done = await waitFor(async () => {
        const s = await entityState(accountId, connectionId, "people");
        return s?.status === "COMPLETED" ? s : undefined;
      });
      expect(done).toMatchObject({ mode: "delta", runRecords: 12 });
    }
    // The tick's report is kept for the status.
    const ticks = await withTestDb(lastTicks);
    expect(ticks.delta?.report).toMatchObject({ connections: 0, behind: 0 });
    expect(ticks.delta?.durationMs).toBeGreaterThanOrEqual(0);
    const health = (await (await exports.default.fetch("http://etl.test/health")).json()) as {
      scheduler: Record<string, { durationMs: number; report: Record<string, number> }> | null;
    };
    expect(health.scheduler?.delta?.report).toHaveProperty("behind");
  });
});

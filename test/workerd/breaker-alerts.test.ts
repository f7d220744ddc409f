// The breaker-open alert end to end: the account's object reports its breakers' open/closed changes into
// Postgres (connection_breakers), observe() reads them, and the existing evaluation and delivery path sends one
// signed alert per cooldown. Real workerd, real Postgres.
import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  BREAKER_REPORT_ATTEMPTS,
  markBreakerPushFailed,
  markBreakerReportsPushed,
  pendingBreakerReports,
  pushBreakerReports,
} from "../../durable-objects/breaker-report";
import { breakerStore } from "../../durable-objects/breaker-store";
import { inTenant } from "../../src/accounts/tenant";
import { ALERT_DEFAULTS } from "../../src/alerts/config";
import { evaluateAlerts } from "../../src/alerts/evaluate";
import { observe } from "../../src/alerts/observe";
import type { Db } from "../../src/db/client";
import { openDb, systemDb } from "../../src/db/client";
import { rows } from "../support/db";
import { admin, fubAccount, stubFor } from "./account-sync-fixtures";

const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const MIN = 60_000;

async function withSystemDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDb(systemDb(env));
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

const breakerRow = async (connectionId: string) =>
  (
    await rows<{ state: string; open_since: string | null; account_id: string; provider: string }>(
      sql`select state, open_since, account_id, provider from connection_breakers where connection_id = ${connectionId}`,
    )
  )[0];

describe("breaker-open alert", () => {
  it("fires once past 10 minutes open, not during the cooldown, and clears when the breaker closes", async () => {
    const { accountId, connectionId } = await fubAccount();
    const before = Date.now();
    const forced = await admin("POST", `/accounts/${accountId}/breaker`, { connectionId, state: "open" });
    expect(forced.status).toBe(200);

    // Reported by the object before the route answered.
    const row = await breakerRow(connectionId);
    expect(row).toMatchObject({ state: "open", account_id: accountId, provider: "fub" });
    const openSince = Date.parse(String(row?.open_since));
    expect(openSince).toBeGreaterThanOrEqual(before - 1_000);
    expect(openSince).toBeLessThanOrEqual(Date.now() + 1_000);
    // The status still reads the object's own breaker.
    const status = await stubFor(accountId).status([connectionId]);
    expect(status.connections.find((c) => c.connectionId === connectionId)?.breaker).toMatchObject({
      state: "open",
      mode: "forced_open",
    });

    const received: { alert: { rule: string; connectionId: string }; text: string }[] = [];
    const signatures: (string | null)[] = [];
    const receiver = (async (_u: RequestInfo | URL, init?: RequestInit) => {
      received.push(JSON.parse(String(init?.body)));
      signatures.push(new Headers(init?.headers).get("webhook-signature"));
      return new Response(null, { status: 200 });
    }) as typeof fetch;
    const breakerFirings = () => received.filter((r) => r.alert.rule === "breaker_open");

    await withSystemDb(async (db) => {
      const run = (at: number) =>
        evaluateAlerts({
          db,
          config: ALERT_DEFAULTS,
          observe: () => observe(db, ALERT_DEFAULTS, [accountId]),
          target: { url: "http://receiver.test/", secret: SECRET },
          fetch: receiver,
          now: () => at,
          sleep: async () => {},
          accountIds: [accountId],
        });
      const obs = await observe(db, ALERT_DEFAULTS, [accountId]);
      expect(obs.openBreakers).toEqual([{ accountId, connectionId, provider: "fub", openSince }]);

      // Under the threshold: nothing.
      expect(await run(openSince + 9 * MIN)).toEqual({ firing: 0, notified: 0, failed: 0 });
      // Past 10 minutes: exactly one alert, through the signed delivery.
      expect(await run(openSince + 11 * MIN)).toEqual({ firing: 1, notified: 1, failed: 0 });
      expect(breakerFirings()).toHaveLength(1);
      expect(breakerFirings()[0]?.alert.connectionId).toBe(connectionId);
      expect(breakerFirings()[0]?.text).toContain("breaker open for 11 min");
      expect(signatures[0]).toMatch(/^v1,/);
      // Still open, within the cooldown: firing, not sent again.
      expect(await run(openSince + 12 * MIN)).toEqual({ firing: 1, notified: 0, failed: 0 });
      expect(await run(openSince + 20 * MIN)).toEqual({ firing: 1, notified: 0, failed: 0 });
      expect(breakerFirings()).toHaveLength(1);

      // Back to automatic: closed in Postgres, gone from the observations, the condition resolved.
      expect(
        (await admin("POST", `/accounts/${accountId}/connections/${connectionId}/breaker`, { mode: "auto" }))
          .status,
      ).toBe(200);
      expect(await breakerRow(connectionId)).toMatchObject({ state: "closed", open_since: null });
      expect((await observe(db, ALERT_DEFAULTS, [accountId])).openBreakers).toEqual([]);
      expect(await run(openSince + 30 * MIN)).toEqual({ firing: 0, notified: 0, failed: 0 });
      expect(breakerFirings()).toHaveLength(1);
    });
    const listed = await admin("GET", "/alerts");
    const body = (await listed.json()) as { firing: { subject: string }[]; resolved?: { subject: string }[] };
    expect(body.firing.map((a) => a.subject)).not.toContain(`${accountId}/${connectionId}`);
  });

  it("keeps one outage's start through half-open probes, survives a Postgres outage, and never goes back in time", async () => {
    const { accountId, connectionId } = await fubAccount();
    const cfg = {
      windowMs: 10_000,
      minCalls: 3,
      failureRateThreshold: 0.5,
      openMs: 30_000,
      halfOpenProbes: 1,
    };
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      const s = ctx.storage.sql;
      const t0 = Date.now();
      const trace: Record<string, unknown> = {};
      for (let i = 0; i < 3; i++) breakerStore.failure(s, connectionId, cfg, t0 + i);
      trace.opened = pendingBreakerReports(s).map((r) => ({ open: r.open, since: r.since }));
      // A half-open probe that fails re-opens it: the same outage, the same start.
      expect(breakerStore.allow(s, connectionId, cfg, t0 + 31_000).allowed).toBe(true);
      breakerStore.failure(s, connectionId, cfg, t0 + 31_100);
      trace.reopened = pendingBreakerReports(s).map((r) => ({ open: r.open, since: r.since }));

      // Postgres unreachable: the report stays pending with its attempt counted and a retry time.
      const down = {
        execute: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432")),
      } as unknown as Db;
      const pending = pendingBreakerReports(s);
      let failure: unknown = null;
      try {
        await pushBreakerReports(down, accountId, pending);
      } catch (error) {
        failure = error;
        trace.failed = markBreakerPushFailed(s, pending, "unreachable", t0);
      }
      expect(failure).not.toBeNull();
      trace.stillPending = pendingBreakerReports(s).map((r) => r.attempts);
      // The provider path goes on meanwhile: the breaker's own verdicts don't wait for Postgres.
      trace.allowedWhileDown = breakerStore.allow(s, connectionId, cfg, t0 + 31_200).allowed;
      const last = markBreakerPushFailed(
        s,
        pendingBreakerReports(s).map((r) => ({ ...r, attempts: BREAKER_REPORT_ATTEMPTS - 1 })),
        "unreachable",
        t0,
      );
      trace.exhausted = last;

      // Postgres back: the report lands and is marked pushed.
      const handle = openDb(env);
      try {
        const open = pendingBreakerReports(s);
        await inTenant(handle.db, accountId, (db) => pushBreakerReports(db, accountId, open));
        markBreakerReportsPushed(s, open);
        trace.afterPush = pendingBreakerReports(s).length;
        // A stale report (an older generation) pushed late changes nothing.
        const stale = open.map((r) => ({ ...r, open: 0, since: null, gen: r.gen - 1 }));
        await inTenant(handle.db, accountId, (db) => pushBreakerReports(db, accountId, stale));
      } finally {
        await handle.close();
      }
      trace.t0 = t0;
      return trace;
    });
    const t0 = out.t0 as number;
    expect(out.opened).toEqual([{ open: 1, since: t0 + 2 }]);
    expect(out.reopened).toEqual([{ open: 1, since: t0 + 2 }]);
    expect(out.failed).toEqual({ retryAt: t0 + 10_000, exhausted: [] });
    expect(out.stillPending).toEqual([1]);
    expect(out.allowedWhileDown).toBe(false);
    expect(out.exhausted).toEqual({ retryAt: null, exhausted: [connectionId] });
    expect(out.afterPush).toBe(0);
    const row = await breakerRow(connectionId);
    expect(row?.state).toBe("open");
    expect(Date.parse(String(row?.open_since))).toBe(t0 + 2);
  });
});

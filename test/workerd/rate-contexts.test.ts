import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { budgetView } from "../../durable-objects/budget-gate";
import { budgetStore } from "../../durable-objects/budget-store";
import { callProvider } from "../../durable-objects/provider-call";
import { fub } from "../../src/connectors/fub";
import type { BreakerConfig } from "../../src/core/breaker";
import { fubAccount, simPut, simSummary, stepDeps, stubFor } from "./account-sync-fixtures";

const breaker: BreakerConfig = {
  windowMs: 60_000,
  minCalls: 10,
  failureRateThreshold: 0.5,
  openMs: 60_000,
  halfOpenProbes: 2,
};

describe("rate budget per provider rate context (FUB: global and events)", () => {
  it("events requests spend the events window only: exhausted, they park while people requests go on", async () => {
    // No system key on this connection: FUB allows 125 global and 10 events per 10 s.
    const { accountId, connectionId, apiKey } = await fubAccount({
      tenant: { counts: { people: 20, events: 50 } },
    });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      const { deps, close } = await stepDeps(ctx, accountId, connectionId);
      const call = (path: string) =>
        callProvider(
          { sql: ctx.storage.sql, fetch: deps.fetch, now: Date.now },
          { connection: deps.connection, priority: "backfill", breaker, timeoutMs: 5_000 },
          `${deps.connection.baseUrl}${path}`,
        );
      const events: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await call("/v1/events?limit=1");
        if (r.kind === "ok") await r.response.body?.cancel();
        events.push(r.kind === "parked" ? r.reason : r.kind);
      }
      const parked = await call("/v1/events?limit=1");
      const people = await call("/v1/people?limit=1");
      if (people.kind === "ok") await people.response.body?.cancel();
      await close();
      return {
        events,
        parked,
        people: people.kind,
        // The budget the connection's requests went through: its API key's, shared.
        view: await budgetView(ctx.storage.sql, connectionId, Date.now()),
      };
    });
    // A lone backfill keeps one slot for each idle reserve: 8 of the events context's 10.
    expect(out.events).toEqual([...Array(8).fill("ok"), "no_budget", "no_budget"]);
    expect(out.parked).toMatchObject({ kind: "parked", reason: "no_budget" });
    if (out.parked.kind === "parked") expect(out.parked.retryAt).toBeGreaterThan(Date.now() + 5_000);
    expect(out.people).toBe("ok");
    expect(out.view.contexts.map((c) => [c.context, c.limit, c.usedInWindow])).toEqual([
      ["global", 125, 1],
      ["events", 10, 8],
    ]);
    // The top-level figures stay the default context's.
    expect(out.view).toMatchObject({ context: "global", limit: 125, usedInWindow: 1 });
    expect(out.view).toMatchObject({ scope: "credential", shared: true });
    const summary = await simSummary(apiKey);
    expect(summary.requests).toMatchObject({ served: 9, rateLimited: 0 });
    // The account status shows each context.
    const status = await stubFor(accountId).status([connectionId]);
    expect(status.connections[0]?.rateBudget.contexts.map((c) => [c.context, c.remaining])).toEqual([
      ["global", 124],
      ["events", 2],
    ]);
  });

  it("a 429 blocks the context the response names, not the others", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { events: 5 } } });
    await simPut(apiKey, "faults", { storm: { everyN: 1, durationSec: 30 } });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      const { deps, close } = await stepDeps(ctx, accountId, connectionId);
      const r = await callProvider(
        { sql: ctx.storage.sql, fetch: deps.fetch, now: Date.now },
        { connection: deps.connection, priority: "delta", breaker, timeoutMs: 5_000 },
        `${deps.connection.baseUrl}/v1/events?limit=1`,
      );
      await close();
      return { r, view: await budgetView(ctx.storage.sql, connectionId, Date.now()) };
    });
    expect(out.r).toMatchObject({ kind: "parked", reason: "rate_limited" });
    const blocked = Object.fromEntries(out.view.contexts.map((c) => [c.context, c.blockedUntil]));
    expect(blocked.events).toBeGreaterThan(Date.now() + 20_000);
    expect(blocked.global).toBeNull();
    // The global context still grants.
    const granted = await stubFor(accountId).acquireBudget(connectionId, "delta", fub.rateLimit({ apiKey }));
    expect(granted.granted).toBe(true);
  });

  it("a budget stored before contexts existed becomes the default context's and keeps its grants", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount();
    const out = await runInDurableObject(stubFor(accountId), (_i, ctx) => {
      const s = ctx.storage.sql;
      const now = Date.now();
      const legacyState = {
        grants: Array.from({ length: 120 }, () => now),
        blockedUntil: null,
        observedLimit: null,
        observedWindowMs: null,
      };
      const legacyConfig = {
        limit: 125,
        windowMs: 10_000,
        reserve: { webhook: 0.05, delta: 0.05 },
        headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
      };
      s.exec(
        "insert into budgets (connection_id, state_json, config_json) values (?, ?, ?)",
        connectionId,
        JSON.stringify(legacyState),
        JSON.stringify(legacyConfig),
      );
      const before = budgetStore.snapshot(s, connectionId, now);
      const policy = fub.rateLimit({ apiKey });
      const global = budgetStore.acquire(s, connectionId, "webhook", now, policy, "global");
      const events = budgetStore.acquire(s, connectionId, "backfill", now, policy, "events");
      return { before, global, events, after: budgetStore.snapshot(s, connectionId, now) };
    });
    expect(out.before).toMatchObject({ context: "default", usedInWindow: 120 });
    expect(out.global.granted).toBe(true);
    expect(out.events.granted).toBe(true);
    expect(out.after.contexts.map((c) => [c.context, c.usedInWindow])).toEqual([
      ["global", 121],
      ["events", 1],
    ]);
  });
});

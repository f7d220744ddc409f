import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { budgetView } from "../../durable-objects/budget-gate";
import { callProvider } from "../../durable-objects/provider-call";
import { fub } from "../../src/connectors/fub";
import { rateBudgetFingerprint, shortFingerprint } from "../../src/core/rate-scope";
import { uniqueId } from "../support/db";
import { admin, entityState, sim, simTenant, stepDeps, stubFor, waitFor } from "./account-sync-fixtures";

type ContextStats = { served: number; rateLimited: number; maxInWindow: number; maxAttemptsInWindow: number };
type Summary = {
  requests: { served: number; rateLimited: number; byContext: Record<string, ContextStats> };
};

async function summary(apiKey: string): Promise<Summary> {
  return (await fetch(`${sim()}/_sim/tenants/${apiKey}`)).json<Summary>();
}

/** A registered integration's key (system key present): FUB allows 250 global requests per 10 s on it. */
async function fubKey(people = 0): Promise<{ apiKey: string; systemKey: string }> {
  const systemKey = uniqueId("sk");
  const apiKey = await simTenant({ systemKey, counts: { people } });
  return { apiKey, systemKey };
}

/** A new account with one FUB connection holding this key (without the system key: FUB's lower limits). */
async function accountOn(key: { apiKey: string; systemKey: string }, registered = true) {
  const accountId = uniqueId("acc");
  const connectionId = uniqueId("con");
  expect((await admin("POST", "/accounts", { id: accountId, name: "Shared Key Realty" })).status).toBe(201);
  const res = await admin("POST", `/accounts/${accountId}/connections`, {
    id: connectionId,
    provider: "fub",
    credentials: registered
      ? { apiKey: key.apiKey, system: "edge-etl", systemKey: key.systemKey }
      : { apiKey: key.apiKey },
    baseUrl: sim(),
  });
  expect(res.status).toBe(201);
  return { accountId, connectionId };
}

const breaker = {
  windowMs: 60_000,
  minCalls: 20,
  failureRateThreshold: 0.1,
  openMs: 60_000,
  halfOpenProbes: 3,
};

/**
 * `calls` backfill requests as fast as the connection's budget grants them, inside its account's object, from
 * `lanes` callers at once (a sync step's read-ahead and webhook fetches call concurrently too), so the demand
 * outruns one window's limit within seconds.
 */
function burst(accountId: string, connectionId: string, calls: number, lanes = 6) {
  return runInDurableObject(stubFor(accountId), async (_i, ctx) => {
    const { deps, close } = await stepDeps(ctx, accountId, connectionId);
    const kinds: Record<string, number> = {};
    let left = calls;
    const lane = async () => {
      while (left > 0) {
        left--;
        const r = await callProvider(
          { sql: ctx.storage.sql, fetch: deps.fetch, now: Date.now },
          { connection: deps.connection, priority: "backfill", breaker, timeoutMs: 5_000 },
          `${deps.connection.baseUrl}/v1/users?limit=1`,
        );
        if (r.kind === "ok") await r.response.body?.cancel();
        const k = r.kind === "parked" ? r.reason : r.kind;
        kinds[k] = (kinds[k] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    await close();
    return { kinds, view: await budgetView(ctx.storage.sql, connectionId, Date.now()) };
  });
}

describe("one rate budget per provider credential", () => {
  it("two connections in two accounts on one FUB key share one budget: 248 of 250 in the window, no 429", async () => {
    const key = await fubKey();
    const a = await accountOn(key);
    const b = await accountOn(key);
    const started = Date.now();
    const [ra, rb] = await Promise.all([
      burst(a.accountId, a.connectionId, 200),
      burst(b.accountId, b.connectionId, 200),
    ]);
    // Everything below happened inside one 10 s window, so one window's limit is all both may have.
    expect(Date.now() - started).toBeLessThan(10_000);
    const granted = (ra.kinds.ok ?? 0) + (rb.kinds.ok ?? 0);
    // Each alone would have had 200 (its own 248): together they are held to the key's one window.
    expect(granted).toBe(248);
    expect((ra.kinds.no_budget ?? 0) + (rb.kinds.no_budget ?? 0)).toBe(400 - 248);
    expect(ra.kinds.ok).toBeGreaterThan(0);
    expect(rb.kinds.ok).toBeGreaterThan(0);
    const s = await summary(key.apiKey);
    expect(s.requests).toMatchObject({ served: 248, rateLimited: 0 });
    expect(s.requests.byContext.global?.maxInWindow).toBe(248);
    // Both accounts' views are the same budget, said to be shared, named by a fingerprint and not the key.
    const budgetId = shortFingerprint(await rateBudgetFingerprint("fub", key.apiKey));
    for (const r of [ra, rb]) {
      expect(r.view).toMatchObject({
        scope: "credential",
        shared: true,
        budgetId,
        context: "global",
        limit: 250,
      });
      expect(r.view.usedInWindow).toBe(248);
      expect(JSON.stringify(r.view)).not.toContain(key.apiKey);
    }
    const status = await (await admin("GET", `/accounts/${a.accountId}/status`)).json<{
      connections: { rateBudget: { shared: boolean; budgetId: string; usedInWindow: number } }[];
    }>();
    expect(status.connections[0]?.rateBudget).toMatchObject({ shared: true, budgetId, usedInWindow: 248 });
    expect(JSON.stringify(status)).not.toContain(key.apiKey);
  });

  it("two different keys get independent budgets", async () => {
    // Unregistered keys (125 per 10 s, 123 for a lone backfill) halve the requests this needs.
    const [k1, k2] = [await fubKey(), await fubKey()];
    const a = await accountOn(k1, false);
    const b = await accountOn(k2, false);
    const started = Date.now();
    const [ra, rb] = await Promise.all([
      burst(a.accountId, a.connectionId, 130),
      burst(b.accountId, b.connectionId, 130),
    ]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ra.kinds).toEqual({ ok: 123, no_budget: 7 });
    expect(rb.kinds).toEqual({ ok: 123, no_budget: 7 });
    expect(ra.view).toMatchObject({ shared: true, limit: 125, usedInWindow: 123 });
    expect(ra.view.budgetId).not.toBe(rb.view.budgetId);
    for (const k of [k1, k2])
      expect((await summary(k.apiKey)).requests).toMatchObject({ served: 123, rateLimited: 0 });
  });

  it("a 429 seen by one connection blocks the other connection on the same key", async () => {
    const key = await fubKey();
    const a = await accountOn(key);
    const b = await accountOn(key);
    await fetch(`${sim()}/_sim/tenants/${key.apiKey}/faults`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ storm: { everyN: 1, durationSec: 30 } }),
    });
    const first = await burst(a.accountId, a.connectionId, 1);
    expect(first.kinds).toEqual({ rate_limited: 1 });
    // The other account never called: it learns of the 429 from the shared budget and does not call.
    const second = await burst(b.accountId, b.connectionId, 1);
    expect(second.kinds).toEqual({ no_budget: 1 });
    expect(second.view.blockedUntil).toBeGreaterThan(Date.now() + 20_000);
    expect((await summary(key.apiKey)).requests.rateLimited).toBe(1);
  });

  it("parallel backfills of two accounts on one key stay within each context's limit per 10 s in every window, with no 429", async () => {
    // The end-to-end property under real runs. People go through `global` (250 per 10 s), events through
    // `events` (20 per 10 s); at a test runtime's pace only the events window fills. Sequential pages also let
    // unshared budgets follow each other through FUB's Remaining header, so the concurrent bursts above, not
    // this, are what tells a shared budget from two unshared ones.
    const systemKey = uniqueId("sk");
    const apiKey = await simTenant({ systemKey, counts: { people: 3_000, events: 2_000 } });
    const key = { apiKey, systemKey };
    const a = await accountOn(key);
    const b = await accountOn(key);
    const started = Date.now();
    for (const c of [a, b]) {
      for (const entity of ["people", "events"]) {
        const res = await admin("POST", `/accounts/${c.accountId}/sync`, {
          connectionId: c.connectionId,
          entity,
          mode: "onboarding",
        });
        expect(res.status).toBe(202);
      }
    }
    for (const c of [a, b]) {
      for (const entity of ["people", "events"]) {
        await waitFor(
          async () => (await entityState(c.accountId, c.connectionId, entity))?.status === "COMPLETED",
          150_000,
        );
        expect((await entityState(c.accountId, c.connectionId, entity))?.runRecords).toBe(
          entity === "people" ? 3_000 : 2_000,
        );
      }
    }
    const s = await summary(key.apiKey);
    // 30 people pages and 20 events pages per account.
    expect(s.requests).toMatchObject({ served: 100, rateLimited: 0 });
    expect(s.requests.byContext.global?.maxAttemptsInWindow).toBeLessThanOrEqual(250);
    expect(s.requests.byContext.events?.maxAttemptsInWindow).toBeLessThanOrEqual(20);
    // 40 events requests at 18 a window (two reserve slots kept) need at least three windows: the budget held.
    expect(s.requests.byContext.events?.maxInWindow).toBeGreaterThanOrEqual(15);
    expect(Date.now() - started).toBeGreaterThan(20_000);
  }, 180_000);
});

describe("RateBudget object", () => {
  const stub = (name: string) => env.RATE_BUDGET.get(env.RATE_BUDGET.idFromName(name));
  const policy = fub.rateLimit({ apiKey: "k", systemKey: "s" });

  it("keeps a budget in use, and forgets an unused one (a rotated key's) with its storage", async () => {
    const busy = stub(uniqueId("fp"));
    expect(await busy.acquire("webhook", policy, "global")).toEqual({ granted: true });
    // The idle check is armed by the first grant; in use, the alarm keeps the budget and re-arms.
    expect(await runDurableObjectAlarm(busy)).toBe(true);
    const kept = await runInDurableObject(busy, async (_i: unknown, ctx: DurableObjectState) => ({
      alarm: await ctx.storage.getAlarm(),
      rows: ctx.storage.sql.exec("select count(*) as n from budgets").one().n,
    }));
    expect(kept.rows).toBe(1);
    expect(kept.alarm).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect((await busy.snapshot()).usedInWindow).toBe(1);

    // A budget whose last grant, reserve and block are all older than three windows holds nothing a verdict needs.
    const old = stub(uniqueId("fp"));
    await old.acquire("delta", policy, "global");
    await runInDurableObject(old, (_i: unknown, ctx: DurableObjectState) => {
      const t = Date.now() - 60_000;
      const state = {
        contexts: {
          global: {
            grants: [t],
            blockedUntil: null,
            observedLimit: null,
            observedWindowMs: null,
            lastGrant: { delta: t },
          },
        },
      };
      ctx.storage.sql.exec("update budgets set state_json = ?", JSON.stringify(state));
    });
    expect(await runDurableObjectAlarm(old)).toBe(true);
    const gone = await runInDurableObject(
      old,
      (_i: unknown, ctx: DurableObjectState) =>
        ctx.storage.sql.exec("select count(*) as n from sqlite_master where name = 'budgets'").one().n,
    );
    expect(gone).toBe(0);
    // Asked again, it starts from an empty budget.
    expect(await old.acquire("backfill", policy, "global")).toEqual({ granted: true });
    expect((await old.snapshot()).usedInWindow).toBe(1);
  });
});

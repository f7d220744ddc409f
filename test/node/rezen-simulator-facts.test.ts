// Pins the reZEN simulator to the community-derived facts (../shared/PROVIDERS-WAVE2.md §4 and "What a faithful
// simulator must do → reZEN") and the fixture (../shared/fixtures/rezen/error.apierror.json): X-API-KEY only
// with the nested ApiError body for Bearer and bad keys on every host, 0-based pageNumber/pageSize with
// `{transactions, hasNext}`, UPDATED_AT DESC sorting, partial list items and full details, UUID ids, money as
// {amount, currency}, epoch-ms times, date-granular downline bounds, TERMINATED instead of deletes, no
// rate-limit headers (429 only as a fault), Standard-Webhooks-signed deliveries (our documented choice).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { verifyStandardWebhook } from "../../src/core/signatures";
import { createSimulator } from "../../tools/simulator-rezen/app";

const FIXTURES = new URL("../../../shared/fixtures/rezen/", import.meta.url);
const BASE = "http://rezen.test";
const KEY = "facts-key";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
type Json = Record<string, unknown>;

function setup(opts: Parameters<typeof createSimulator>[0] = {}) {
  const sim = createSimulator({ seed: 7, keys: [KEY], ...opts });
  const req = (
    path: string,
    headers: Record<string, string> = { "X-API-KEY": KEY },
    init: RequestInit = {},
  ) => sim.app.request(`${BASE}${path}`, { headers, ...init });
  const get = async (path: string) => {
    const res = await req(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as Json;
  };
  return { sim, req, get, me: sim.store.agent.id };
}

const isEpochMs = (v: unknown) => Number.isInteger(v) && (v as number) > 1.5e12 && (v as number) < 4e12;
const isMoney = (m: unknown) =>
  !!m && typeof (m as Json).amount === "number" && ["USD", "CAD"].includes((m as Json).currency as string);

describe("reZEN simulator: auth", () => {
  const fixture = JSON.parse(readFileSync(new URL("error.apierror.json", FIXTURES), "utf8"));

  it("takes X-API-KEY only, on every host; Bearer and a wrong key → 403, none → 401, with the ApiError body", async () => {
    const { req } = setup();
    for (const host of ["arrakis", "yenta", "keymaker", "sherlock"]) {
      const bearer = await req(`/${host}/api/v1/agents/me`, { Authorization: `Bearer ${KEY}` });
      expect(bearer.status, host).toBe(403);
      expect(await bearer.json()).toEqual(fixture);
      const wrong = await req(`/${host}/api/v1/agents/me`, { "X-API-KEY": "nope" });
      expect(wrong.status).toBe(403);
      expect(await wrong.json()).toEqual(fixture);
      const none = await req(`/${host}/api/v1/agents/me`, {});
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual(fixture);
    }
    // The header name is case-insensitive.
    expect((await req("/yenta/api/v1/agents/me", { "x-api-key": KEY })).status).toBe(200);
  });
});

describe("reZEN simulator: transactions", () => {
  it("pages each lifecycle group from pageNumber 0 with {transactions, hasNext}, newest change first", async () => {
    const { get, me, sim } = setup({ counts: { transactions: 90 } });
    for (const group of ["OPEN", "CLOSED", "TERMINATED"]) {
      const seen: string[] = [];
      const times: number[] = [];
      for (let n = 0; ; n++) {
        const body = await get(
          `/arrakis/api/v1/transactions/participant/${me}/transactions/${group}?pageNumber=${n}&pageSize=7&sortBy=UPDATED_AT&sortDirection=DESC`,
        );
        expect(Object.keys(body)).toContain("transactions");
        expect(typeof body.hasNext).toBe("boolean");
        const items = body.transactions as Json[];
        seen.push(...items.map((t) => t.id as string));
        times.push(...items.map((t) => t.updatedAt as number));
        if (!body.hasNext) break;
        expect(items.length).toBe(7);
      }
      expect(seen.length).toBe(30);
      expect(new Set(seen).size).toBe(30);
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(sim.store.inGroup(group).length).toBe(30);
    }
  });

  it("list items are partial; the detail has UUIDs, money, epoch-ms times, participants with roles and `external`", async () => {
    const { get, me } = setup();
    const list = await get(
      `/arrakis/api/v1/transactions/participant/${me}/transactions/OPEN?pageNumber=0&pageSize=5`,
    );
    const item = (list.transactions as Json[])[0] as Json;
    expect(item.id).toMatch(UUID);
    expect(item.participants).toBeUndefined();
    expect(isEpochMs(item.updatedAt)).toBe(true);
    const detail = await get(`/arrakis/api/v1/transactions/${item.id}`);
    expect(detail.id).toBe(item.id);
    for (const m of ["price", "grossCommission", "myNetPayout"]) expect(isMoney(detail[m]), m).toBe(true);
    expect(isEpochMs(detail.createdAt) && isEpochMs(detail.updatedAt)).toBe(true);
    expect((detail.lifecycleState as Json).state).toEqual(expect.any(String));
    const roles = (detail.participants as Json[]).map((p) => [p.participantRole, p.external]);
    expect(roles).toContainEqual(["BUYERS_AGENT", false]);
    expect(roles).toContainEqual(["BUYER", true]);
    expect(detail.contractAcceptanceDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("serves addresses with `zip` and with `zipCode`, and CAD as well as USD", async () => {
    const { sim } = setup({ counts: { transactions: 60 } });
    const all = [...sim.store.transactions.values()];
    expect(all.some((t) => "zip" in t.address)).toBe(true);
    expect(all.some((t) => "zipCode" in t.address)).toBe(true);
    expect(all.some((t) => t.currency === "CAD")).toBe(true);
  });

  it("a terminated deal moves to TERMINATED and its detail still answers (no deletes); counts per group follow", async () => {
    const { get, me, sim } = setup();
    const t = sim.store.inGroup("OPEN")[0];
    if (!t) throw new Error("no open transaction");
    const before = (await get(`/arrakis/api/v1/transactions/participant/${me}/lifecycle-group-counts`))
      .lifecycleGroupCounts as { lifecycleGroup: string; count: number }[];
    sim.terminateTransaction(t.id);
    const after = (await get(`/arrakis/api/v1/transactions/participant/${me}/lifecycle-group-counts`))
      .lifecycleGroupCounts as { lifecycleGroup: string; count: number }[];
    const n = (xs: typeof before, g: string) => xs.find((x) => x.lifecycleGroup === g)?.count;
    expect(n(after, "OPEN")).toBe((n(before, "OPEN") ?? 0) - 1);
    expect(n(after, "TERMINATED")).toBe((n(before, "TERMINATED") ?? 0) + 1);
    const detail = await get(`/arrakis/api/v1/transactions/${t.id}`);
    expect((detail.lifecycleState as Json).state).toBe("TERMINATED");
    const terminated = await get(
      `/arrakis/api/v1/transactions/participant/${me}/transactions/TERMINATED?pageNumber=0&pageSize=100`,
    );
    expect((terminated.transactions as Json[]).map((x) => x.id)).toContain(t.id);
  });
});

describe("reZEN simulator: network, revenue share, limits, webhooks", () => {
  it("downline per tier with date-granular updatedAtFrom/To; frontline is tier 1; contributions per tier", async () => {
    const { get, me, sim } = setup();
    const tier1 = await get(`/yenta/api/v1/agents/${me}/down-line/1?pageNumber=0&pageSize=100`);
    const agents = tier1.downLineAgents as Json[];
    expect(agents.length).toBe(sim.store.networkSize(1));
    const front = await get(`/yenta/api/v1/agents/${me}/front-line-agents-info`);
    expect((front.frontLineAgentInfos as Json[]).map((a) => a.id).sort()).toEqual(
      agents.map((a) => a.id).sort(),
    );
    const future = await get(`/yenta/api/v1/agents/${me}/down-line/1?updatedAtFrom=2099-01-01&pageNumber=0`);
    expect(future.downLineAgents).toEqual([]);
    const day = new Date(agents[0]?.updatedAt as number).toISOString().slice(0, 10);
    const sameDay = await get(
      `/yenta/api/v1/agents/${me}/down-line/1?updatedAtFrom=${day}&updatedAtTo=${day}`,
    );
    expect((sameDay.downLineAgents as Json[]).length).toBeGreaterThan(0);
    const sizes = (await get(`/yenta/api/v1/agents/${me}/network-size-by-tier`)).tiers as Json[];
    expect(sizes.map((s) => s.tier)).toEqual([1, 2, 3, 4, 5]);
    let total = 0;
    for (const s of sizes) {
      const c = await get(
        `/arrakis/api/v1/revshares/${me}/contributions/${s.tier}?pageNumber=0&pageSize=100`,
      );
      for (const x of c.contributions as Json[]) expect(isMoney(x.amount)).toBe(true);
      total += (c.contributions as Json[]).length;
    }
    expect(total).toBe(sim.store.contributions.size);
    expect(isMoney((await get(`/yenta/api/v1/agents/${me}/cap-info`)).capAmount)).toBe(true);
  });

  it("fault knobs: another list key (`content`), a page size clamped silently with a truthful hasNext", async () => {
    const { get, me, sim } = setup({ faults: { listKey: "content", maxPageSize: 7 } });
    const body = await get(
      `/arrakis/api/v1/transactions/participant/${me}/transactions/OPEN?pageNumber=0&pageSize=20`,
    );
    expect(body.transactions).toBeUndefined();
    expect((body.content as Json[]).length).toBe(7);
    expect(body.hasNext).toBe(sim.store.inGroup("OPEN").length > 7);
  });

  it("sends no rate-limit headers; a 429 with Retry-After is a fault knob, per host", async () => {
    const { req, sim } = setup({ faults: { perHostPerMinute: 2 } });
    const ok = await req("/yenta/api/v1/agents/me");
    expect([...ok.headers.keys()].filter((h) => h.toLowerCase().includes("ratelimit"))).toEqual([]);
    await req("/yenta/api/v1/agents/me");
    const limited = await req("/yenta/api/v1/agents/me");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another host keeps its own budget.
    expect((await req(`/arrakis/api/v1/transactions/${sim.store.inGroup("OPEN")[0]?.id}`)).status).toBe(200);
  });

  it("registers a callback and delivers Standard-Webhooks-signed events naming the transaction", async () => {
    const received: { body: string; headers: Headers }[] = [];
    const { req, sim } = setup({
      fetch: async (_url, init) => {
        received.push({ body: String(init?.body), headers: new Headers(init?.headers) });
        return new Response("ok");
      },
    });
    const res = await req(
      "/arrakis/api/v1/webhooks",
      { "X-API-KEY": KEY, "content-type": "application/json" },
      { method: "POST", body: JSON.stringify({ url: "https://etl.test/webhooks/rezen/c1", events: [] }) },
    );
    expect(res.status).toBe(201);
    const { secret } = (await res.json()) as { id: string; secret: string };
    const t = sim.createTransaction();
    expect(await sim.flushWebhooks()).toBe(1);
    const d = received[0];
    if (!d) throw new Error("nothing delivered");
    expect(JSON.parse(d.body)).toMatchObject({ type: "TRANSACTION_CREATED", data: { id: t.id } });
    const verdict = await verifyStandardWebhook({
      secrets: [secret],
      id: d.headers.get("webhook-id") ?? "",
      timestamp: d.headers.get("webhook-timestamp") ?? "",
      signature: d.headers.get("webhook-signature") ?? "",
      rawBody: new TextEncoder().encode(d.body),
      nowSec: Math.floor(Date.now() / 1000),
      toleranceSec: 300,
    });
    expect(verdict).toEqual({ ok: true });
  });
});

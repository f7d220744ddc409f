// Pins the Zillow simulator to its contract. Nothing of Zillow's agent/team/sync API is public
// (../shared/PROVIDERS-WAVE2.md §6 and "What a faithful simulator must do → Zillow / ZHL"), so the simulator is
// SEEDS-DERIVED: the facts file says so and names what the seeds do give (ZillowAuth with zuid and expires_at,
// OAuth with refresh, agents, teams, sync users, soft-deleted agents, webhooks signed with a key derived from
// the OAuth client id, `ZU…` ZUIDs, ISO-8601 with offset). The test checks the facts file still says that, and
// the simulator against tools/simulator-zillow/contract.ts, signature included, computed here independently.

import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSimulator } from "../../tools/simulator-zillow/app";
import { LABEL, PATHS, WEBHOOK } from "../../tools/simulator-zillow/contract";

const FACTS = readFileSync(new URL("../../../shared/PROVIDERS-WAVE2.md", import.meta.url), "utf8");
const CONTRACT = readFileSync(new URL("../../tools/simulator-zillow/contract.ts", import.meta.url), "utf8");
const BASE = "http://zillow.test";
const CLIENT = { id: "facts-client", secret: "facts-secret" };
const basic = `Basic ${btoa(`${CLIENT.id}:${CLIENT.secret}`)}`;

function setup(counts = { teams: 5, agents: 130, events: 60 }) {
  const clock = { now: Date.UTC(2026, 10, 1, 12, 0, 0) };
  const sim = createSimulator({
    seed: 7,
    counts,
    clients: { [CLIENT.id]: CLIENT.secret },
    now: () => clock.now,
  });
  const req = (path: string, init: RequestInit = {}) => sim.app.request(`${BASE}${path}`, init);
  async function grant() {
    const authorize = await req(
      `${PATHS.authorize}?response_type=code&client_id=${CLIENT.id}&redirect_uri=${encodeURIComponent("http://cb.test/x")}&state=s1`,
    );
    expect(authorize.status).toBe(302);
    const back = new URL(authorize.headers.get("location") ?? "");
    expect(back.searchParams.get("state")).toBe("s1");
    const token = await req(PATHS.token, {
      method: "POST",
      headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: back.searchParams.get("code") ?? "",
        redirect_uri: "http://cb.test/x",
      }).toString(),
    });
    expect(token.status).toBe(200);
    return (await token.json()) as { access_token: string; refresh_token: string; expires_in: number };
  }
  const get = (path: string, token: string) => req(path, { headers: { Authorization: `Bearer ${token}` } });
  return { sim, clock, req, grant, get };
}

describe("Zillow simulator facts (seeds-derived)", () => {
  it("the facts file still says nothing is public and what the seeds name; the simulator says it is seeds-derived", () => {
    expect(FACTS).toContain("## 6. Zillow / Zillow Home Loans");
    expect(FACTS).toMatch(/Almost nothing the seeds need is public/);
    expect(FACTS).toMatch(/Label it "seeds-derived", not "provider-faithful"/);
    for (const concept of [
      "ZillowAuth",
      "ZillowAgent",
      "ZillowSyncUser",
      "usingClientId",
      "agentSoftDeleted",
    ])
      expect(FACTS).toContain(concept);
    expect(FACTS).toMatch(/webhooks signed with a key derived from the OAuth client id/);
    expect(FACTS).toMatch(/ZUIDs look like `ZU…`/);
    expect(LABEL).toBe("seeds-derived");
    expect(CONTRACT).toMatch(/SEEDS-DERIVED, not provider-faithful/);
  });

  it("OAuth: code exchange with HTTP Basic client auth, rotating refresh, a wrong client refused", async () => {
    const { req, grant, sim } = setup();
    const t = await grant();
    expect(t.expires_in).toBe(3600);
    const refreshed = await req(PATHS.token, {
      method: "POST",
      headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: t.refresh_token }).toString(),
    });
    expect(refreshed.status).toBe(200);
    // Rotation: the old refresh token is spent.
    const again = await req(PATHS.token, {
      method: "POST",
      headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: t.refresh_token }).toString(),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe("invalid_grant");
    const wrong = await req(PATHS.token, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa("facts-client:nope")}` },
      body: "grant_type=refresh_token&refresh_token=x",
    });
    expect(wrong.status).toBe(401);
    expect(sim.stats.oauth).toMatchObject({ codeExchanges: 1, refreshes: 1, refreshRefused: 1 });
  });

  it("a revoked grant: API calls answer 401 and its refresh is refused; every call is counted", async () => {
    const { sim, grant, get, req } = setup();
    const t = await grant();
    expect((await get(PATHS.me, t.access_token)).status).toBe(200);
    sim.revokeAll();
    expect((await get(PATHS.agents, t.access_token)).status).toBe(401);
    const r = await req(PATHS.token, {
      method: "POST",
      headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: t.refresh_token }).toString(),
    });
    expect(r.status).toBe(400);
    expect(sim.stats).toMatchObject({ served: 2, unauthorized: 1 });
    expect(sim.stats.byPath).toEqual({ [PATHS.me]: 1, [PATHS.agents]: 1 });
  });

  it("lists: {data, page, pageSize}, pages from 1 capped at 100, a short page last; ZUIDs, offsets, soft deletes", async () => {
    const { grant, get, sim } = setup();
    const t = await grant();
    const seen: Record<string, unknown>[] = [];
    for (let page = 1; ; page++) {
      const res = await get(`${PATHS.agents}?page=${page}&pageSize=500`, t.access_token);
      const body = (await res.json()) as { data: Record<string, unknown>[]; page: number; pageSize: number };
      expect(body.pageSize).toBe(100);
      seen.push(...body.data);
      if (body.data.length < 100) break;
    }
    expect(seen).toHaveLength(130);
    expect(new Set(seen.map((a) => a.id)).size).toBe(130);
    for (const a of seen) {
      expect(a.zuid).toMatch(/^ZU\d+$/);
      expect(a.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-08:00$/);
    }
    const deleted = seen.filter((a) => a.deleted === true);
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.every((a) => a.status === "deleted")).toBe(true);
    expect(sim.truth().agents).toHaveLength(130);
  });

  it("deltas: updatedSince is inclusive and sort=updatedAt ascends (ties by id); ids= fetches exactly those", async () => {
    const { grant, get, sim } = setup();
    const t = await grant();
    const all = sim.truth().agents;
    const times = all.map((a) => Date.parse(a.updatedAt)).sort((a, b) => a - b);
    const bound = times[Math.floor(times.length / 2)] as number;
    const res = await get(
      `${PATHS.agents}?updatedSince=${encodeURIComponent(new Date(bound).toISOString())}&sort=updatedAt&pageSize=100`,
      t.access_token,
    );
    const rows = ((await res.json()) as { data: { id: string; updatedAt: string }[] }).data;
    expect(rows.length).toBe(all.filter((a) => Date.parse(a.updatedAt) >= bound).length);
    const keys = rows.map((r) => [Date.parse(r.updatedAt), r.id] as const);
    expect([...keys].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))).toEqual(keys);
    const ids = [all[3]?.id, all[7]?.id].join(",");
    const byIds = (
      (await (await get(`${PATHS.agents}?ids=${ids}`, t.access_token)).json()) as { data: { id: string }[] }
    ).data;
    expect(byIds.map((r) => r.id)).toEqual([all[3]?.id, all[7]?.id]);
  });

  it("/v1/me is the grant's ZillowAuth: zuid and the access token's expiry; no token in the body", async () => {
    const { grant, get, sim, clock } = setup();
    const t = await grant();
    const me = ((await (await get(PATHS.me, t.access_token)).json()) as { data: Record<string, string> })
      .data;
    expect(me.zuid).toBe(sim.data.ownerZuid);
    expect(Date.parse(me.expiresAt ?? "")).toBe(clock.now + 3600_000);
    expect(JSON.stringify(me)).not.toContain(t.access_token);
  });

  it("webhooks: signed with HMAC-SHA256 under SHA-256('zillow-sync-webhook:' + client id), over '<t>.<body>'", async () => {
    const { sim, grant, clock } = setup();
    await grant();
    const received: { headers: Headers; body: string }[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (_url: string, init: RequestInit) => {
      received.push({ headers: new Headers(init.headers), body: String(init.body) });
      return new Response(null, { status: 202 });
    }) as typeof fetch;
    try {
      sim.setWebhookUrl("http://engine.test/webhooks/zillow/c1");
      const m = await sim.mutate({ agentUpdates: 2, agentDeletes: 1, newEvents: 1 });
      expect(m.updated).toHaveLength(2);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(received.map((r) => JSON.parse(r.body).eventType)).toEqual([
      "agent.updated",
      "agent.deleted",
      "contactSyncEvent.created",
    ]);
    const key = createHash("sha256").update(`zillow-sync-webhook:${CLIENT.id}`).digest("hex");
    const t = Math.floor(clock.now / 1000);
    for (const r of received) {
      const expected = createHmac("sha256", key).update(`${t}.${r.body}`).digest("hex");
      expect(r.headers.get(WEBHOOK.header)).toBe(`t=${t},v1=${expected}`);
      expect(WEBHOOK.events).toContain(JSON.parse(r.body).eventType);
    }
    expect(sim.stats.webhooks).toEqual({ sent: 3, acknowledged: 3, failed: 0 });
  });
});

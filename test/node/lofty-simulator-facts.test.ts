// Pins the Lofty simulator to the facts file (../shared/PROVIDERS-WAVE2.md §2; Lofty publishes no fixtures, so
// the documented lead example and rules are the reference): the facts are read from the file and each is
// checked against the simulator's answers, so a simulator written from our own assumptions fails here.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSimulator, type Faults } from "../../tools/simulator-lofty/app";

const FACTS = readFileSync(new URL("../../../shared/PROVIDERS-WAVE2.md", import.meta.url), "utf8");
const LOFTY = FACTS.slice(FACTS.indexOf("## 2. Lofty"), FACTS.indexOf("## 3."));
const BASE = "http://lofty.test";
const KEY = "facts-key";
const TWO_53 = 9007199254740992n;

type Captured = { url: string; body: string };

function setup(faults: Partial<Faults> = {}, keys = { [KEY]: 500 }) {
  const received: Captured[] = [];
  const sim = createSimulator({
    seed: 3,
    counts: { leads: 60, members: 30 },
    keys,
    faults: { allowHttpCallbacks: true, webhookDelayMs: 3_600_000, ...faults },
    fetch: async (input, init) => {
      received.push({ url: String(input), body: String(init?.body) });
      return new Response("ok");
    },
  });
  const req = (path: string, init: RequestInit & { auth?: string; type?: string | null } = {}) => {
    const headers: Record<string, string> = { Authorization: init.auth ?? `token ${KEY}` };
    if (init.type !== null) headers["Content-Type"] = init.type ?? "application/json";
    return sim.app.request(`${BASE}${path}`, { ...init, headers });
  };
  return { sim, req, received };
}

/** Lead ids exactly as written in the body: the digits of each `"leadId":` number. */
const rawIds = (text: string) => [...text.matchAll(/"leadId":(\d+)/g)].map((m) => m[1] as string);

describe("Lofty simulator against the facts file", () => {
  it("the facts file states what this test checks", () => {
    for (const fact of [
      "Authorization: token <key>",
      "`200058`",
      "Content-Type: application/json",
      "wrapper named `_metadata`",
      '{"get_metadata": {collection, limit, offset, total, scrollId}',
      "silently capped at 25",
      "`scrollId` passed back as a query parameter",
      "`-1` means",
      "10 calls/min",
      "100 req/min, production 500 req/min",
      '429 `{"message":"Too Many Requests"}`',
      "X-RateLimit-Reset",
      "https only",
      "**No signature",
      "moves the lead to trash",
      "wrapped under the 'lead' key",
    ])
      expect(LOFTY, fact).toContain(fact);
  });

  it("auth: `token <key>` works, the key as Bearer is refused with 200058", async () => {
    const { req } = setup();
    expect((await req("/v1.0/me")).status).toBe(200);
    const bearer = await req("/v1.0/me", { auth: `Bearer ${KEY}` });
    expect(bearer.status).toBe(401);
    expect(((await bearer.json()) as { code: number }).code).toBe(200058);
    expect((await req("/v1.0/me", { auth: "token wrong" })).status).toBe(401);
  });

  it("Content-Type is required on GET (415) and DELETE (400, errorCode 20001)", async () => {
    const { req, sim } = setup();
    expect((await req("/v1.0/leads", { type: null })).status).toBe(415);
    const id = String(sim.store.liveLeads()[0]?.leadId);
    const del = await req(`/v1.0/leads/${id}?reason=dup`, { method: "DELETE", type: null });
    expect(del.status).toBe(400);
    expect(((await del.json()) as { errorCode: number }).errorCode).toBe(20001);
  });

  it("leads: 25 a page whatever limit asks, newest first, scrollId pages on, total = all, ids across 2^53", async () => {
    const { req } = setup();
    const seen: string[] = [];
    let scroll: string | undefined;
    let total = -1;
    for (let i = 0; i < 10; i++) {
      const res = await req(`/v1.0/leads?limit=100&page=2${scroll ? `&scrollId=${scroll}` : ""}`);
      const text = await res.text();
      const body = JSON.parse(text) as { _metadata: { scrollId: string; total: number }; leads: unknown[] };
      expect(body.leads.length).toBeLessThanOrEqual(25);
      seen.push(...rawIds(text).filter((_, k) => k % 1 === 0));
      total = body._metadata.total;
      scroll = body._metadata.scrollId;
      if (body.leads.length < 25) break;
    }
    const leadIds = [...new Set(seen)];
    expect(total).toBe(60);
    expect(leadIds.length).toBe(60);
    expect(leadIds.some((id) => BigInt(id) > TWO_53)).toBe(true);
    expect(leadIds.some((id) => BigInt(id) < TWO_53)).toBe(true);
    // An id above 2^53 as JSON.parse reads it is another number: the reason ids must be read exactly.
    const big = leadIds.find((id) => BigInt(id) > TWO_53 && BigInt(id) % 2n === 1n) as string;
    expect(String(JSON.parse(big))).not.toBe(big);
  });

  it("the paging object is `_metadata` live, `get_metadata` as documented (knob)", async () => {
    const { req } = setup({ metadataName: "get_metadata" });
    const body = (await (await req("/v1.0/leads")).json()) as Record<string, { scrollId?: string }>;
    expect(body.get_metadata?.scrollId).toBeTruthy();
    expect(body._metadata).toBeUndefined();
  });

  it("the documented lead example's fields, lead-level times as `…GMT`, `-1` for unset, the single lead wrapped", async () => {
    const { req, sim } = setup();
    const page = (await (await req("/v1.0/leads")).json()) as { leads: Record<string, unknown>[] };
    const lead = page.leads[0] as Record<string, unknown>;
    for (const field of [
      "leadId",
      "leadUserId",
      "firstName",
      "emails",
      "phones",
      "leadSource",
      "source",
      "stageId",
      "stage",
      "assignedUserId",
      "assignedUser",
      "lenderUserId",
      "score",
      "tags",
      "teamId",
      "streetAddress",
      "createTime",
      "lastUpdateTime",
      "lastTouch",
      "lastVisit",
      "leadTypes",
      "leadInquiry",
      "pondId",
      "segments",
    ]) {
      expect(LOFTY, field).toContain(field);
      expect(lead, field).toHaveProperty(field);
    }
    expect(typeof (lead.emails as unknown[])[0]).toBe("string");
    expect(lead.lastUpdateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}GMT$/);
    expect(lead.lastVisit).toBe(-1);
    expect((lead.leadInquiry as { createTime: string }).createTime).toMatch(/Z$/);
    const id = String(sim.store.liveLeads()[0]?.leadId);
    const one = (await (await req(`/v1.0/leads/${id}`)).json()) as { lead?: unknown };
    expect(one.lead).toBeTruthy();
  });

  it("notes and calls `yyyy-MM-dd HH:mm:ss`, activities a bare list with epoch ms, calls 404 without leadId, v2 dates in ms", async () => {
    const { req, sim } = setup();
    const withCall = sim.store.calls[0]?.leadId as bigint;
    const calls = (await (await req(`/v1.0/calls?leadId=${withCall}`)).json()) as {
      calls: { createTime: string }[];
    };
    expect(calls.calls[0]?.createTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect((await req("/v1.0/calls")).status).toBe(404);
    const notes = (await (await req(`/v1.0/notes?leadId=${withCall}`)).json()) as {
      notes: { createTime: string }[];
    };
    expect(notes.notes[0]?.createTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const withActivity = sim.store.activities[0]?.leadId as bigint;
    const acts = (await (await req(`/v1.0/leads/${withActivity}/activities`)).json()) as {
      created: number;
    }[];
    expect(Array.isArray(acts)).toBe(true);
    expect(typeof acts[0]?.created).toBe("number");
    const tx = (await (await req("/v2.0/transactions")).json()) as { transactions: { createTime: number }[] };
    expect(typeof tx.transactions[0]?.createTime).toBe("number");
  });

  it("rate tiers: the 11th call of a minute on a bare key is 429 Too Many Requests, headers on every answer", async () => {
    const { req } = setup({}, { [KEY]: 10 });
    for (let i = 0; i < 10; i++) {
      const res = await req("/v1.0/me");
      expect(res.status).toBe(200);
      expect(res.headers.get("X-RateLimit-Limit")).toBe("10");
      expect(res.headers.get("X-RateLimit-Remaining")).toBe(String(9 - i));
      // Epoch seconds of the window's end, as the text says.
      expect(Number(res.headers.get("X-RateLimit-Reset"))).toBeGreaterThan(Date.now() / 1000);
    }
    const refused = await req("/v1.0/me");
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ message: "Too Many Requests" });
    for (const limit of [100, 500]) {
      const tier = setup({}, { [KEY]: limit });
      expect((await tier.req("/v1.0/me")).headers.get("X-RateLimit-Limit")).toBe(String(limit));
    }
  });

  it("webhooks: per list, https only, batched deliveries without a signature; delete moves a lead to trash", async () => {
    const { req, sim, received } = setup({ allowHttpCallbacks: false });
    const refused = await req("/v1.0/webhook", {
      method: "POST",
      body: JSON.stringify({ listId: 2, callbackUrl: "http://x.test/hook" }),
    });
    expect(refused.status).toBe(400);
    const created = await req("/v1.0/webhook", {
      method: "POST",
      body: JSON.stringify({ listId: 2, callbackUrl: "https://x.test/hook?secret=s", limit: 100 }),
    });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ listId: 2, callbackUrl: "https://x.test/hook?secret=s" });
    const a = sim.createLead();
    sim.updateLead(String(a.leadId), { firstName: "Changed" });
    const victim = String(sim.store.liveLeads()[5]?.leadId);
    expect((await req(`/v1.0/leads/${victim}?reason=dup`, { method: "DELETE" })).status).toBe(200);
    expect(received).toHaveLength(0);
    await sim.flushWebhooks();
    expect(received).toHaveLength(1);
    const batch = JSON.parse((received[0] as Captured).body) as {
      listId: number;
      teamId: number;
      eventType: string;
    }[];
    expect(batch.map((e) => e.eventType)).toEqual(["created", "updated", "deleted"]);
    expect(batch.every((e) => e.listId === 2 && typeof e.teamId === "number")).toBe(true);
    expect(rawIds((received[0] as Captured).body)).toContain(victim);
    // Trashed: gone from the list and from its own URL.
    expect((await req(`/v1.0/leads/${victim}`)).status).toBe(404);
    expect(sim.truth().trashedLeadIds).toContain(victim);
  });

  it("scrollIds are positions: a lead trashed behind the scan shifts the next page up (what a scan must survive)", async () => {
    const { req, sim } = setup();
    const first = (await (await req("/v1.0/leads")).json()) as { _metadata: { scrollId: string } };
    const before = sim.store.liveLeads()[25];
    sim.trashLead(String(sim.store.liveLeads()[0]?.leadId));
    const second = await (await req(`/v1.0/leads?scrollId=${first._metadata.scrollId}`)).text();
    expect(rawIds(second)).not.toContain(String(before?.leadId));
  });
});

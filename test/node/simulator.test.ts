// Follow Up Boss simulator: paging, filters, rate limits, auth, webhooks, faults,
// scale, and the Bun / Deno entry points.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyFub } from "../../src/connectors/fub/signature";
import { createSimulator, type Simulator } from "../../tools/simulator/app";
import { startSimulator } from "../../tools/simulator/main";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "node_modules/.bin");
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

type Json = Record<string, unknown>;
interface ListBody {
  _metadata: {
    collection: string;
    offset: number;
    limit: number;
    total: number;
    next: string | null;
    nextLink: string | null;
  };
  [k: string]: unknown;
}

function auth(apiKey: string, systemKey?: string): Record<string, string> {
  const h: Record<string, string> = { Authorization: `Basic ${btoa(`${apiKey}:`)}` };
  if (systemKey) {
    h["X-System"] = "edge-etl-tests";
    h["X-System-Key"] = systemKey;
  }
  return h;
}

async function getJson(sim: Simulator, url: string, headers: Record<string, string>) {
  const res = await sim.app.request(url, { headers });
  return { res, body: (await res.json()) as ListBody & Json };
}

/** Page through a whole list with `next`, returning every record. */
async function pageAll(sim: Simulator, first: string, headers: Record<string, string>, key = "people") {
  const all: Json[] = [];
  const boundaries: [Json, Json][] = [];
  let url: string | null = first;
  let pages = 0;
  while (url) {
    const { res, body } = await getJson(sim, url, headers);
    expect(res.status).toBe(200);
    const recs = body[key] as Json[];
    const prev = all[all.length - 1];
    if (prev && recs[0]) boundaries.push([prev, recs[0]]);
    all.push(...recs);
    url = body._metadata.nextLink;
    pages++;
    if (pages > 10_000) throw new Error("runaway paging");
  }
  return { all, boundaries, pages };
}

async function truthIds(
  sim: Simulator,
  apiKey: string,
  entity: string,
  includeDeleted = false,
): Promise<Json[]> {
  const res = await sim.app.request(
    `/_sim/tenants/${apiKey}/truth/${entity}${includeDeleted ? "?includeDeleted=1" : ""}`,
  );
  expect(res.headers.get("content-type")).toContain("ndjson");
  const text = await res.text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);
}

describe("paging", () => {
  const sim = createSimulator({ now: () => T0 });
  sim.putTenant("page", { seed: 11, systemKey: "sk", counts: { people: 2345 }, rateLimit: false });
  const h = auth("page", "sk");

  it("default order is -id, limit 10, metadata shape", async () => {
    const { res, body } = await getJson(sim, "http://sim.test/v1/people", h);
    expect(res.status).toBe(200);
    const people = body.people as Json[];
    expect(people).toHaveLength(10);
    expect(people[0]?.id).toBeGreaterThan(people[1]?.id as number);
    expect(body._metadata.collection).toBe("people");
    expect(body._metadata.limit).toBe(10);
    expect(body._metadata.offset).toBe(0);
    expect(body._metadata.nextLink).toMatch(/^http:\/\/sim\.test\/v1\/people\?next=/);
    expect(people[0]).not.toHaveProperty("customLeadScore");
    expect(people[0]?.updated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const all = await getJson(sim, "http://sim.test/v1/people?limit=500&fields=allFields", h);
    expect(all.body._metadata.limit).toBe(100);
    expect((all.body.people as Json[])[0]).toHaveProperty("customLeadScore");
  });

  it("next over the whole set yields every visible record exactly once (sort=updated, ties at page boundaries)", async () => {
    const truth = await truthIds(sim, "page", "people");
    for (const sort of ["updated", "-updated", "created", "id", "-id"]) {
      const { all, boundaries } = await pageAll(sim, `http://sim.test/v1/people?limit=100&sort=${sort}`, h);
      const ids = all.map((r) => r.id as number);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(truth.length);
      expect([...ids].sort((a, b) => a - b)).toEqual(truth.map((r) => r.id as number));
      if (sort === "updated") {
        // Ordered by (updated, id), and several page boundaries fall inside a run of one second.
        for (let k = 1; k < all.length; k++) {
          const a = all[k - 1] as Json;
          const b = all[k] as Json;
          const c = (a.updated as string).localeCompare(b.updated as string);
          expect(c < 0 || (c === 0 && (a.id as number) < (b.id as number))).toBe(true);
        }
        const tiedBoundaries = boundaries.filter(([a, b]) => a.updated === b.updated).length;
        expect(tiedBoundaries).toBeGreaterThan(2);
        const runs = new Map<string, number>();
        for (const r of all) runs.set(r.updated as string, (runs.get(r.updated as string) ?? 0) + 1);
        expect(Math.max(...runs.values())).toBeGreaterThanOrEqual(50);
      }
    }
  });

  it("trashed people are hidden unless includeTrash=true; offset paging is capped", async () => {
    const visible = (await getJson(sim, "/v1/people?limit=1", h)).body._metadata.total;
    const withTrash = (await getJson(sim, "/v1/people?limit=1&includeTrash=true", h)).body._metadata.total;
    expect(withTrash).toBe(2345);
    expect(visible).toBeLessThan(withTrash);
    const off = await getJson(sim, "/v1/people?limit=10&offset=20&sort=id", h);
    const firstHundred = (await getJson(sim, "/v1/people?limit=100&sort=id", h)).body.people as Json[];
    expect((off.body.people as Json[]).map((r) => r.id)).toEqual(firstHundred.slice(20, 30).map((r) => r.id));
    expect(off.body._metadata.offset).toBe(20);
    const deep = await getJson(sim, "/v1/people?offset=20000", h);
    expect(deep.res.status).toBe(400);
    expect(String(deep.body.errorMessage)).toContain("next");
    const badSort = await getJson(sim, "/v1/people?sort=name", h);
    expect(badSort.res.status).toBe(400);
  });

  it("filters are strict and combine; multi-id fetch and single fetch", async () => {
    const { body } = await getJson(sim, "/v1/people?limit=100&sort=updated", h);
    const recs = body.people as Json[];
    const pivot = recs[60] as Json;
    const after = await getJson(sim, `/v1/people?limit=100&sort=updated&updatedAfter=${pivot.updated}`, h);
    for (const r of after.body.people as Json[])
      expect((r.updated as string) > (pivot.updated as string)).toBe(true);
    const before = await getJson(sim, `/v1/people?limit=100&sort=-updated&updatedBefore=${pivot.updated}`, h);
    for (const r of before.body.people as Json[])
      expect((r.updated as string) < (pivot.updated as string)).toBe(true);
    const idr = await getJson(sim, "/v1/people?limit=100&idGreaterThan=10&idLessThan=20&sort=id", h);
    const got = (idr.body.people as Json[]).map((r) => r.id as number);
    expect(got.every((id) => id > 10 && id < 20)).toBe(true);
    const multi = await getJson(sim, "/v1/people?id=3,1,2&sort=id", h);
    expect((multi.body.people as Json[]).map((r) => r.id)).toEqual([1, 2, 3]);
    const one = await sim.app.request("/v1/people/5", { headers: h });
    expect(((await one.json()) as Json).id).toBe(5);
    expect((await sim.app.request("/v1/people/99999999", { headers: h })).status).toBe(404);
    expect((await sim.app.request("/v1/deals?limit=5", { headers: h })).status).toBe(200);
  });
});

describe("delta after mutations", () => {
  let clock = T0;
  const sim = createSimulator({ now: () => clock });
  sim.putTenant("delta", { seed: 5, systemKey: "sk", counts: { people: 5000 }, rateLimit: false });
  const h = auth("delta", "sk");

  it("updatedAfter + sort=updated returns exactly the mutated records, all in one second", async () => {
    const before = (await (await sim.app.request("/_sim/tenants/delta/truth/people/summary")).json()) as Json;
    const cutoff = before.maxUpdated as string;
    clock = T0 + 1234;
    const res = await sim.app.request("/_sim/tenants/delta/mutate", {
      method: "POST",
      body: JSON.stringify({ creates: 4, updates: 60, deletes: 3, trash: 2 }),
    });
    const m = (await res.json()) as {
      created: number[];
      updated: number[];
      deleted: number[];
      trashed: number[];
      at: string;
    };
    expect(m.created).toHaveLength(4);
    expect(m.updated).toHaveLength(60);
    const { all } = await pageAll(
      sim,
      `http://sim.test/v1/people?sort=updated&limit=25&updatedAfter=${cutoff}`,
      h,
    );
    expect(all.map((r) => r.id as number).sort((a, b) => a - b)).toEqual(
      [...m.created, ...m.updated].sort((a, b) => a - b),
    );
    expect(new Set(all.map((r) => r.updated))).toEqual(new Set([m.at]));
    const withTrash = await pageAll(
      sim,
      `http://sim.test/v1/people?sort=updated&limit=100&includeTrash=true&updatedAfter=${cutoff}`,
      h,
    );
    expect(withTrash.all).toHaveLength(4 + 60 + 2);
    for (const id of m.deleted)
      expect((await sim.app.request(`/v1/people/${id}`, { headers: h })).status).toBe(404);
    const after = (await (await sim.app.request("/_sim/tenants/delta/truth/people/summary")).json()) as Json;
    expect(after.deletedIds).toEqual([...m.deleted].sort((a, b) => a - b));
    const trashedBefore = new Set(before.trashedIds as number[]);
    const visibleDeleted = m.deleted.filter((id) => !trashedBefore.has(id)).length;
    expect(after.count).toBe((before.count as number) + 4 - visibleDeleted - 2);
    expect(after.maxUpdated).toBe(m.at);
  });

  it("mutations are deterministic for a seed", async () => {
    const a = createSimulator({ now: () => T0 });
    const b = createSimulator({ now: () => T0 });
    for (const s of [a, b]) s.putTenant("d", { seed: 77, counts: { people: 1000 } });
    expect(b.mutate("d", { updates: 10, deletes: 2, trash: 1 })).toEqual(
      a.mutate("d", { updates: 10, deletes: 2, trash: 1 }),
    );
  });

  it("a mutation stream runs in the background and stops", async () => {
    const s = createSimulator({ now: () => Date.now() });
    s.putTenant("st", { seed: 1, counts: { people: 100 } });
    s.startStream("st", { ratePerSec: 100, durationSec: 0.5, tickMs: 100 });
    await new Promise((r) => setTimeout(r, 800));
    const status = s.streams.get("st")?.status() as { running: boolean; applied: { updates: number } };
    expect(status.running).toBe(false);
    expect(status.applied.updates).toBeGreaterThan(10);
    await s.close();
  });
});

describe("rate limits and auth", () => {
  let clock = T0;
  const sim = createSimulator({ now: () => clock });
  sim.putTenant("rl", { seed: 2, systemKey: "sys-rl", counts: { people: 50 } });

  it("250 per sliding 10 s with a system key, then 429 + Retry-After; headers on every response", async () => {
    const h = auth("rl", "sys-rl");
    for (let i = 0; i < 250; i++) {
      clock = T0 + i * 10; // 250 requests over 2.5 s
      const res = await sim.app.request("/v1/people?limit=1", { headers: h });
      expect(res.status).toBe(200);
      expect(res.headers.get("X-RateLimit-Limit")).toBe("250");
      expect(res.headers.get("X-RateLimit-Remaining")).toBe(String(249 - i));
      expect(res.headers.get("X-RateLimit-Window")).toBe("10");
      expect(res.headers.get("X-RateLimit-Context")).toBe("global");
      await res.arrayBuffer();
    }
    clock = T0 + 3000;
    const limited = await sim.app.request("/v1/people?limit=1", { headers: h });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("7"); // oldest hit at T0 leaves the window at T0 + 10 s
    expect(limited.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(((await limited.json()) as Json).errorMessage).toBeTypeOf("string");
    clock = T0 + 10_001; // the first hit has left the window
    expect((await sim.app.request("/v1/people?limit=1", { headers: h })).status).toBe(200);
    const summary = (await (await sim.app.request("/_sim/tenants/rl")).json()) as {
      requests: { served: number; rateLimited: number };
    };
    expect(summary.requests.served).toBe(251);
    expect(summary.requests.rateLimited).toBe(1);
  });

  it("per-tenant override and disabling", async () => {
    sim.putTenant("rl2", {
      seed: 2,
      systemKey: "k2",
      counts: { people: 5 },
      rateLimit: { limit: 3, windowSec: 2 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await sim.app.request("/v1/people", { headers: auth("rl2", "k2") })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    sim.putTenant("rl3", { seed: 2, counts: { people: 5 }, rateLimit: false });
    for (let i = 0; i < 300; i++)
      expect((await sim.app.request("/v1/people", { headers: auth("rl3") })).status).toBe(200);
  });

  it("125 without a system key", async () => {
    const h = auth("rl");
    clock = T0 + 60_000;
    let first429 = -1;
    for (let i = 0; i < 130 && first429 < 0; i++) {
      const res = await sim.app.request("/v1/people?limit=1", { headers: h });
      if (res.status === 429) first429 = i;
      else expect(res.headers.get("X-RateLimit-Limit")).toBe("125");
    }
    expect(first429).toBe(125);
  });

  it("401 like FUB for missing or unknown keys and a wrong system key", async () => {
    for (const headers of [{}, auth("nope"), auth("rl", "wrong-key")]) {
      const res = await sim.app.request("/v1/people", { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as Json).errorMessage).toBeTypeOf("string");
      expect(res.headers.get("X-RateLimit-Limit")).not.toBeNull();
    }
  });
});

describe("webhooks", () => {
  it("delivers a signed thin payload whose uri returns the records; retries on non-2xx", async () => {
    const received: { body: Uint8Array; signature: string | null; contentType: string | null }[] = [];
    let failFirst = true;
    const capture: typeof fetch = async (_input, init) => {
      const body = new TextEncoder().encode(String(init?.body));
      const headers = new Headers(init?.headers);
      received.push({
        body,
        signature: headers.get("FUB-Signature"),
        contentType: headers.get("Content-Type"),
      });
      if (failFirst) {
        failFirst = false;
        return new Response("nope", { status: 500 });
      }
      return new Response("ok");
    };
    const sim = createSimulator({ now: () => T0, fetch: capture, baseUrl: "http://sim.test" });
    sim.putTenant("wh", { seed: 3, systemKey: "whsec", counts: { people: 200 }, webhookRetryScale: 0.001 });
    const h = { ...auth("wh", "whsec"), "Content-Type": "application/json" };
    const reg = await sim.app.request("/v1/webhooks", {
      method: "POST",
      headers: h,
      body: JSON.stringify({ event: "peopleUpdated", url: "https://receiver.test/hook" }),
    });
    expect(reg.status).toBe(201);
    expect(await reg.json()).toMatchObject({
      event: "peopleUpdated",
      url: "https://receiver.test/hook",
      status: "Active",
    });
    const list = (await (await sim.app.request("/v1/webhooks", { headers: h })).json()) as {
      webhooks: Json[];
    };
    expect(list.webhooks).toHaveLength(1);

    const m = sim.mutate("wh", { updates: 3 });
    for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received.length).toBe(2); // first attempt 500, retry after 60 ms (1 min x 0.001)
    const [first, second] = received as [(typeof received)[0], (typeof received)[0]];
    expect(new TextDecoder().decode(first.body)).toBe(new TextDecoder().decode(second.body));
    expect(first.contentType).toBe("application/json");
    expect(await verifyFub(second.body, second.signature, "whsec")).toBe(true);
    expect(await verifyFub(second.body, second.signature, "other")).toBe(false);
    const payload = JSON.parse(new TextDecoder().decode(second.body)) as {
      eventId: string;
      eventCreated: string;
      event: string;
      resourceIds: number[];
      uri: string;
    };
    expect(payload.event).toBe("peopleUpdated");
    expect(payload.resourceIds).toEqual([...m.updated].sort((a, b) => a - b));
    expect(payload.uri).toBe(`http://sim.test/v1/people?id=${payload.resourceIds.join(",")}`);
    const viaUri = (await (await sim.app.request(payload.uri, { headers: h })).json()) as { people: Json[] };
    expect(viaUri.people.map((p) => p.id as number).sort((a, b) => a - b)).toEqual(payload.resourceIds);
    const summary = (await (await sim.app.request("/_sim/tenants/wh")).json()) as { webhooks: Json };
    expect(summary.webhooks).toMatchObject({
      registered: 1,
      attempts: 2,
      acknowledged: 1,
      failedAttempts: 1,
    });
    const del = await sim.app.request(`/v1/webhooks/${(list.webhooks[0] as Json).id}`, {
      method: "DELETE",
      headers: h,
    });
    expect(del.status).toBe(204);
    await sim.close();
  });
});

describe("faults", () => {
  it("malformed records are deterministic per id and listed; truncation follows the seeded stream", async () => {
    const sim = createSimulator({ now: () => T0 });
    sim.putTenant("f", { seed: 9, systemKey: "sk", counts: { people: 500 }, rateLimit: false });
    const h = auth("f", "sk");
    sim.setFaults("f", { seed: 42, malformedRate: 0.05 });
    const bad = async () => {
      const { all } = await pageAll(sim, "http://sim.test/v1/people?limit=100&sort=id", h);
      return all.filter(
        (r) => typeof r.id !== "number" || typeof r.updated !== "string" || !/Z$/.test(r.updated),
      );
    };
    const first = await bad();
    const second = await bad();
    expect(first.length).toBeGreaterThan(5);
    expect(second).toEqual(first);
    const summary = (await (await sim.app.request("/_sim/tenants/f")).json()) as {
      malformedIds: { people: number[] };
    };
    expect(summary.malformedIds.people.length).toBe(first.length);

    const pattern = async () => {
      sim.setFaults("f", { seed: 7, truncateRate: 0.3 });
      const out: boolean[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await sim.app.request("/v1/people?limit=5", { headers: h });
        const text = await res.text();
        let ok = true;
        try {
          JSON.parse(text);
        } catch {
          ok = false;
        }
        out.push(ok);
      }
      return out;
    };
    const p1 = await pattern();
    const p2 = await pattern();
    expect(p1).toEqual(p2);
    expect(p1.filter((ok) => !ok).length).toBeGreaterThan(2);

    sim.setFaults("f", { seed: 1, errorRate: 1 });
    const e = await sim.app.request("/v1/people", { headers: h });
    expect([500, 502, 503]).toContain(e.status);
    sim.setFaults("f", { storm: { everyN: 3, durationSec: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await sim.app.request("/v1/people", { headers: h })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    await sim.close();
  });
});

describe("scale", () => {
  it("a keyset page of 100 at depth 900,000 of 1,000,000 people costs about the same as at depth 0", async () => {
    const sim = createSimulator({ now: () => T0 });
    sim.putTenant("big", { seed: 1, systemKey: "sk", counts: { people: 1_000_000 }, rateLimit: false });
    sim.mutate("big", { updates: 500, creates: 100, deletes: 50, trash: 20 });
    const h = auth("big", "sk");
    // Best of three: the machine is shared, and one slow sample says nothing about the cost of a page.
    const timePage = async (url: string) => {
      let best = Number.POSITIVE_INFINITY;
      let body: ListBody & Json = { _metadata: {} as ListBody["_metadata"] };
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        const got = await getJson(sim, url, h);
        best = Math.min(best, performance.now() - t);
        expect(got.res.status).toBe(200);
        expect(got.body.people as Json[]).toHaveLength(100);
        body = got.body;
      }
      return { ms: best, body };
    };
    for (let i = 0; i < 5; i++) await timePage("http://sim.test/v1/people?limit=100&sort=updated"); // warm up
    const shallow = await timePage("http://sim.test/v1/people?limit=100&sort=updated");
    // A cursor deep in the set: take the position of id 900,000 via idGreaterThan then follow `next`.
    const seek = await timePage("http://sim.test/v1/people?limit=100&sort=updated&idGreaterThan=900000");
    const deep = await timePage(seek.body._metadata.nextLink as string);
    const ids = (deep.body.people as Json[]).map((r) => r.id as number);
    expect(Math.min(...ids)).toBeGreaterThan(900_000);
    const deepUnfiltered = await timePage(
      `http://sim.test/v1/people?limit=100&sort=id&next=${encodeURIComponent(
        btoa(JSON.stringify({ k: "id", d: 0, v: 900_000, i: 900_000 })).replace(/=+$/, ""),
      )}`,
    );
    expect((deepUnfiltered.body.people as Json[])[0]?.id).toBeGreaterThan(900_000);
    const summary = await sim.app.request("/_sim/tenants/big/truth/people/summary");
    const sumBody = (await summary.json()) as { count: number };
    console.log(
      `[simulator] 1M people: page 100 at depth 0 ${shallow.ms.toFixed(2)} ms, at depth ~900k ${deep.ms.toFixed(2)} ms (cursor) / ${deepUnfiltered.ms.toFixed(2)} ms; visible ${sumBody.count}`,
    );
    expect(deep.ms).toBeLessThan(50);
    expect(deepUnfiltered.ms).toBeLessThan(50);
    await sim.close();
  });
});

describe("person-scoped lists and cascades at scale", () => {
  it("a person's texts out of 1,000,000 are listed and cascaded without materializing the set", async () => {
    const sim = createSimulator({ now: () => T0 });
    sim.putTenant("big", {
      seed: 8,
      systemKey: "sk",
      counts: { people: 1_000_000, textMessages: 1_000_000, calls: 1_000_000, events: 1_000_000 },
      rateLimit: false,
    });
    const h = auth("big", "sk");
    const t = sim.getTenant("big");
    // A person with several texts: the active third of people share the texts, about 3 each.
    let pid = 0;
    for (let p = 500_000; pid === 0; p++) if ((t?.stores.textMessages.childIds(p).length ?? 0) >= 3) pid = p;
    const expected = t?.stores.textMessages.childIds(pid) ?? [];
    let best = Number.POSITIVE_INFINITY;
    let got: Json[] = [];
    for (let k = 0; k < 3; k++) {
      const start = performance.now();
      const { all } = await pageAll(
        sim,
        `http://sim.test/v1/textMessages?personId=${pid}&limit=1&sort=updated`,
        h,
        "textMessages",
      );
      best = Math.min(best, performance.now() - start);
      got = all;
    }
    expect(got.map((r) => r.id as number).sort((a, b) => a - b)).toEqual(expected);
    expect(got.every((r) => r.personId === pid)).toBe(true);
    expect(best).toBeLessThan(50 * expected.length);
    const start = performance.now();
    const m = sim.mutate("big", { deleteIds: [pid] });
    const cascadeMs = performance.now() - start;
    expect(m.cascaded.textMessages).toEqual(expected);
    expect(cascadeMs).toBeLessThan(200);
    const after = await getJson(sim, `http://sim.test/v1/textMessages?personId=${pid}`, h);
    expect(after.body._metadata.total).toBe(0);
    console.log(
      `[simulator] 1M texts: ${expected.length} texts of person ${pid} in ${best.toFixed(1)} ms, cascade ${cascadeMs.toFixed(1)} ms`,
    );
    await sim.close();
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitForListening(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  let out = "";
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /simulator listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
}

describe("runtimes", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  });

  const check = async (url: string) => {
    const health = await fetch(`${url}/_sim/health`);
    expect(health.status).toBe(200);
    const put = await fetch(`${url}/_sim/tenants/rt`, {
      method: "PUT",
      body: JSON.stringify({ seed: 4, systemKey: "sk", counts: { people: 300 } }),
    });
    expect(put.status).toBe(201);
    const res = await fetch(`${url}/v1/people?limit=100&sort=updated`, { headers: auth("rt", "sk") });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-RateLimit-Limit")).toBe("250");
    const body = (await res.json()) as ListBody;
    expect(body.people as Json[]).toHaveLength(100);
    expect(body._metadata.nextLink?.startsWith(url)).toBe(true);
    return body;
  };

  let nodeBody: ListBody | undefined;
  beforeAll(async () => {
    const running = await startSimulator(0);
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      nodeBody = await check(running.url);
      // truth streams over HTTP too
      const truth = await fetch(`${running.url}/_sim/tenants/rt/truth/people`);
      expect((await truth.text()).split("\n").filter(Boolean).length).toBeGreaterThan(280);
    } finally {
      await running.close();
    }
  });

  it("starts under Node via startSimulator(0)", () => {
    expect(nodeBody?._metadata.total).toBeGreaterThan(0);
  });

  it("starts under Bun", async () => {
    const port = await freePort();
    const child = spawn(path.join(BIN, "bun"), ["tools/simulator/main.ts", "--port", String(port)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const url = await waitForListening(child);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const body = await check(url);
    // Same seed, same data on every runtime.
    expect((body.people as Json[]).map((r) => r.id)).toEqual(
      ((nodeBody?.people ?? []) as Json[]).map((r) => r.id),
    );
    child.kill("SIGTERM");
  });

  it("starts under Deno", async () => {
    const port = await freePort();
    const child = spawn(
      path.join(BIN, "deno"),
      ["run", "-A", "--sloppy-imports", "tools/simulator/main.ts", "--port", String(port)],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } },
    );
    children.push(child);
    const url = await waitForListening(child, 60_000);
    const body = await check(url);
    expect(body.people as Json[]).toEqual(nodeBody?.people);
    child.kill("SIGTERM");
  });
});

// Pins the FUB simulator's default behaviour to the published facts in PROVIDERS.md ("Follow Up
// Boss" and its "corrections and additions"): response shapes, required text filters, deal field
// names, timestamp-less stages and groups, rate contexts, error shape, webhook payload and
// signature, stage webhook names, silent cascades, and hostile data that stays put.

import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSimulator, type Simulator } from "../../tools/simulator/app";

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const SYSTEM_KEY = "facts-system-key";

type Json = Record<string, unknown>;
type Captured = { body: Uint8Array; signature: string | null; url: string };

function auth(apiKey: string, withSystemKey = true): Record<string, string> {
  return {
    Authorization: `Basic ${btoa(`${apiKey}:`)}`,
    ...(withSystemKey ? { "X-System": "facts", "X-System-Key": SYSTEM_KEY } : {}),
  };
}

function setup(opts: { people?: number; rateLimit?: false } = {}) {
  const clock = { now: T0 };
  const received: Captured[] = [];
  const sim = createSimulator({
    now: () => clock.now,
    baseUrl: "http://fub.test",
    fetch: async (input, init) => {
      const raw = init?.body;
      const body =
        typeof raw === "string" ? new TextEncoder().encode(raw) : new Uint8Array(raw as Uint8Array);
      received.push({ body, signature: new Headers(init?.headers).get("FUB-Signature"), url: String(input) });
      return new Response("ok");
    },
  });
  sim.putTenant("facts", {
    seed: 21,
    systemKey: SYSTEM_KEY,
    counts: { people: opts.people ?? 600, deals: 160, textMessages: 900, calls: 500, events: 1200 },
    ...(opts.rateLimit === false ? { rateLimit: false as const } : {}),
  });
  const h = auth("facts");
  const get = async (path: string, headers = h) => {
    const res = await sim.app.request(`http://fub.test${path}`, { headers });
    const text = await res.text();
    return { res, text, body: JSON.parse(text) as Json };
  };
  return { sim, clock, received, h, get };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function register(sim: Simulator, event: string) {
  return sim.app.request("http://fub.test/v1/webhooks", {
    method: "POST",
    headers: { ...auth("facts"), "Content-Type": "application/json" },
    body: JSON.stringify({ event, url: `https://receiver.test/${event}` }),
  });
}

const TIMESTAMP_KEYS = ["created", "updated", "createdAt", "updatedAt"];

describe("list envelope and errors", () => {
  const { sim, get } = setup({ rateLimit: false });

  it("every list answers {_metadata: {collection, offset, limit, total, next, nextLink}, <collection>: [...]}", async () => {
    const paths: [string, string][] = [
      ["people", "/v1/people?limit=5"],
      ["deals", "/v1/deals?limit=5"],
      ["events", "/v1/events?limit=5"],
      ["calls", "/v1/calls?limit=5"],
      ["textMessages", "/v1/textMessages?personId=1&limit=5"],
      ["appointments", "/v1/appointments?limit=5"],
      ["users", "/v1/users?limit=5"],
      ["groups", "/v1/groups?limit=2"],
      ["stages", "/v1/stages?limit=5"],
    ];
    for (const [collection, path] of paths) {
      const { res, body } = await get(path);
      expect(res.status, collection).toBe(200);
      expect(Object.keys(body).sort()).toEqual(["_metadata", collection].sort());
      const meta = body._metadata as Json;
      expect(Object.keys(meta).sort()).toEqual([
        "collection",
        "limit",
        "next",
        "nextLink",
        "offset",
        "total",
      ]);
      expect(meta.collection).toBe(collection);
      expect(Array.isArray(body[collection])).toBe(true);
      if ((meta.total as number) > (meta.limit as number)) {
        expect(typeof meta.next).toBe("string");
        expect(String(meta.nextLink)).toContain(`next=${encodeURIComponent(String(meta.next))}`);
      }
    }
  });

  it('errors are {"errorMessage": "..."} and nothing else (400, 401, 404)', async () => {
    const cases = [
      await get("/v1/people?sort=bogus"),
      await get("/v1/people", {}),
      await get("/v1/people/999999999"),
      await get("/v1/nothing"),
    ];
    expect(cases.map((c) => c.res.status)).toEqual([400, 401, 404, 404]);
    for (const c of cases) {
      expect(Object.keys(c.body)).toEqual(["errorMessage"]);
      expect(typeof c.body.errorMessage).toBe("string");
    }
    await sim.close();
  });
});

describe("text messages are listed per person", () => {
  const { sim, get } = setup({ rateLimit: false });
  const t = sim.getTenant("facts");

  it("unfiltered → 400 errorMessage; personId, toNumber, fromNumber or an id list → 200", async () => {
    const bare = await get("/v1/textMessages");
    expect(bare.res.status).toBe(400);
    expect(Object.keys(bare.body)).toEqual(["errorMessage"]);
    for (const q of ["?limit=100", "?sort=updated", "?updatedAfter=2020-01-01T00:00:00Z", "?personId="]) {
      expect((await get(`/v1/textMessages${q}`)).res.status, q).toBe(400);
    }
    expect((await get("/v1/textMessages?id=1,2,3")).res.status).toBe(200);
    expect((await get("/v1/textMessages/1")).res.status).toBe(200);
  });

  it("every text's person exists, and listing each person's texts yields every text exactly once", async () => {
    const seen = new Map<number, number>();
    for (let pid = 1; pid <= 600; pid++) {
      let url: string | null = `/v1/textMessages?personId=${pid}&limit=2&sort=updated`;
      while (url) {
        const { res, body } = await get(url.replace("http://fub.test", ""));
        expect(res.status).toBe(200);
        for (const m of body.textMessages as Json[]) {
          expect(m.personId).toBe(pid);
          seen.set(m.id as number, (seen.get(m.id as number) ?? 0) + 1);
        }
        url = (body._metadata as Json).nextLink as string | null;
      }
    }
    expect(seen.size).toBe(900);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    for (const x of t?.stores.textMessages.walk() ?? []) {
      expect(t?.stores.people.exists(x.record?.personId as number), `text ${x.id}`).toBe(true);
    }
  });

  it("toNumber / fromNumber select by the number on that side; filters and paging still apply", async () => {
    const some = (await get("/v1/textMessages?id=1,2,3,4,5,6,7,8,9,10,11,12")).body.textMessages as Json[];
    const one = some.find((m) => m.isIncoming === false) as Json; // toNumber is the person's phone
    const byTo = await get(`/v1/textMessages?toNumber=${encodeURIComponent(String(one.toNumber))}&limit=100`);
    expect(byTo.res.status).toBe(200);
    const list = byTo.body.textMessages as Json[];
    expect(list.map((m) => m.id)).toContain(one.id);
    expect(list.every((m) => m.toNumber === one.toNumber)).toBe(true);
    expect(list.every((m) => m.personId === one.personId)).toBe(true);
    const byFrom = await get("/v1/textMessages?fromNumber=(555)%20010-0000&limit=100");
    expect((byFrom.body.textMessages as Json[]).every((m) => m.isIncoming === false)).toBe(true);
    expect((byFrom.body._metadata as Json).total).toBeGreaterThan(300);
    const pid = one.personId as number;
    const all = (await get(`/v1/textMessages?personId=${pid}&limit=100&sort=id`)).body.textMessages as Json[];
    const after = await get(`/v1/textMessages?personId=${pid}&limit=100&sort=id&idGreaterThan=${all[0]?.id}`);
    expect((after.body.textMessages as Json[]).length).toBe(all.length - 1);
    await sim.close();
  });
});

describe("deals", () => {
  const { sim, clock, get } = setup({ rateLimit: false });

  it("carry createdAt/updatedAt (never created/updated) and the published deal fields", async () => {
    const { body } = await get("/v1/deals?limit=100&includeArchived=true&includeDeleted=true");
    const deals = body.deals as Json[];
    expect(deals.length).toBe(100);
    const statuses = new Set<unknown>();
    for (const d of deals) {
      expect(d).not.toHaveProperty("created");
      expect(d).not.toHaveProperty("updated");
      expect(d.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(d.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(["Active", "Archived", "Deleted"]).toContain(d.status);
      statuses.add(d.status);
      expect(typeof d.stageName).toBe("string");
      expect(typeof d.pipelineName).toBe("string");
      expect(d.enteredStageAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(d.projectedCloseDate).toMatch(/^\d{4}-\d\d-\d\d$/);
      if (d.closeDate !== undefined) expect(d.closeDate).toMatch(/^\d{4}-\d\d-\d\d$/);
      for (const k of ["commissionValue", "agentCommission", "teamCommission", "price"])
        expect(typeof d[k], k).toBe("number");
      for (const k of ["people", "users"]) {
        for (const x of d[k] as Json[]) expect(Object.keys(x).sort()).toEqual(["id", "name"]);
      }
    }
    expect(statuses).toEqual(new Set(["Active", "Archived", "Deleted"]));
    expect(deals.some((d) => d.closeDate !== undefined)).toBe(true);
  });

  it("lists hide Archived and Deleted unless includeArchived / includeDeleted", async () => {
    const total = async (q: string) =>
      ((await get(`/v1/deals?limit=1${q}`)).body._metadata as Json).total as number;
    const active = await total("");
    const withArchived = await total("&includeArchived=true");
    const withDeleted = await total("&includeDeleted=true");
    const all = await total("&includeArchived=true&includeDeleted=true");
    expect(active).toBeLessThan(withArchived);
    expect(active).toBeLessThan(withDeleted);
    expect(all).toBe(160);
    expect(all - active).toBe(withArchived - active + (withDeleted - active));
    const listed = (await get("/v1/deals?limit=100")).body.deals as Json[];
    expect(listed.every((d) => d.status === "Active")).toBe(true);
  });

  it("updatedAfter and sort=updated / updatedAt work on updatedAt", async () => {
    clock.now += 3_600_000;
    const m = sim.mutate("facts", { entity: "deals", updates: 5, creates: 2 });
    const since = "2025-01-01T00:00:00Z";
    for (const sort of ["updated", "updatedAt"]) {
      const { res, body } = await get(
        `/v1/deals?updatedAfter=${since}&sort=${sort}&limit=100&includeArchived=true`,
      );
      expect(res.status).toBe(200);
      const ids = (body.deals as Json[]).map((d) => d.id as number).sort((a, b) => a - b);
      expect(ids).toEqual([...m.created, ...m.updated].sort((a, b) => a - b));
      expect((body.deals as Json[]).every((d) => d.updatedAt === m.at)).toBe(true);
    }
    const desc = (await get("/v1/deals?sort=-updatedAt&limit=3&includeArchived=true")).body.deals as Json[];
    expect(desc[0]?.updatedAt).toBe(m.at);
    await sim.close();
  });
});

describe("stages and groups have no timestamps", () => {
  const { sim, clock, received, get } = setup({ rateLimit: false });

  it("no created/updated keys; date filters ignored; sort only by orderWeight (stages), id, name", async () => {
    for (const entity of ["stages", "groups"]) {
      const plain = await get(`/v1/${entity}?limit=100`);
      const records = plain.body[entity] as Json[];
      expect(records.length).toBeGreaterThan(0);
      for (const r of records)
        for (const k of TIMESTAMP_KEYS) expect(r, `${entity} ${k}`).not.toHaveProperty(k);
      const filtered = await get(
        `/v1/${entity}?limit=100&updatedAfter=2099-01-01T00:00:00Z&createdBefore=nonsense`,
      );
      expect(filtered.res.status).toBe(200);
      expect(filtered.body[entity]).toEqual(records);
      for (const bad of ["updated", "-updated", "created", "updatedAt", "lastActivity"]) {
        const r = await get(`/v1/${entity}?sort=${bad}`);
        expect(r.res.status, `${entity} sort=${bad}`).toBe(400);
        expect(Object.keys(r.body)).toEqual(["errorMessage"]);
      }
      const byName = (await get(`/v1/${entity}?sort=name&limit=100`)).body[entity] as Json[];
      const names = byName.map((r) => String(r.name));
      expect(names).toEqual([...names].sort());
      expect((await get(`/v1/${entity}?sort=-id&limit=100`)).res.status).toBe(200);
    }
    const stages = (await get("/v1/stages?sort=orderWeight&limit=100")).body.stages as Json[];
    const weights = stages.map((s) => s.orderWeight as number);
    expect(weights.every((w) => typeof w === "number")).toBe(true);
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
    expect((await get("/v1/groups?sort=orderWeight")).res.status).toBe(400);
  });

  it("stage changes fire stageCreated / stageUpdated / stageDeleted; groups fire nothing; plural names are refused", async () => {
    for (const e of ["stageCreated", "stageUpdated", "stageDeleted"])
      expect((await register(sim, e)).status).toBe(201);
    for (const e of ["stagesCreated", "stagesUpdated", "groupsCreated", "groupsUpdated", "groupsDeleted"]) {
      const res = await register(sim, e);
      expect(res.status, e).toBe(400);
      expect(Object.keys((await res.json()) as Json)).toEqual(["errorMessage"]);
    }
    clock.now += 60_000;
    const before = (await get("/v1/stages?limit=100")).body.stages as Json[];
    const s = sim.mutate("facts", { entity: "stages", creates: 1, updates: 2, deletes: 1 });
    expect(s.webhooks.map((w) => w.event)).toEqual(["stageCreated", "stageUpdated", "stageDeleted"]);
    const after = (await get("/v1/stages?limit=100")).body.stages as Json[];
    for (const id of s.updated) {
      const a = after.find((x) => x.id === id);
      const b = before.find((x) => x.id === id);
      expect(a).not.toEqual(b); // content is all a reader can compare
      for (const k of TIMESTAMP_KEYS) expect(a).not.toHaveProperty(k);
    }
    expect(after.some((x) => x.id === s.created[0])).toBe(true);
    expect(after.some((x) => x.id === s.deleted[0])).toBe(false);
    const g = sim.mutate("facts", { entity: "groups", creates: 1, updates: 2, deletes: 1 });
    expect(g.webhooks).toEqual([]);
    expect(g.created).toHaveLength(1);
    expect(g.updated).toHaveLength(2);
    expect(g.deleted).toHaveLength(1);
    await waitFor(() => received.length >= 3);
    expect(received.map((r) => JSON.parse(new TextDecoder().decode(r.body)).event)).toEqual([
      "stageCreated",
      "stageUpdated",
      "stageDeleted",
    ]);
    await sim.close();
  });
});

describe("rate limits per context", () => {
  it("GET /v1/events: 20 per sliding 10 s in context `events`, beside `global` 250; 10 without a system key", async () => {
    const { sim, clock, get } = setup();
    for (let i = 0; i < 20; i++) {
      clock.now = T0 + i * 100;
      const { res } = await get(i % 2 === 0 ? "/v1/events?limit=1" : "/v1/events/1");
      expect(res.status).toBe(200);
      expect(res.headers.get("X-RateLimit-Context")).toBe("events");
      expect(res.headers.get("X-RateLimit-Limit")).toBe("20");
      expect(res.headers.get("X-RateLimit-Remaining")).toBe(String(19 - i));
      expect(res.headers.get("X-RateLimit-Window")).toBe("10");
    }
    clock.now = T0 + 5000;
    const limited = await get("/v1/events?limit=1");
    expect(limited.res.status).toBe(429);
    expect(limited.res.headers.get("X-RateLimit-Context")).toBe("events");
    expect(limited.res.headers.get("Retry-After")).toBe("5");
    expect(Object.keys(limited.body)).toEqual(["errorMessage"]);
    // The global context is untouched by the events requests.
    const people = await get("/v1/people?limit=1");
    expect(people.res.status).toBe(200);
    expect(people.res.headers.get("X-RateLimit-Context")).toBe("global");
    expect(people.res.headers.get("X-RateLimit-Limit")).toBe("250");
    expect(people.res.headers.get("X-RateLimit-Remaining")).toBe("249");
    clock.now = T0 + 10_001;
    expect((await get("/v1/events?limit=1")).res.status).toBe(200);

    // Without a system key: 10 in events, 125 in global.
    clock.now = T0 + 100_000;
    const noKey = auth("facts", false);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await get("/v1/events?limit=1", noKey)).res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses[10]).toBe(429);
    expect((await get("/v1/people?limit=1", noKey)).res.headers.get("X-RateLimit-Limit")).toBe("125");

    // Global: 250 then 429 in context global.
    clock.now = T0 + 200_000;
    let first429 = -1;
    for (let i = 0; i < 260 && first429 < 0; i++) {
      const { res } = await get("/v1/calls?limit=1");
      if (res.status === 429) {
        first429 = i;
        expect(res.headers.get("X-RateLimit-Context")).toBe("global");
      }
    }
    expect(first429).toBe(250);

    const stats = (await (await sim.app.request("/_sim/tenants/facts/stats")).json()) as {
      contexts: Record<
        string,
        { served: number; rateLimited: number; maxInWindow: number; maxAttemptsInWindow: number }
      >;
    };
    expect(stats.contexts.events).toMatchObject({ rateLimited: 2, maxInWindow: 20 });
    expect(stats.contexts.events?.served).toBe(20 + 1 + 10);
    expect(stats.contexts.events?.maxAttemptsInWindow).toBe(21);
    expect(stats.contexts.global).toMatchObject({ rateLimited: 1, maxInWindow: 250 });
    await sim.close();
  });
});

describe("webhooks", () => {
  it("payload {eventId, eventCreated, event, resourceIds, uri}; FUB-Signature = hex HMAC-SHA256(system key, base64(body))", async () => {
    const { sim, clock, received, h } = setup({ rateLimit: false });
    expect((await register(sim, "peopleUpdated")).status).toBe(201);
    expect((await register(sim, "peopleDeleted")).status).toBe(201);
    clock.now += 60_000;
    const m = sim.mutate("facts", { updates: 3, deletes: 1 });
    await waitFor(() => received.length >= 2);
    for (const r of received) {
      const text = new TextDecoder().decode(r.body);
      const payload = JSON.parse(text) as Json;
      expect(Object.keys(payload).sort()).toEqual(["event", "eventCreated", "eventId", "resourceIds", "uri"]);
      expect(payload.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(payload.eventCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      const expected = createHmac("sha256", SYSTEM_KEY)
        .update(Buffer.from(r.body).toString("base64"))
        .digest("hex");
      expect(r.signature).toBe(expected);
      if (payload.event === "peopleDeleted") {
        expect(payload.resourceIds).toEqual(m.deleted);
        // Deleted records can no longer be fetched: the event carries ids only.
        const gone = await sim.app.request(String(payload.uri), { headers: h });
        expect(gone.status).toBe(404);
      } else {
        expect(payload.event).toBe("peopleUpdated");
        expect(payload.resourceIds).toEqual([...m.updated].sort((a, b) => a - b));
      }
    }
    await sim.close();
  });
});

describe("deleting a person", () => {
  it("deletes the person's calls, texts and events silently (no webhook), in the API and the truth", async () => {
    const { sim, clock, received, get } = setup({ rateLimit: false });
    for (const e of ["peopleDeleted", "callsDeleted", "textMessagesDeleted", "eventsDeleted"])
      expect((await register(sim, e)).status).toBe(201);
    const t = sim.getTenant("facts");
    // A person that has children of all three kinds.
    let pid = 0;
    for (let p = 1; p <= 600 && pid === 0; p++) {
      if (
        (["calls", "textMessages", "events"] as const).every(
          (e) => (t?.stores[e].childIds(p).length ?? 0) > 0,
        )
      )
        pid = p;
    }
    expect(pid).toBeGreaterThan(0);
    const children = {
      calls: t?.stores.calls.childIds(pid) ?? [],
      textMessages: t?.stores.textMessages.childIds(pid) ?? [],
      events: t?.stores.events.childIds(pid) ?? [],
    };
    const listed = (await get(`/v1/textMessages?personId=${pid}&limit=100`)).body.textMessages as Json[];
    expect(listed.map((m) => m.id as number).sort((a, b) => a - b)).toEqual(children.textMessages);

    clock.now += 60_000;
    const m = sim.mutate("facts", { deleteIds: [pid] });
    expect(m.deleted).toContain(pid);
    expect(m.cascaded).toEqual(children);
    for (const [entity, ids] of Object.entries(children)) {
      for (const id of ids)
        expect((await get(`/v1/${entity}/${id}`)).res.status, `${entity} ${id}`).toBe(404);
      const summary = (await (
        await sim.app.request(`/_sim/tenants/facts/truth/${entity}/summary`)
      ).json()) as Json;
      for (const id of ids) expect(summary.deletedIds).toContain(id);
      const truth = await (await sim.app.request(`/_sim/tenants/facts/truth/${entity}`)).text();
      const truthIds = new Set(
        truth
          .split("\n")
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as Json).id),
      );
      for (const id of ids) expect(truthIds.has(id)).toBe(false);
    }
    expect((await get(`/v1/textMessages?personId=${pid}`)).body._metadata).toMatchObject({ total: 0 });
    await new Promise((r) => setTimeout(r, 100));
    const events = received.map((r) => JSON.parse(new TextDecoder().decode(r.body)).event as string);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events)).toEqual(new Set(["peopleDeleted"]));
    // Later records never point at the deleted person.
    const created = sim.mutate("facts", { entity: "textMessages", creates: 50 });
    for (const id of created.created)
      expect(t?.stores.people.exists(t.stores.textMessages.get(id)?.record.personId as number)).toBe(true);
    await sim.close();
  });
});

describe("hostile data", () => {
  it("hostile records are the same by id, in lists and via webhook uris, and the truth lists them", async () => {
    const { sim, clock, received, get, h } = setup({ rateLimit: false });
    expect((await register(sim, "peopleCreated")).status).toBe(201);
    clock.now += 60_000;
    const m = sim.mutate("facts", { hostile: 8 });
    expect(m.hostile.map((x) => x.kind)).toEqual([
      "nul",
      "surrogate",
      "control",
      "emoji",
      "long",
      "deep",
      "bignum",
      "bigId",
    ]);
    const big = m.hostile.find((x) => x.kind === "bigId")?.id as number;
    expect(big).toBeGreaterThan(2 ** 31);
    const listed = await get("/v1/people?limit=100&sort=-updated");
    const byId = new Map((listed.body.people as Json[]).map((p) => [p.id as number, p]));
    const texts = new Map<number, string>();
    for (const { id, kind } of m.hostile) {
      const one = await get(`/v1/people/${id}`);
      expect(one.res.status).toBe(200);
      expect(byId.has(id)).toBe(true);
      // Byte-identical in the list (compared as text: 10,000 levels are too deep for a structural equal).
      expect(listed.text).toContain(one.text);
      expect((await get(`/v1/people/${id}`)).text).toBe(one.text);
      texts.set(id, one.text);
      if (kind === "nul") expect(one.text).toContain("\\u0000");
      if (kind === "surrogate") expect(one.text).toContain("\\udc00");
      if (kind === "long")
        expect(new TextEncoder().encode(String(one.body.lastName)).length).toBeGreaterThan(1_000_000);
      if (kind === "deep") expect(one.text).toContain("[".repeat(10_000));
      if (kind === "bignum") expect(one.text).toContain("18446744073709551617");
    }
    await waitFor(() => received.length >= 1);
    const payload = JSON.parse(new TextDecoder().decode(received[0]?.body)) as Json;
    expect(payload.resourceIds).toEqual(m.hostile.map((x) => x.id));
    const viaUri = await (await sim.app.request(String(payload.uri), { headers: h })).text();
    for (const text of texts.values()) expect(viaUri).toContain(text);
    const hostile = (await (await sim.app.request("/_sim/tenants/facts/truth/people/hostile")).json()) as {
      records: { id: number; kind: string; field: string }[];
    };
    expect(hostile.records.map((r) => [r.id, r.kind])).toEqual(m.hostile.map((x) => [x.id, x.kind]));
    expect(hostile.records.find((r) => r.kind === "deep")?.field).toBe("extraNested");
    const truth = await (await sim.app.request("/_sim/tenants/facts/truth/people")).text();
    const lines = truth.split("\n").filter(Boolean);
    const truthLast = JSON.parse(lines[lines.length - 1] as string) as Json;
    expect(truthLast.id).toBe(big);
    await sim.close();
  });

  it("the rate knob makes base records hostile, identically on every fetch, until it is turned off", async () => {
    const { sim, get } = setup({ rateLimit: false });
    sim.setFaults("facts", { hostile: { rate: 0.05, kinds: ["nul", "surrogate", "deep", "bignum"] } });
    const hostile = (await (await sim.app.request("/_sim/tenants/facts/truth/calls/hostile")).json()) as {
      records: { id: number; kind: string }[];
    };
    expect(hostile.records.length).toBeGreaterThan(5);
    const first = (await get("/v1/calls?limit=100&sort=id")).text;
    expect((await get("/v1/calls?limit=100&sort=id")).text).toBe(first);
    const ids = new Set(hostile.records.map((r) => r.id));
    for (const c of JSON.parse(first).calls as Json[]) {
      const isHostile = typeof c.note === "string" || "extraNested" in c || "extraNumbers" in c;
      expect(isHostile, `call ${c.id}`).toBe(ids.has(c.id as number));
    }
    sim.setFaults("facts", {});
    const off = (await (await sim.app.request("/_sim/tenants/facts/truth/calls/hostile")).json()) as Json;
    expect(off.records).toEqual([]);
    await sim.close();
  });

  it("signed webhooks with hostile bodies: NUL / lone surrogates in eventId, event, uri; deep nesting; invalid UTF-8", async () => {
    const { sim, received } = setup({ rateLimit: false });
    const sent = sim.sendHostileWebhooks("facts", { url: "https://receiver.test/hostile" });
    expect(sent.map((s) => s.kind)).toEqual([
      "nul-eventId",
      "surrogate-eventId",
      "nul-event",
      "surrogate-event",
      "nul-uri",
      "surrogate-uri",
      "control-eventId",
      "deep-nesting",
      "deep-resourceIds",
      "invalid-utf8",
    ]);
    await waitFor(() => received.length >= sent.length);
    for (const [i, r] of received.entries()) {
      const expected = createHmac("sha256", SYSTEM_KEY)
        .update(Buffer.from(r.body).toString("base64"))
        .digest("hex");
      expect(r.signature).toBe(expected);
      const text = new TextDecoder().decode(r.body);
      const kind = sent[i]?.kind;
      if (kind === "nul-eventId") expect(JSON.parse(text).eventId).toContain("\u0000");
      if (kind === "surrogate-event") expect(JSON.parse(text).event).toContain("\ud800");
      if (kind === "surrogate-uri") expect(JSON.parse(text).uri).toContain("\udfff");
      if (kind === "deep-nesting") expect(text).toContain("[".repeat(10_000));
      if (kind === "invalid-utf8") expect([...r.body].includes(0xff)).toBe(true);
    }
    await sim.close();
  });
});

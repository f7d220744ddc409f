// Pins the SkySlope simulator to the facts (../shared/PROVIDERS-WAVE2.md §3) and the vendor sample
// (../shared/fixtures/skyslope): the signed login and its check vector, the Session header, envelopes and
// record keys in the sample's order, offset-less times with varying fraction digits, the .NET unset date,
// api/files' 7-day default window, links[rel=next] paging, users and offices shapes, and the fault knobs.

import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSkyslopeSimulator } from "../../tools/simulator-skyslope/app";
import { expectedSignature } from "../../tools/simulator-skyslope/auth";

const FIXTURE = new URL("../../../shared/fixtures/skyslope/files.value.readme-sample.json", import.meta.url);
const FACTS = new URL("../../../shared/PROVIDERS-WAVE2.md", import.meta.url);
const BASE = "http://skyslope.test";
const KEYS = {
  accessKey: "facts-key",
  accessSecret: "facts-secret",
  clientId: "facts-client",
  clientSecret: "facts-client-secret",
};

type Json = Record<string, unknown>;
const sample = JSON.parse(readFileSync(FIXTURE, "utf8")) as Json[];
const facts = readFileSync(FACTS, "utf8");

/** Signed independently of the simulator and the connector: Node's crypto over the published message. */
function nodeSignature(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message).digest("base64");
}

function setup(opts: Parameters<typeof createSkyslopeSimulator>[0] = {}) {
  const clock = { now: Date.UTC(2026, 2, 1, 12) };
  const sim = createSkyslopeSimulator({
    now: () => clock.now,
    ...opts,
    auth: {
      partners: { [KEYS.accessKey]: KEYS.accessSecret },
      clients: { [KEYS.clientId]: KEYS.clientSecret },
      ...opts.auth,
    },
  });
  const req = (path: string, init: RequestInit = {}) => sim.fetch(new Request(`${BASE}${path}`, init));
  const login = async (o: { ts?: string; scheme?: string; body?: Json; secret?: string } = {}) => {
    const ts = o.ts ?? new Date(clock.now).toISOString().replace(/\.\d+Z$/, "Z");
    const sig = nodeSignature(o.secret ?? KEYS.accessSecret, `${KEYS.clientId}:${KEYS.clientSecret}:${ts}`);
    return req("/auth/login", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        Timestamp: ts,
        Authorization: `${o.scheme ?? "SS"} ${KEYS.accessKey}:${sig}`,
      },
      body: JSON.stringify(o.body ?? { clientID: KEYS.clientId, clientSecret: KEYS.clientSecret }),
    });
  };
  const session = async () => ((await (await login()).json()) as { Session: string }).Session;
  const get = async (path: string, s: string) => req(path, { headers: { Session: s } });
  return { sim, clock, req, login, session, get };
}

describe("the facts file and the sample this simulator is written from", () => {
  it("still say what the simulator relies on", () => {
    for (const fact of [
      "POST https://api.skyslope.com/auth/login",
      "Authorization: SS <accessKey>:<signature>",
      '{"Session": "<token>", "Expiration": "<datetime>"}',
      "header `Session: <token>`",
      "**default = files created in the last 7 days**",
      "`0001-01-01T00:00:00`",
      "JIdEDJrGPEPraV3S/86CCiZyl1tPzhT2Lg6zNRSjJVg=",
    ])
      expect(facts).toContain(fact);
    expect(sample.map((r) => r.objectType)).toEqual(["sale", "listing", "sale"]);
  });
});

describe("login", () => {
  it("the published check vector holds for Node's HMAC and the simulator's Web Crypto alike", async () => {
    const msg = "clientId-EXAMPLE:clientSecret-EXAMPLE:2020-10-13T18:38:42Z";
    expect(nodeSignature("accessSecret-EXAMPLE", msg)).toBe("JIdEDJrGPEPraV3S/86CCiZyl1tPzhT2Lg6zNRSjJVg=");
    expect(await expectedSignature("accessSecret-EXAMPLE", msg)).toBe(
      "JIdEDJrGPEPraV3S/86CCiZyl1tPzhT2Lg6zNRSjJVg=",
    );
  });

  it("answers {Session, Expiration} (offset-less) to a signed login; lowercase ss, ClientId keys and ms timestamps pass", async () => {
    const { login, clock } = setup();
    const ok = await login();
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Json;
    expect(Object.keys(body)).toEqual(["Session", "Expiration"]);
    expect(body.Expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/);
    expect((await login({ scheme: "ss" })).status).toBe(200);
    expect((await login({ body: { ClientId: KEYS.clientId, ClientSecret: KEYS.clientSecret } })).status).toBe(
      200,
    );
    expect((await login({ ts: new Date(clock.now).toISOString() })).status).toBe(200);
  });

  it("refuses a bad signature, a skewed Timestamp and an unsigned login with 401", async () => {
    const { login, clock, sim, req } = setup();
    expect((await login({ secret: "wrong" })).status).toBe(401);
    expect((await login({ ts: new Date(clock.now - 6 * 60_000).toISOString() })).status).toBe(401);
    expect((await req("/auth/login", { method: "POST", body: "{}" })).status).toBe(401);
    expect(sim.stats.refusedReasons).toEqual({ bad_signature: 1, skew: 1, no_signature: 1 });
  });

  it("sessions go in the Session header and expire (401 after Expiration, or when the control plane drops them)", async () => {
    const { session, get, clock, req } = setup({ auth: { sessionTtlSec: 60 } });
    const s = await session();
    expect((await get("/api/offices", s)).status).toBe(200);
    expect((await req("/api/offices")).status).toBe(401);
    expect((await req("/api/offices", { headers: { Authorization: `Bearer ${s}` } })).status).toBe(401);
    clock.now += 61_000;
    expect((await get("/api/offices", s)).status).toBe(401);
    const s2 = await session();
    await req("/_sim/sessions/expire", { method: "POST" });
    expect((await get("/api/offices", s2)).status).toBe(401);
  });
});

describe("files", () => {
  it("carry the sample's keys in its order, per objectType, with lowercase GUID ids", async () => {
    const { session, get } = setup();
    const s = await session();
    const body = (await (await get("/api/files?createdAfter=1900-01-01T00:00:00", s)).json()) as Json;
    expect(Object.keys(body)).toEqual(["value", "links"]);
    const value = body.value as Json[];
    for (const kind of ["sale", "listing"]) {
      const ours = value.find((r) => r.objectType === kind) as Json;
      const theirs = sample.find((r) => r.objectType === kind) as Json;
      expect(Object.keys(ours)).toEqual(Object.keys(theirs));
      expect(String(ours[kind === "sale" ? "saleGuid" : "listingGuid"])).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    }
  });

  it("write offset-less times with varying fraction digits, midnight dates and the .NET unset date", async () => {
    const { sim } = setup();
    const records = sim.store.truth().transactions.map((t) => t.record);
    const digits = new Set(records.map((r) => /\.(\d+)$/.exec(String(r.modifiedOn))?.[1]?.length ?? 0));
    expect(digits.size).toBeGreaterThanOrEqual(3);
    for (const r of records)
      expect(String(r.modifiedOn)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/);
    expect(records.some((r) => r.contractAcceptanceDate === "0001-01-01T00:00:00")).toBe(true);
    expect(
      records.every((r) => r.escrowClosingDate === null || /T00:00:00$/.test(String(r.escrowClosingDate))),
    ).toBe(true);
    // The sample shows the same shapes.
    expect(sample[2]?.contractAcceptanceDate).toBe("0001-01-01T00:00:00");
    expect(sample.map((r) => String(r.modifiedOn).split(".")[1]?.length)).toEqual([3, 2, 3]);
  });

  it("api/files without a filter answers only files created in the last 7 days; a filter lifts that", async () => {
    const { session, get, req, sim } = setup({ counts: { sales: 30, listings: 0 } });
    const s = await session();
    const recent = await (
      await req("/_sim/mutate", { method: "POST", body: JSON.stringify({ kind: "sale", creates: 2 }) })
    ).json();
    const bare = ((await (await get("/api/files", s)).json()) as { value: Json[] }).value;
    const weekAgo = sim.dataNow() - 7 * 86_400_000;
    const recentTruth = sim.store.truth().transactions.filter((t) => Date.parse(t.createdAt) > weekAgo);
    expect(recentTruth.length).toBeLessThan(32);
    expect(bare.map((r) => r.saleGuid).sort()).toEqual(recentTruth.map((t) => t.guid).sort());
    for (const id of (recent as { created: string[] }).created)
      expect(bare.map((r) => r.saleGuid)).toContain(id);
    const all = (
      (await (await get("/api/files?createdAfter=1900-01-01T00:00:00", s)).json()) as { value: Json[] }
    ).value;
    expect(all).toHaveLength(32);
    expect((await get("/api/files?modifiedAfter=yesterday", s)).status).toBe(400);
  });

  it("lists page by links[rel=next] (1-based pageNumber) on the sales and listings endpoints and on api/files", async () => {
    const { session, get } = setup({ counts: { sales: 120, listings: 0 } });
    const s = await session();
    for (const start of ["/api/files/sales", "/api/files?type=sale&createdAfter=1900-01-01T00:00:00"]) {
      let url: string | null = start;
      const seen: string[] = [];
      let pages = 0;
      while (url) {
        const body = (await (await get(url.replace(BASE, ""), s)).json()) as { value: Json[]; links: Json[] };
        seen.push(...body.value.map((r) => String(r.saleGuid)));
        const next = body.links.find((l) => l.rel === "next");
        expect(body.links.every((l) => l.method === "GET")).toBe(true);
        url = next ? String(next.href) : null;
        pages++;
      }
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(120);
    }
  });

  it("one file answers {value: {...}}; a removed one 404s", async () => {
    const { session, get, sim, req } = setup();
    const s = await session();
    const id = sim.store.truth().transactions[0]?.guid;
    expect(((await (await get(`/api/files/sales/${id}`, s)).json()) as { value: Json }).value.saleGuid).toBe(
      id,
    );
    const removed = (await (
      await req("/_sim/mutate", { method: "POST", body: JSON.stringify({ kind: "sale", deletes: 1 }) })
    ).json()) as { deleted: string[] };
    expect((await get(`/api/files/sales/${removed.deleted[0]}`, s)).status).toBe(404);
  });
});

describe("users and offices", () => {
  it("have the published envelopes and keys", async () => {
    const { session, get } = setup();
    const s = await session();
    const users = ((await (await get("/api/users", s)).json()) as { value: { users: Json[] } }).value.users;
    for (const k of [
      "userGuid",
      "publicId",
      "firstName",
      "lastName",
      "email",
      "phone",
      "alternatePhone",
      "streetNumber",
      "streetName",
      "city",
      "state",
      "zipCode",
      "userType",
    ])
      expect(Object.keys(users[0] ?? {})).toContain(k);
    const one = (await (await get(`/api/users/${users[0]?.userGuid}`, s)).json()) as {
      value: { user: Json };
    };
    expect(one.value.user.userGuid).toBe(users[0]?.userGuid);
    const offices = ((await (await get("/api/offices", s)).json()) as { value: { offices: Json[] } }).value
      .offices;
    expect(Object.keys(offices[0] ?? {})).toEqual(["officeGuid", "officeName"]);
    const office = (await (await get(`/api/offices/${offices[0]?.officeGuid}`, s)).json()) as {
      value: { office: Json };
    };
    expect(Object.keys(office.value.office)).toEqual(["guid", "name"]);
  });

  it("deactivated users leave the list unless includeDeactivated=true", async () => {
    const { session, get, req } = setup();
    const s = await session();
    await req("/_sim/mutate", { method: "POST", body: JSON.stringify({ kind: "user", deletes: 2 }) });
    const live = ((await (await get("/api/users", s)).json()) as { value: { users: Json[] } }).value.users;
    const all = (
      (await (await get("/api/users?includeDeactivated=true", s)).json()) as { value: { users: Json[] } }
    ).value.users;
    expect(all.length - live.length).toBe(2);
  });
});

describe("faults", () => {
  it("control characters go out raw and break a strict parser", async () => {
    const { session, get, req } = setup();
    const s = await session();
    await req("/_sim/hostile", { method: "POST", body: JSON.stringify({ count: 3 }) });
    await req("/_sim/faults", { method: "POST", body: JSON.stringify({ controlChars: true }) });
    const text = await (await get("/api/files?createdAfter=1900-01-01T00:00:00", s)).text();
    expect(text).toContain("\u0001");
    expect(text).toContain("\u001a");
    expect(() => JSON.parse(text)).toThrow();
  });

  it("429s come without any rate header (none are published)", async () => {
    const { session, get, req } = setup();
    const s = await session();
    await req("/_sim/faults", { method: "POST", body: JSON.stringify({ rate429: 1 }) });
    const limited = await get("/api/offices", s);
    expect(limited.status).toBe(429);
    expect([...limited.headers.keys()].filter((h) => /rate|retry/i.test(h))).toEqual([]);
    expect((await get("/api/offices", s)).status).toBe(200);
  });

  it("a next link can be pointed at another host", async () => {
    const { session, get, req } = setup({ counts: { sales: 60, listings: 0 } });
    const s = await session();
    await req("/_sim/faults", { method: "POST", body: JSON.stringify({ foreignNext: true }) });
    const body = (await (await get("/api/files/sales", s)).json()) as { links: Json[] };
    expect(new URL(String(body.links.find((l) => l.rel === "next")?.href)).host).toBe(
      "elsewhere.example.net",
    );
  });
});

import { describe, expect, it } from "vitest";
import { authenticate, authHeaders } from "../../src/connectors/auth";
import { lofty } from "../../src/connectors/lofty";
import { loftyInstant } from "../../src/connectors/lofty/time";
import { loftyWebhookScheme, resolveLoftyWebhook } from "../../src/connectors/lofty/webhooks";
import { recordsOfOne } from "../../src/connectors/paging";
import type { AuthSource, EntityDef } from "../../src/connectors/types";
import { parseJsonExact } from "../../src/core/exact-json";
import { resetAtMs } from "../../src/core/rate-budget";
import { createSimulator } from "../../tools/simulator-lofty/app";

// The Lofty connector against its simulator in-process (pages parsed as the engine parses them, exactly), and
// the engine capabilities it added: scroll tokens under alternative names, short and empty last pages, a
// wrapped single record, a personal-key alternative to OAuth bearer with fixed headers, reset headers of
// uncertain unit, and an unsigned webhook scheme told apart by a secret in the callback URL.
const KEY = "wk-key";
const BASE = "http://lofty.test";
const TWO_53 = 9007199254740992n;
const entity = (name: string) => lofty.entities[name] as EntityDef;

function sim(faults = {}) {
  const s = createSimulator({ seed: 5, counts: { leads: 60 }, keys: { [KEY]: 500 }, faults });
  const get = async (url: string) => {
    const res = await s.app.request(url, {
      headers: { ...lofty.authHeaders({ apiKey: KEY }) },
    });
    return { status: res.status, body: parseJsonExact(await res.text()) };
  };
  return { s, get };
}

async function crawl(get: (url: string) => Promise<{ body: unknown }>, name: string) {
  const e = entity(name);
  let url: string | null = lofty.firstPageUrl({ baseUrl: BASE, entity: e, mode: "onboarding", since: null });
  const records: unknown[] = [];
  let pages = 0;
  while (url && pages < 50) {
    const page = lofty.parsePage((await get(url)).body, e, url);
    records.push(...page.records);
    url = page.nextUrl;
    pages++;
  }
  return { records, pages };
}

describe("Lofty connector", () => {
  it("lists every lead once by scrollId under `_metadata` or `get_metadata`, ids above 2^53 exact", async () => {
    for (const metadataName of ["_metadata", "get_metadata"] as const) {
      const { s, get } = sim({ metadataName });
      const { records, pages } = await crawl(get, "leads");
      // 60 leads at 25 a page: 25, 25, 10 (the short page ends it though it carries a scrollId).
      expect(pages).toBe(3);
      const ids = records.map((r) => entity("leads").sourceIdOf(r));
      expect(new Set(ids)).toEqual(new Set(s.store.liveLeads().map((l) => String(l.leadId))));
      expect(ids.filter((id) => BigInt(id as string) > TWO_53).length).toBeGreaterThan(50);
      for (const r of records) expect(entity("leads").schema.safeParse(r).success).toBe(true);
      const rows = entity("leads").toCore(entity("leads").schema.parse(records[0]), {
        accountId: "a",
        connectionId: "c",
      });
      expect(rows[0]?.row.source_id).toBe(ids[0]);
      expect(rows[0]?.row.source_updated_at).toMatch(/Z$/);
      expect(rows[1]?.row.source_id).toBe(ids[0]);
    }
  });

  it("an exactly full last page ends on the empty page after it", async () => {
    const { s, get } = sim();
    s.createLead();
    while (s.store.liveLeads().length < 75) s.createLead();
    expect((await crawl(get, "leads")).pages).toBe(4);
  });

  it("validates members, transactions, tasks, notes, calls and activities of the simulator", async () => {
    const { s, get } = sim();
    for (const name of ["members", "transactions", "tasks"]) {
      const { records } = await crawl(get, name);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) expect(entity(name).schema.safeParse(r).success, name).toBe(true);
    }
    const lead = String(s.store.calls[0]?.leadId);
    for (const name of ["notes", "calls", "activities"]) {
      const url = lofty.firstPageUrl({
        baseUrl: BASE,
        entity: entity(name),
        mode: "onboarding",
        since: null,
        parentId: lead,
      });
      const page = lofty.parsePage((await get(url)).body, entity(name), url);
      for (const r of page.records) {
        Object.assign(r as object, { leadId: lead });
        expect(entity(name).schema.safeParse(r).success, name).toBe(true);
      }
    }
  });

  it("reads the four time formats and -1 as unset; refuses others", () => {
    expect(loftyInstant("2026-05-25T00:00:00GMT")).toBe("2026-05-25T00:00:00.000Z");
    expect(loftyInstant("2023-11-07T05:31:56Z")).toBe("2023-11-07T05:31:56.000Z");
    expect(loftyInstant("2026-04-22 10:15:00")).toBe("2026-04-22T10:15:00.000Z");
    expect(loftyInstant(1777000000000)).toBe(new Date(1777000000000).toISOString());
    expect(loftyInstant(-1)).toBeNull();
    expect(loftyInstant("-1")).toBeNull();
    expect(loftyInstant("yesterday")).toBeUndefined();
    expect(loftyInstant(1777000000)).toBeUndefined();
    const bad = { leadId: 5, lastUpdateTime: "2026-13-45 99:00:00" };
    expect(entity("leads").schema.safeParse(bad).success).toBe(false);
    expect(entity("leads").schema.safeParse({ leadId: 1.5, lastUpdateTime: -1 }).success).toBe(false);
  });

  it("a single lead comes wrapped under `lead`, or bare", () => {
    expect(recordsOfOne({ lead: { leadId: 7 } }, entity("leads"))).toEqual([{ leadId: 7 }]);
    expect(recordsOfOne({ leadId: 7 }, entity("leads"))).toEqual([{ leadId: 7 }]);
  });

  it("auth: `token <key>` for a key, Bearer for an OAuth grant, Content-Type on both", async () => {
    expect(lofty.authHeaders({ apiKey: "k" })).toEqual({
      Authorization: "token k",
      "Content-Type": "application/json",
    });
    const source: AuthSource = { accessToken: async () => "at", session: async () => "" };
    expect((await authenticate(lofty.spec.auth, { apiKey: "k" }, source)).headers.Authorization).toBe(
      "token k",
    );
    const oauth = await authenticate(lofty.spec.auth, { accessToken: "x", refreshToken: "r" }, source);
    expect(oauth).toEqual({
      headers: { Authorization: "Bearer at", "Content-Type": "application/json" },
      secret: "at",
    });
    expect(() => authHeaders(lofty.spec.auth, {})).toThrow(/accessToken/);
    // The simulator, as Lofty, refuses a key sent as Bearer with 200058.
    const { s } = sim();
    const res = await s.app.request(`${BASE}/v1.0/me`, {
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
    });
    expect(((await res.json()) as { code: number }).code).toBe(200058);
  });

  it("reads X-RateLimit-Reset as seconds left, epoch seconds or epoch milliseconds", () => {
    const now = 1_790_000_000_000;
    expect(resetAtMs(21, "auto", now)).toBe(now + 21_000);
    expect(resetAtMs(1_790_000_030, "auto", now)).toBe(1_790_000_030_000);
    expect(resetAtMs(1_790_000_030_000, "auto", now)).toBe(1_790_000_030_000);
    expect(lofty.rateLimit({ apiKey: "k" }).limit).toBe(10);
    expect(lofty.rateLimit({ accessToken: "t" }).limit).toBe(100);
  });

  it("webhooks: the callback URL's secret, compared exactly; batches resolve to fetches, 404 as delete", async () => {
    const scheme = loftyWebhookScheme();
    const creds = { webhookSecret: "s3cret" };
    const verify = (url: string) =>
      scheme.verify({
        url,
        rawBody: new Uint8Array(),
        headers: new Headers(),
        credentials: creds,
        nowSec: 0,
      });
    expect(await verify("https://x/webhooks/lofty/c?secret=s3cret")).toEqual({ ok: true });
    expect(await verify("https://x/webhooks/lofty/c?secret=s3cres")).toEqual({
      ok: false,
      code: "bad_signature",
    });
    expect(await verify("https://x/webhooks/lofty/c")).toEqual({ ok: false, code: "missing_signature" });
    const batch = parseJsonExact(
      '[{"teamId":1,"listId":2,"leadId":9007199254740993,"eventType":"created"},' +
        '{"teamId":1,"listId":2,"leadId":9007199254740993,"eventType":"updated"},' +
        '{"teamId":1,"listId":2,"leadId":651095960136641,"eventType":"deleted"}]',
    );
    const r = resolveLoftyWebhook(batch);
    expect(r?.entity).toBe("leads");
    expect(r?.ids).toEqual(["9007199254740993", "651095960136641"]);
    expect(r?.records?.map((x) => x.path)).toEqual([
      "/v1.0/leads/9007199254740993",
      "/v1.0/leads/651095960136641",
    ]);
    expect(r?.goneIsDelete).toBe(true);
    expect(r?.deleted).toBe(false);
    // A rounded id (a double beyond 2^53) names no record: dropped, never fetched or deleted.
    expect(resolveLoftyWebhook([{ listId: 2, leadId: 9007199254740992 }])?.ids).toEqual([]);
    const notes = resolveLoftyWebhook({ teamId: 1, listId: 9, leadId: 42 });
    expect(notes).toMatchObject({ entity: "notes", ids: ["42"] });
    expect(notes?.records?.[0]).toEqual({ id: "42", path: "/v1.0/notes?leadId=42", stamp: { leadId: "42" } });
    expect(notes?.goneIsDelete).toBeUndefined();
    expect(resolveLoftyWebhook({ teamId: 1, listId: 4, leadId: 42 })).toBeNull();
    expect(() => resolveLoftyWebhook([])).toThrow();
  });
});

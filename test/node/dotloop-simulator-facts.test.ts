// Pins the Dotloop simulator to the published facts (../shared/PROVIDERS-WAVE2.md §1) and the
// published example payloads (../shared/fixtures/dotloop): envelopes and record shapes, batch
// paging with its cap and the short-batch end rule, 301 for merged loops, the 100/min limit
// with its headers, token expiry, refresh, revoke, and signed webhook deliveries.

import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSimulator, RETRY_SCHEDULE_SEC, type Simulator } from "../../tools/simulator-dotloop/app";

const FIXTURES = new URL("../../../shared/fixtures/dotloop/", import.meta.url);
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const BASE = "http://dotloop.test";
const CLIENT = { id: "facts-client", secret: "facts-secret" };
const REDIRECT = "https://app.test/oauth/callback";
const USER = 7;

type Json = Record<string, unknown>;
type Captured = { url: string; body: string; headers: Headers };

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as Json;
}

const basic = `Basic ${btoa(`${CLIENT.id}:${CLIENT.secret}`)}`;

function setup(
  user: Parameters<Simulator["putUser"]>[1] = {},
  receiver: (c: Captured) => number = () => 200,
) {
  const clock = { now: T0 };
  const received: Captured[] = [];
  const sim = createSimulator({
    now: () => clock.now,
    baseUrl: BASE,
    fetch: async (input, init) => {
      const c = { url: String(input), body: String(init?.body), headers: new Headers(init?.headers) };
      received.push(c);
      return new Response("ok", { status: receiver(c) });
    },
  });
  sim.putClient(CLIENT.id, CLIENT.secret, [REDIRECT]);
  sim.putUser(USER, user);
  const req = async (path: string, init: RequestInit = {}) => sim.app.request(`${BASE}${path}`, init);
  return { sim, clock, received, req };
}

async function authorize(
  req: (p: string, i?: RequestInit) => Promise<Response>,
  state = "st-1",
): Promise<string> {
  const res = await req(
    `/oauth/authorize?response_type=code&client_id=${CLIENT.id}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=${state}`,
  );
  expect(res.status).toBe(302);
  const loc = new URL(res.headers.get("Location") ?? "");
  expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
  expect(loc.searchParams.get("state")).toBe(state);
  return loc.searchParams.get("code") ?? "";
}

async function tokenCall(
  req: (p: string, i?: RequestInit) => Promise<Response>,
  query: string,
  auth = basic,
) {
  // As the public client sends it: Basic client auth, form content type, parameters in the query.
  const res = await req(`/oauth/token?${query}`, {
    method: "POST",
    headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" },
  });
  return { res, body: (await res.json()) as Json };
}

async function connect(req: (p: string, i?: RequestInit) => Promise<Response>) {
  const code = await authorize(req);
  const { res, body } = await tokenCall(
    req,
    `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=st-1`,
  );
  expect(res.status).toBe(200);
  return body as {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    token_type: string;
    scope: string;
  };
}

function api(req: (p: string, i?: RequestInit) => Promise<Response>, token: string) {
  return async (path: string, headers: Record<string, string> = {}) => {
    const res = await req(`/public/v2${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });
    const text = await res.text();
    return { res, body: (text ? JSON.parse(text) : null) as Json };
  };
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/**
 * A simulated record is shaped like the published one: every key it has is a published key
 * (or an allowed extra), every published key is present unless optional, and each value has the
 * published JSON type; `...Z` timestamps and offset dates keep their format.
 */
function expectLike(
  sim: Json,
  published: Json,
  opts: { optional?: string[]; extra?: string[] } = {},
  where = "",
): void {
  const allowed = new Set([...Object.keys(published), ...(opts.extra ?? [])]);
  for (const k of Object.keys(sim)) expect(allowed.has(k), `${where}: unexpected key ${k}`).toBe(true);
  for (const k of Object.keys(published)) {
    if (!(k in sim)) {
      expect(opts.optional ?? [], `${where}: missing key ${k}`).toContain(k);
      continue;
    }
    expect(typeOf(sim[k]), `${where}.${k}`).toBe(typeOf(published[k]));
    const p = published[k];
    if (typeof p === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(p)) {
      expect(sim[k], `${where}.${k}`).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
    if (typeof p === "string" && /T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(p)) {
      expect(sim[k], `${where}.${k}`).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    }
  }
}

/** The union of the keys of a published list's items, as one item (first non-null value per key). */
function unionItem(items: Json[]): Json {
  const out: Json = {};
  for (const it of items) for (const [k, v] of Object.entries(it)) if (!(k in out)) out[k] = v;
  return out;
}

function expectListEnvelope(body: Json, where: string): Json[] {
  expect(Object.keys(body).sort(), where).toEqual(["data", "meta"]);
  expect(Object.keys(body.meta as Json), where).toEqual(["total"]);
  expect(typeOf((body.meta as Json).total), where).toBe("integer");
  expect(Array.isArray(body.data), where).toBe(true);
  return body.data as Json[];
}

function expectOneEnvelope(body: Json, where: string): Json {
  expect(Object.keys(body), where).toEqual(["data"]);
  expect(typeOf(body.data), where).toBe("object");
  return body.data as Json;
}

describe("records and envelopes shaped as the published examples", () => {
  const { req, sim } = setup({ rateLimit: false, counts: { loopsPerProfile: 12, contacts: 30 } });

  it("every list and record matches its fixture: envelope, keys, JSON types, timestamp formats", async () => {
    const get = api(req, (await connect(req)).access_token);
    const user = sim.users.get(USER);
    if (!user) throw new Error("no user");

    const account = expectOneEnvelope((await get("/account")).body, "account");
    expectLike(account, (fixture("account.get.json").data ?? {}) as Json, {}, "account");
    expect(account.id).toBe(USER);

    const profilesBody = (await get("/profile")).body;
    const profiles = expectListEnvelope(profilesBody, "profiles");
    const pubProfile = unionItem(fixture("profile.list.json").data as Json[]);
    for (const p of profiles) expectLike(p, pubProfile, {}, "profile");
    expect((profilesBody.meta as Json).total).toBe(profiles.length);
    const pid = account.defaultProfileId as number;
    expectLike(
      expectOneEnvelope((await get(`/profile/${pid}`)).body, "profile"),
      fixture("profile.get.json").data as Json,
    );

    // The published list lacks profileId (an artefact of the client copy; the single loop has it).
    const loops = expectListEnvelope((await get(`/profile/${pid}/loop?batch_size=50`)).body, "loops");
    expect(loops.length).toBe(12);
    const pubLoop = unionItem(fixture("loop.list.json").data as Json[]);
    for (const l of loops) expectLike(l, pubLoop, { extra: ["profileId"] }, "loop list");
    const lid = loops[0]?.id as number;
    const loop = expectOneEnvelope((await get(`/profile/${pid}/loop/${lid}`)).body, "loop");
    expectLike(loop, fixture("loop-it.post.response.json").data as Json, {
      extra: ["totalTaskCount", "completedTaskCount"],
    });
    expectLike(loop, fixture("loop.get.json").data as Json, { extra: ["profileId"] });

    // Details: section -> label -> string, labels as published, empty fields omitted.
    const pubDetail = fixture("loop-detail.get.json").data as Record<string, Json>;
    for (const l of loops) {
      const detail = expectOneEnvelope((await get(`/profile/${pid}/loop/${l.id}/detail`)).body, "detail");
      for (const [section, fields] of Object.entries(detail)) {
        expect(Object.keys(pubDetail), "section").toContain(section);
        for (const [label, value] of Object.entries(fields as Json)) {
          expect(Object.keys(pubDetail[section] ?? {}), `${section} label`).toContain(label);
          expect(typeof value).toBe("string");
          expect(value).not.toBe("");
        }
      }
    }
    const withDetails = expectListEnvelope(
      (await get(`/profile/${pid}/loop?batch_size=3&include_details=true`)).body,
      "loops+details",
    );
    for (const l of withDetails) {
      expect(typeOf(l.details)).toBe("object");
      expect((l.details as Json)["Property Address"]).toBeDefined();
    }

    const participants = expectListEnvelope(
      (await get(`/profile/${pid}/loop/${lid}/participant`)).body,
      "participants",
    );
    expect(participants.length).toBeGreaterThan(0);
    for (const p of participants) {
      expectLike(
        p,
        unionItem(fixture("participant.list.json").data as Json[]),
        { optional: ["phone"] },
        "participant",
      );
    }
    const part = expectOneEnvelope(
      (await get(`/profile/${pid}/loop/${lid}/participant/${participants[0]?.id}`)).body,
      "participant",
    );
    const pubPart = fixture("participant.get.json").data as Json;
    const partOptional = Object.keys(pubPart).filter((k) => !["id", "fullName", "email", "role"].includes(k));
    expectLike(part, pubPart, { optional: partOptional }, "participant detail");
    expect(Object.keys(part).some((k) => k.includes(" "))).toBe(true);

    const folders = expectListEnvelope((await get(`/profile/${pid}/loop/${lid}/folder`)).body, "folders");
    for (const f of folders)
      expectLike(f, unionItem(fixture("folder.list.json").data as Json[]), {}, "folder");
    const fid = folders[0]?.id as number;
    const docs = expectListEnvelope(
      (await get(`/profile/${pid}/loop/${lid}/folder/${fid}/document`)).body,
      "documents",
    );
    for (const d of docs)
      expectLike(d, unionItem(fixture("document.list.json").data as Json[]), {}, "document");
    const docPath = `/profile/${pid}/loop/${lid}/folder/${fid}/document/${docs[0]?.id}`;
    expectLike(
      expectOneEnvelope((await get(docPath)).body, "document"),
      fixture("document.get.json").data as Json,
    );
    const pdf = await req(`/public/v2${docPath}`, {
      headers: { Authorization: `Bearer ${(await connect(req)).access_token}`, Accept: "application/pdf" },
    });
    expect(pdf.headers.get("Content-Type")).toBe("application/pdf");
    expect((await pdf.text()).startsWith("%PDF")).toBe(true);

    const tasklists = expectListEnvelope(
      (await get(`/profile/${pid}/loop/${lid}/tasklist`)).body,
      "tasklists",
    );
    for (const t of tasklists)
      expectLike(t, unionItem(fixture("tasklist.list.json").data as Json[]), {}, "tasklist");
    const tid = tasklists[0]?.id as number;
    const tasks = expectListEnvelope(
      (await get(`/profile/${pid}/loop/${lid}/tasklist/${tid}/task`)).body,
      "tasks",
    );
    for (const t of tasks) expectLike(t, unionItem(fixture("task.list.json").data as Json[]), {}, "task");
    expectLike(
      expectOneEnvelope(
        (await get(`/profile/${pid}/loop/${lid}/tasklist/${tid}/task/${tasks[0]?.id}`)).body,
        "task",
      ),
      fixture("task.get.json").data as Json,
    );
    const loopNow = user.data.loops.get(lid);
    expect(loop.totalTaskCount).toBe(loopNow?.tasklists.reduce((n, t) => n + t.tasks.length, 0));

    // Activities: meta.total is -1 (published).
    const acts = (await get(`/profile/${pid}/loop/${lid}/activity`)).body;
    expect((acts.meta as Json).total).toBe(-1);
    for (const a of acts.data as Json[]) expect(Object.keys(a)).toEqual(["date", "message"]);

    const templates = expectListEnvelope((await get(`/profile/${pid}/loop-template`)).body, "templates");
    for (const t of templates)
      expectLike(t, unionItem(fixture("loop-template.list.json").data as Json[]), {}, "template");
    expectLike(
      expectOneEnvelope((await get(`/profile/${pid}/loop-template/${templates[0]?.id}`)).body, "template"),
      fixture("loop-template.get.json").data as Json,
    );

    const contacts = expectListEnvelope((await get("/contact?batch_size=50")).body, "contacts");
    expect(contacts.length).toBe(30);
    for (const c of contacts)
      expectLike(c, unionItem(fixture("contact.list.json").data as Json[]), {}, "contact");
    expectLike(
      expectOneEnvelope((await get(`/contact/${contacts[0]?.id}`)).body, "contact"),
      fixture("contact.get.json").data as Json,
    );

    // Loops live only on INDIVIDUAL profiles.
    const company = profiles.find((p) => p.type !== "INDIVIDUAL");
    expect(company).toBeDefined();
    expect((await get(`/profile/${company?.id}/loop`)).res.status).toBe(403);
  });
});

describe("batch paging", () => {
  const { req, sim } = setup({
    rateLimit: false,
    counts: { profiles: 1, loopsPerProfile: 250, contacts: 130 },
  });

  it("caps batch_size at 100, ends on a short batch, and a walk sees every record exactly once", async () => {
    const get = api(req, (await connect(req)).access_token);
    const user = sim.users.get(USER);
    const pid = user?.data.account.defaultProfileId as number;

    expect(((await get(`/profile/${pid}/loop`)).body.data as Json[]).length).toBe(20); // default size (choice)
    const capped = (await get(`/profile/${pid}/loop?batch_size=500`)).body;
    expect((capped.data as Json[]).length).toBe(100);
    expect((capped.meta as Json).total).toBe(250);

    const walk = async (path: string, size: number) => {
      const ids: number[] = [];
      const sizes: number[] = [];
      for (let n = 1; n < 100; n++) {
        const page = (
          await get(`${path}${path.includes("?") ? "&" : "?"}batch_number=${n}&batch_size=${size}`)
        ).body.data as Json[];
        sizes.push(page.length);
        ids.push(...page.map((r) => r.id as number));
        if (page.length < size) break;
      }
      return { ids, sizes };
    };
    const loops = await walk(`/profile/${pid}/loop`, 100);
    expect(loops.sizes).toEqual([100, 100, 50]);
    expect(new Set(loops.ids).size).toBe(250);
    expect([...loops.ids].sort()).toEqual([...(user?.data.loops.keys() ?? [])].sort());
    // 250 = 5 × 50: the last full batch is followed by an empty one.
    expect((await walk(`/profile/${pid}/loop`, 50)).sizes).toEqual([50, 50, 50, 50, 50, 0]);
    const contacts = await walk("/contact", 40);
    expect(contacts.sizes).toEqual([40, 40, 40, 10]);
    expect(contacts.ids).toEqual([...(user?.data.contacts.keys() ?? [])].sort((a, b) => a - b));

    expect(
      ((await get(`/profile/${pid}/loop?batch_number=9&batch_size=50`)).body.data as Json[]).length,
    ).toBe(0);
    expect((await get(`/profile/${pid}/loop?batch_size=0`)).res.status).toBe(400);
    expect((await get(`/profile/${pid}/loop?batch_number=0`)).res.status).toBe(400);
  });

  it("the cap is a knob (50, the other published value)", async () => {
    const s = setup({ rateLimit: false, maxBatchSize: 50, counts: { profiles: 1, loopsPerProfile: 120 } });
    const get = api(s.req, (await connect(s.req)).access_token);
    const pid = s.sim.users.get(USER)?.data.account.defaultProfileId;
    expect(((await get(`/profile/${pid}/loop?batch_size=100`)).body.data as Json[]).length).toBe(50);
  });

  it("sorts by updated desc by default, honours sort=key:dir and filter=updated_min=...,transaction_type=...", async () => {
    const get = api(req, (await connect(req)).access_token);
    const pid = sim.users.get(USER)?.data.account.defaultProfileId;
    const page = (await get(`/profile/${pid}/loop?batch_size=100`)).body.data as Json[];
    const updated = page.map((l) => l.updated as string);
    expect(updated).toEqual([...updated].sort().reverse());
    const asc = (await get(`/profile/${pid}/loop?batch_size=100&sort=created:asc`)).body.data as Json[];
    const created = asc.map((l) => l.created as string);
    expect(created).toEqual([...created].sort());

    const pivot = updated[40] as string;
    const all = [...(sim.users.get(USER)?.data.loops.values() ?? [])];
    const since = (
      await get(`/profile/${pid}/loop?batch_size=100&sort=updated:desc&filter=updated_min=${pivot}`)
    ).body;
    const expected = all.filter((l) => l.loop.updated >= pivot).length; // inclusive (choice)
    expect((since.meta as Json).total).toBe(expected);
    expect((since.data as Json[]).every((l) => (l.updated as string) >= pivot)).toBe(true);

    const type = all[0]?.loop.transactionType as string;
    const byType = (await get(`/profile/${pid}/loop?batch_size=100&filter=transaction_type=${type}`)).body;
    expect((byType.meta as Json).total).toBe(all.filter((l) => l.loop.transactionType === type).length);

    expect((await get(`/profile/${pid}/loop?filter=updated_min=yesterday`)).res.status).toBe(400);
    expect((await get(`/profile/${pid}/loop?sort=colour:asc`)).res.status).toBe(400);
  });
});

describe("merged loops", () => {
  it("answer 301 to the survivor, leave the lists, and fire LOOP_MERGED with fromId and toId", async () => {
    const { req, sim, received } = setup({ rateLimit: false, counts: { profiles: 1, loopsPerProfile: 10 } });
    const token = (await connect(req)).access_token;
    const get = api(req, token);
    const user = sim.users.get(USER);
    const pid = user?.data.account.defaultProfileId as number;
    const [from, to] = [...(user?.data.loops.keys() ?? [])] as [number, number];
    const sub = await req("/public/v2/subscription", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        targetType: "PROFILE",
        targetId: pid,
        url: "https://hooks.test/dl",
        eventTypes: ["LOOP_MERGED"],
        signingKey: "k",
      }),
    });
    expect(sub.status).toBe(201);

    sim.mutate(USER, { loops: { mergePairs: [{ fromId: from, toId: to }] } });
    const res = await get(`/profile/${pid}/loop/${from}/participant?x=1`);
    expect(res.res.status).toBe(301);
    expect(res.res.headers.get("Location")).toBe(
      `${BASE}/public/v2/profile/${pid}/loop/${to}/participant?x=1`,
    );
    expect((await get(`/profile/${pid}/loop/${from}`)).res.status).toBe(301);
    expect((await get(`/profile/${pid}/loop/${to}`)).res.status).toBe(200);
    const ids = ((await get(`/profile/${pid}/loop?batch_size=100`)).body.data as Json[]).map((l) => l.id);
    expect(ids).not.toContain(from);
    expect(ids).toContain(to);

    await waitFor(() => received.length === 1);
    const payload = JSON.parse(received[0]?.body ?? "{}") as Json;
    expect(payload.eventType).toBe("LOOP_MERGED");
    expect(payload.event).toEqual({ id: to, profileId: pid, fromId: from, toId: to });
  });
});

describe("rate limit: 100 requests per minute per user", () => {
  it("counts down X-RateLimit-Remaining, answers 429 at the 101st request, and resets with the clock", async () => {
    const { req, clock, sim } = setup({ counts: { profiles: 1, loopsPerProfile: 2, contacts: 2 } });
    const get = api(req, (await connect(req)).access_token);
    for (let i = 1; i <= 100; i++) {
      const { res } = await get("/account");
      expect(res.status).toBe(200);
      expect(res.headers.get("X-RateLimit-Limit")).toBe("100");
      expect(res.headers.get("X-RateLimit-Remaining")).toBe(String(100 - i));
      expect(res.headers.get("X-RateLimit-Reset")).toBe("60000");
    }
    clock.now += 20_000;
    const refused = await get("/account");
    expect(refused.res.status).toBe(429);
    expect(refused.res.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(refused.res.headers.get("X-RateLimit-Reset")).toBe("40000"); // ms until the window closes (choice)
    expect(sim.users.get(USER)?.stats.rateLimited).toBe(1);
    clock.now += 39_999;
    expect((await get("/account")).res.status).toBe(429);
    clock.now += 1;
    const again = await get("/account");
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get("X-RateLimit-Remaining")).toBe("99");
  });

  it("is per user: another user's token has its own window", async () => {
    const { req, sim } = setup({ counts: { profiles: 1, loopsPerProfile: 1 } });
    sim.putUser(8, { counts: { profiles: 1, loopsPerProfile: 1 } });
    const a = api(req, (await connect(req)).access_token);
    sim.oauth.login.userId = 8;
    const b = api(req, (await connect(req)).access_token);
    for (let i = 0; i < 100; i++) await a("/account");
    expect((await a("/account")).res.status).toBe(429);
    const other = await b("/account");
    expect(other.res.status).toBe(200);
    expect((other.body.data as Json).id).toBe(8);
  });
});

describe("OAuth", () => {
  it("access tokens expire after 12 h of the sim clock (401), refresh rotates the pair, revoke ends the grant", async () => {
    const { req, clock } = setup({ rateLimit: false });
    const t = await connect(req);
    expect(t.token_type).toBe("Bearer");
    expect(t.expires_in).toBe(43_200);
    expect(Object.keys(t).sort()).toEqual([
      "access_token",
      "expires_in",
      "refresh_token",
      "scope",
      "token_type",
    ]);
    const get = api(req, t.access_token);
    expect((await get("/account")).res.status).toBe(200);
    clock.now += 43_200_000 - 1;
    expect((await get("/account")).res.status).toBe(200);
    clock.now += 1;
    const expired = await get("/account");
    expect(expired.res.status).toBe(401);
    expect(expired.res.headers.get("WWW-Authenticate")).toContain("invalid_token");
    expect(JSON.stringify(expired.body)).not.toContain(t.access_token);

    const r1 = await tokenCall(req, `grant_type=refresh_token&refresh_token=${t.refresh_token}`);
    expect(r1.res.status).toBe(200);
    expect(r1.body.refresh_token).not.toBe(t.refresh_token); // rotation (choice)
    expect((await api(req, r1.body.access_token as string)("/account")).res.status).toBe(200);
    // The retired refresh token is refused.
    const reused = await tokenCall(req, `grant_type=refresh_token&refresh_token=${t.refresh_token}`);
    expect(reused.res.status).toBe(400);
    expect(reused.body.error).toBe("invalid_grant");
    // Client authentication is required.
    const noAuth = await tokenCall(
      req,
      `grant_type=refresh_token&refresh_token=${r1.body.refresh_token}`,
      "Basic eDp5",
    );
    expect(noAuth.res.status).toBe(401);
    expect(noAuth.body.error).toBe("invalid_client");

    const revoke = await req(`/oauth/token/revoke?token=${r1.body.access_token}`, {
      method: "POST",
      headers: { Authorization: basic },
    });
    expect(revoke.status).toBe(200);
    expect((await api(req, r1.body.access_token as string)("/account")).res.status).toBe(401);
    const afterRevoke = await tokenCall(
      req,
      `grant_type=refresh_token&refresh_token=${r1.body.refresh_token}`,
    );
    expect(afterRevoke.res.status).toBe(400);
  });

  it("knobs: short token lifetime, no rotation, refused refresh (revoked refresh token)", async () => {
    const { req, clock, sim } = setup({ rateLimit: false });
    Object.assign(sim.oauth.settings, { accessTokenTtlSec: 60, refreshRotation: false });
    const t = await connect(req);
    expect(t.expires_in).toBe(60);
    clock.now += 60_000;
    expect((await api(req, t.access_token)("/account")).res.status).toBe(401);
    const r = await tokenCall(req, `grant_type=refresh_token&refresh_token=${t.refresh_token}`);
    expect(r.body.refresh_token).toBe(t.refresh_token);
    expect((await api(req, r.body.access_token as string)("/account")).res.status).toBe(200);

    const knob = await req(`/_sim/users/${USER}/revoke-refresh`, { method: "POST" });
    expect(((await knob.json()) as Json).revoked).toBe(1);
    const refused = await tokenCall(req, `grant_type=refresh_token&refresh_token=${t.refresh_token}`);
    expect(refused.res.status).toBe(400);
    expect(refused.body.error).toBe("invalid_grant");
    expect(sim.oauth.stats.refreshRefused).toBe(1);
  });

  it("authorization codes are single-use and bound to redirect_uri; denial redirects only with redirect_on_deny", async () => {
    const { req, sim } = setup({ rateLimit: false });
    const code = await authorize(req);
    const wrong = await tokenCall(
      req,
      `grant_type=authorization_code&code=${code}&redirect_uri=https://evil.test/cb`,
    );
    expect(wrong.res.status).toBe(400);
    const ok = await tokenCall(
      req,
      `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    expect(ok.res.status).toBe(200);
    const twice = await tokenCall(
      req,
      `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    expect(twice.res.status).toBe(400);

    sim.oauth.login.deny = true;
    const base = `/oauth/authorize?response_type=code&client_id=${CLIENT.id}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=s2`;
    expect((await req(base)).status).toBe(200);
    const denied = await req(`${base}&redirect_on_deny=true`);
    expect(denied.status).toBe(302);
    const loc = new URL(denied.headers.get("Location") ?? "");
    expect(loc.searchParams.get("error")).toBe("access_denied");
    expect(loc.searchParams.get("state")).toBe("s2");
    expect(loc.searchParams.get("code")).toBeNull();
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("webhooks", () => {
  async function subscribe(
    req: (p: string, i?: RequestInit) => Promise<Response>,
    token: string,
    body: Json,
  ) {
    const res = await req("/public/v2/subscription", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { res, body: (await res.json()) as Json };
  }

  it("deliveries are ids-only, HMAC-SHA1 hex of the raw body in X-DOTLOOP-SIGNATURE, X-DOTLOOP-TIMESTAMP in seconds", async () => {
    const { req, sim, received, clock } = setup({
      rateLimit: false,
      counts: { profiles: 1, loopsPerProfile: 5, contacts: 5 },
    });
    const token = (await connect(req)).access_token;
    const user = sim.users.get(USER);
    const pid = user?.data.account.defaultProfileId as number;
    const s1 = await subscribe(req, token, {
      targetType: "USER",
      targetId: USER,
      url: "https://hooks.test/contacts",
      eventTypes: ["CONTACT_CREATED", "CONTACT_DELETED"],
      signingKey: "sk-contacts",
      externalId: "conn-1",
    });
    expect(s1.res.status).toBe(201);
    expect(JSON.stringify(s1.body)).not.toContain("sk-contacts");
    const s2 = await subscribe(req, token, {
      targetType: "PROFILE",
      targetId: pid,
      url: "https://hooks.test/loops",
      eventTypes: ["LOOP_PARTICIPANT_DELETED"],
      signingKey: "sk-loops",
    });
    expect(s2.res.status).toBe(201);
    // Event types must exist and fit the target.
    expect((await subscribe(req, token, { ...s2.body, eventTypes: ["LOOP_DELETED"] })).res.status).toBe(400);
    expect(
      (
        await subscribe(req, token, {
          targetType: "USER",
          targetId: USER,
          url: "https://h.test",
          eventTypes: ["LOOP_CREATED"],
        })
      ).res.status,
    ).toBe(400);

    const contactId = [...(user?.data.contacts.keys() ?? [])][0] as number;
    const loop = [...(user?.data.loops.values() ?? [])][0];
    const participantId = [...(loop?.participants.keys() ?? [])][0] as number;
    const m = sim.mutate(USER, {
      contacts: { deleteIds: [contactId] },
      participants: { deleteIds: [participantId] },
    });
    expect(m.deliveries).toBe(2);
    await waitFor(() => received.length === 2);
    for (const d of received) {
      const key = d.url.endsWith("/contacts") ? "sk-contacts" : "sk-loops";
      const expected = createHmac("sha1", key).update(d.body, "utf8").digest("hex");
      expect(d.headers.get("X-DOTLOOP-SIGNATURE")).toBe(expected);
      expect(d.headers.get("X-DOTLOOP-TIMESTAMP")).toBe(String(Math.floor(clock.now / 1000)));
    }
    const bodies = received.map((d) => JSON.parse(d.body) as Json);
    const contactEvent = bodies.find((b) => b.eventType === "CONTACT_DELETED");
    expect(contactEvent?.event).toEqual({ id: contactId });
    expect(contactEvent?.subscriptionExternalId).toBe("conn-1");
    expect(contactEvent?.timestamp).toBe(clock.now);
    const partEvent = bodies.find((b) => b.eventType === "LOOP_PARTICIPANT_DELETED");
    expect(partEvent?.event).toEqual({ id: participantId, loopId: loop?.loop.id, profileId: pid });
    expect((await api(req, token)(`/contact/${contactId}`)).res.status).toBe(404);

    // The event log of a subscription.
    const log = (await api(req, token)(`/subscription/${s1.body.data && (s1.body.data as Json).id}/event`))
      .body;
    expect(((log.data as Json[])[0] as Json).status).toBe("DELIVERED");
  });

  it("the signed text is a knob: timestamp, a dot, then the raw body", async () => {
    const { req, sim, received } = setup({
      rateLimit: false,
      signatureMode: "timestamp.body",
      counts: { contacts: 3 },
    });
    const token = (await connect(req)).access_token;
    await subscribe(req, token, {
      targetType: "USER",
      targetId: USER,
      url: "https://hooks.test/c",
      eventTypes: ["CONTACT_CREATED"],
      signingKey: "alt-key",
    });
    sim.mutate(USER, { contacts: { creates: 1 } });
    await waitFor(() => received.length === 1);
    const d = received[0] as Captured;
    const text = `${d.headers.get("X-DOTLOOP-TIMESTAMP")}.${d.body}`;
    expect(d.headers.get("X-DOTLOOP-SIGNATURE")).toBe(
      createHmac("sha1", "alt-key").update(text).digest("hex"),
    );
  });

  it("retries a refused delivery on the published schedule (scaled) and stops after the last step", async () => {
    expect([...RETRY_SCHEDULE_SEC]).toEqual([30, 60, 900, 1800, 3600, 7200, 14400, 28800]);
    const { req, sim, received } = setup(
      { rateLimit: false, webhookRetryScale: 1 / 30_000, counts: { contacts: 3 } },
      () => 500,
    );
    const token = (await connect(req)).access_token;
    await subscribe(req, token, {
      targetType: "USER",
      targetId: USER,
      url: "https://hooks.test/down",
      eventTypes: ["CONTACT_UPDATED"],
    });
    sim.mutate(USER, { contacts: { updates: 1 } });
    await waitFor(() => received.length === 9, 5000);
    const user = sim.users.get(USER);
    await waitFor(() => user?.stats.webhooks.failed === 1);
    expect(received.every((d) => d.body === received[0]?.body)).toBe(true); // same event, same body
    expect(received[0]?.headers.get("X-DOTLOOP-SIGNATURE")).toBeNull(); // unsigned without a signingKey
    expect(user?.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await sim.close();
  });
});

describe("fault knobs, hostile data and ground truth", () => {
  it("5xx rate, 429 storms and timeouts answer as configured; calls with a dead token are counted", async () => {
    const { req, sim, clock } = setup({ rateLimit: false, counts: { profiles: 1, loopsPerProfile: 3 } });
    const t = await connect(req);
    const get = api(req, t.access_token);
    sim.setFaults(USER, { errorRate: 1 });
    const failed = await get("/account");
    expect([500, 502, 503]).toContain(failed.res.status);
    expect(Object.keys(failed.body).sort()).toEqual(["error", "message", "status"]);
    sim.setFaults(USER, { storm: { everyN: 2, durationSec: 5 } });
    expect((await get("/account")).res.status).toBe(200);
    const storm = await get("/account");
    expect(storm.res.status).toBe(429);
    expect(storm.res.headers.get("X-RateLimit-Reset")).toBe("5000");
    clock.now += 5_000;
    expect((await get("/account")).res.status).toBe(200);
    sim.setFaults(USER, { timeoutRate: 1, timeoutMs: 20 });
    expect((await get("/account")).res.status).toBe(504);
    sim.setFaults(USER, {});
    clock.now += 43_200_000;
    expect((await get("/account")).res.status).toBe(401);
    expect(sim.users.get(USER)?.stats.unauthorized).toBe(1);
  });

  it("hostile strings are the provider's data: served as stored and in the truth", async () => {
    const { req } = setup({
      rateLimit: false,
      hostile: { rate: 1, kinds: ["nul", "surrogate"] },
      counts: { profiles: 1, loopsPerProfile: 4, contacts: 4 },
    });
    const get = api(req, (await connect(req)).access_token);
    const truth = (await (await req(`/_sim/users/${USER}/truth`)).json()) as Json;
    const pid = (truth.account as Json).defaultProfileId;
    const loops = (await get(`/profile/${pid}/loop?batch_size=10&sort=created:asc`)).body.data as Json[];
    const truthLoops = truth.loops as Json[];
    expect(loops.map((l) => l.name)).toEqual(
      [...truthLoops]
        .sort(
          (a, b) =>
            (a.created as string).localeCompare(b.created as string) || (a.id as number) - (b.id as number),
        )
        .map((l) => l.name),
    );
    // Every loop name holds a NUL or a lone surrogate (what TextEncoder has to replace).
    const broken = (v: string) =>
      v.includes("\u0000") || new TextDecoder().decode(new TextEncoder().encode(v)) !== v;
    expect(loops.every((l) => broken(l.name as string))).toBe(true);
    const contacts = (await get("/contact?batch_size=10")).body.data as Json[];
    expect(contacts).toEqual(truth.contacts);
  });

  it("the truth follows mutations; losing a profile disables its subscriptions with SUBSCRIPTION_DISABLED", async () => {
    const { req, sim, received } = setup({
      rateLimit: false,
      counts: { profiles: 2, loopsPerProfile: 5, contacts: 6 },
    });
    const token = (await connect(req)).access_token;
    const user = sim.users.get(USER);
    const [, second] = [...(user?.data.profiles.values() ?? [])];
    const sub = await req("/public/v2/subscription", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        targetType: "PROFILE",
        targetId: second?.id,
        url: "https://hooks.test/p2",
        eventTypes: ["LOOP_CREATED", "SUBSCRIPTION_DISABLED"],
      }),
    });
    const subId = ((await sub.json()) as { data: Json }).data.id;
    const m = await req(`/_sim/users/${USER}/mutate`, {
      method: "POST",
      body: JSON.stringify({
        loops: { creates: 2, profileId: second?.id, archives: 1, merges: 1 },
        contacts: { creates: 1, updates: 1, deletes: 1 },
        participants: { creates: 1, deletes: 1 },
      }),
    });
    expect(m.status).toBe(200);
    const res = (await m.json()) as Json;
    await waitFor(() => received.length === 2); // the two LOOP_CREATED
    const truth = (await (await req(`/_sim/users/${USER}/truth`)).json()) as Json;
    const counts = truth.counts as Json;
    expect(counts.loops).toBe(2 * 5 + 2 - 1);
    expect(counts.contacts).toBe(6);
    expect(truth.deletedContactIds).toEqual((res.contacts as Json).deleted);
    expect(Object.keys(truth.merged as Json)).toHaveLength(1);
    expect((truth.archivedLoopIds as number[]).length).toBeGreaterThan(0);

    sim.mutate(USER, { profiles: { removeAccessIds: [second?.id as number] } });
    await waitFor(() => received.length === 3);
    expect((JSON.parse(received[2]?.body ?? "{}") as Json).eventType).toBe("SUBSCRIPTION_DISABLED");
    const after = (await api(req, token)(`/subscription/${subId}`)).body.data as Json;
    expect(after.enabled).toBe(false);
    expect((await api(req, token)(`/profile/${second?.id}/loop`)).res.status).toBe(404);
    sim.mutate(USER, { loops: { creates: 1 } });
    await new Promise((r) => setTimeout(r, 30));
    expect(received).toHaveLength(3);
  });
});

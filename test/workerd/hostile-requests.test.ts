import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { rows, uniqueId } from "../support/db";

// Every route, every credential, every kind of input a client can get wrong on purpose: the answer is a 4xx
// JSON error without SQL, and nothing is stored.

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
let accountId: string;
let connectionId: string;
let keyHeaders: Record<string, string>;

function call(method: string, path: string, headers: Record<string, string>, body?: BodyInit) {
  return exports.default.fetch(`http://etl.test${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body,
  });
}

beforeAll(async () => {
  const res = await call(
    "POST",
    "/admin/accounts",
    ADMIN,
    JSON.stringify({ id: uniqueId("acc"), name: "hostile" }),
  );
  const created = await res.json<{ account: { id: string }; apiKey: string }>();
  accountId = created.account.id;
  keyHeaders = { authorization: `Bearer ${created.apiKey}` };
  connectionId = uniqueId("con");
  const conn = await call(
    "POST",
    `/admin/accounts/${accountId}/connections`,
    ADMIN,
    JSON.stringify({ id: connectionId, provider: "fub", credentials: { apiKey: "k", systemKey: "s" } }),
  );
  expect(conn.status).toBe(201);
});

/** Path segments no id can be: raw as they go into the URL. All start with "hx" where they decode at all. */
const BAD_SEGMENTS = [
  "%00",
  "hx%00b",
  "%",
  "hx%ZZ",
  "hx%E0%A4%A",
  "hx%ED%A0%80",
  `hx${"x".repeat(3000)}`,
  "hx%0A%0D",
];

type Route = { method: string; path: string; body?: string };
/** Every route with a placeholder for each path parameter: {a} account, {c} connection, {r} run. */
const ROUTES: Route[] = [
  { method: "GET", path: "/admin/accounts/{a}" },
  { method: "DELETE", path: "/admin/accounts/{a}" },
  {
    method: "POST",
    path: "/admin/accounts/{a}/connections",
    body: JSON.stringify({ provider: "fub", credentials: { apiKey: "k" } }),
  },
  { method: "GET", path: "/admin/accounts/{a}/connections/{c}" },
  { method: "DELETE", path: "/admin/accounts/{a}/connections/{c}" },
  { method: "POST", path: "/admin/accounts/{a}/sync", body: JSON.stringify({ mode: "delta" }) },
  { method: "GET", path: "/admin/accounts/{a}/status" },
  { method: "POST", path: "/admin/accounts/{a}/pause" },
  { method: "POST", path: "/admin/accounts/{a}/resume" },
  {
    method: "POST",
    path: "/admin/accounts/{a}/cursor/reset",
    body: JSON.stringify({ connectionId: "x", entity: "people" }),
  },
  {
    method: "POST",
    path: "/admin/accounts/{a}/breaker",
    body: JSON.stringify({ connectionId: "x", state: "open" }),
  },
  {
    method: "POST",
    path: "/admin/accounts/{a}/connections/{c}/breaker",
    body: JSON.stringify({ mode: "open" }),
  },
  { method: "GET", path: "/admin/accounts/{a}/failed" },
  { method: "POST", path: "/admin/accounts/{a}/failed/replay", body: "{}" },
  { method: "GET", path: "/admin/accounts/{a}/deletes" },
  { method: "POST", path: "/admin/accounts/{a}/deletes/{r}/confirm" },
  { method: "POST", path: "/admin/accounts/{a}/deletes/{r}/reject" },
  {
    method: "POST",
    path: "/webhooks/fub/{c}",
    body: JSON.stringify({ eventId: "e", event: "peopleUpdated" }),
  },
];

const CREDENTIALS = () => ({ admin: ADMIN, key: keyHeaders, none: {} as Record<string, string> });

function fill(path: string, slot: string, bad: string): string {
  const valid: Record<string, string> = { a: accountId, c: connectionId, r: "run_1" };
  return path.replace(/\{([acr])\}/g, (_, name: string) => (name === slot ? bad : (valid[name] ?? "")));
}

async function expectRefused(res: Response, what: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
  expect(res.headers.get("content-type"), what).toMatch(/application\/json/);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, what).toBe("string");
  expect(typeof body.error?.message, what).toBe("string");
  expect(text, what).not.toMatch(/Failed query|params:|select |insert /i);
}

async function nothingStored(): Promise<void> {
  expect(await rows(sql`select id from accounts where id like 'hx%' or name like 'hx%'`)).toEqual([]);
  expect(await rows(sql`select id from connections where account_id = ${accountId}`)).toEqual([
    { id: connectionId },
  ]);
  expect(await rows(sql`select 1 from failed_records where account_id = ${accountId}`)).toEqual([]);
  expect(await rows(sql`select 1 from webhook_inbox where connection_id = ${connectionId}`)).toEqual([]);
  const status = await call("GET", `/admin/accounts/${accountId}/status`, ADMIN);
  expect(status.status).toBe(200);
  expect(await status.json()).toMatchObject({ paused: false });
}

describe("hostile requests", () => {
  it("every route the app serves, each path parameter hostile, any credential: 4xx JSON, nothing stored", async () => {
    // The app's own route table, so a route added later is covered without anyone listing it here.
    const served = [
      ...new Set(
        createApp()
          .routes.filter((r) => r.method !== "ALL" && r.path.includes(":"))
          .map((r) => `${r.method} ${r.path}`),
      ),
    ];
    expect(served.length).toBeGreaterThan(20);
    const valid: Record<string, string> = {
      accountId,
      connectionId,
      runId: "run_1",
      check: "nope",
      action: "nope",
      provider: "fub",
    };
    const bad = ["%00", "%", "hx%ED%A0%80", `hx${"x".repeat(3000)}`];
    let asked = 0;
    for (const route of served) {
      const [method = "GET", template = ""] = route.split(" ");
      // `:decision{confirm|reject}`: a pattern, so a hostile value is no match (404), tried like the others.
      const params = [...template.matchAll(/:(\w+)(\{[^}]*\})?/g)].map((m) => m[1] ?? "");
      for (const slot of params) {
        for (const value of bad) {
          const path = template.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string, pattern?: string) =>
            name === slot ? value : (valid[name] ?? pattern?.slice(1, -1).split("|")[0] ?? "x"),
          );
          for (const [who, headers] of Object.entries(CREDENTIALS())) {
            const res = await call(
              method,
              path,
              headers,
              method === "GET" || method === "DELETE" ? undefined : "{}",
            );
            await expectRefused(res, `${who} ${method} ${template} with ${slot}=${value.slice(0, 20)}`);
            asked++;
          }
        }
      }
    }
    expect(asked).toBeGreaterThan(300);
    await nothingStored();
  }, 240_000);

  it("refuses a hostile value in any path parameter with any credential: 4xx JSON, nothing stored", async () => {
    for (const route of ROUTES) {
      for (const slot of ["a", "c", "r"]) {
        if (!route.path.includes(`{${slot}}`)) continue;
        for (const bad of BAD_SEGMENTS) {
          for (const [who, headers] of Object.entries(CREDENTIALS())) {
            const path = fill(route.path, slot, bad);
            const res = await call(route.method, path, headers, route.body);
            await expectRefused(res, `${who} ${route.method} ${path.slice(0, 80)}`);
          }
        }
      }
    }
    await nothingStored();
  }, 240_000);

  it("answers a webhook for a connection that cannot exist with 404, never 503", async () => {
    for (const bad of ["%00", "hx%00b", `hx${"x".repeat(1000)}`, "hx%0A"]) {
      const res = await call("POST", `/webhooks/fub/${bad}`, {}, "{}");
      expect(res.status, bad.slice(0, 20)).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "connection_not_found" } });
    }
  });

  it("refuses hostile queries: control characters, bad encoding, impossible dates, overlong", async () => {
    const queries = [
      "/failed?entity=%00",
      "/failed?connectionId=hx%00",
      "/failed?errorCode=%ED%A0%80",
      "/failed?cursor=%ZZ",
      "/failed?from=0000-01-01T00:00:00Z",
      "/failed?to=2024-02-30T00:00:00Z",
      "/failed?from=2024-13-01T00:00:00Z",
      `/failed?entity=${"x".repeat(5000)}`,
      "/failed?%E0%A4%A=1",
      "/deletes?status=%00",
      "/deletes?status=hx%",
      "/status?x=%00",
    ];
    for (const q of queries) {
      for (const [who, headers] of Object.entries(CREDENTIALS())) {
        const res = await call("GET", `/admin/accounts/${accountId}${q}`, headers);
        await expectRefused(res, `${who} ${q.slice(0, 60)}`);
      }
    }
    await nothingStored();
  }, 120_000);

  it("refuses hostile admin bodies: NUL, lone surrogates, deep, huge, overlong ids, bad dates, not UTF-8", async () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const field = (x: string) =>
      `{"id":${x},"name":${x},"provider":"fub","credentials":{"apiKey":${x}},"connectionId":${x},"entity":${x},"mode":"delta","state":"open"}`;
    const bodies: [string, BodyInit][] = [
      ["NUL", field('"hx\\u0000b"')],
      ["lone surrogate", field('"hx\\udc00"')],
      ["deep array", field(deep)],
      ["deep settings", `{"provider":"fub","credentials":{},"settings":{"x":${deep}}}`],
      ["NUL in a key", '{"provider":"fub","credentials":{"hx\\u0000":"k"}}'],
      ["huge", field(`"hx${"x".repeat(70 * 1024)}"`)],
      ["overlong id", field(`"hx${"x".repeat(300)}"`)],
      ["year 0000", '{"from":"0000-01-01T00:00:00Z"}'],
      ["not JSON", '{"name": '],
      ["not UTF-8", new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
    ];
    const routes = [
      "/admin/accounts",
      ...ROUTES.filter((r) => r.body && r.path.startsWith("/admin")).map((r) => r.path),
    ];
    for (const template of routes) {
      const path = fill(template, "", "");
      for (const [what, body] of bodies) {
        for (const [who, headers] of Object.entries(CREDENTIALS())) {
          const res = await call("POST", path, headers, body);
          await expectRefused(res, `${who} ${what} ${path}`);
        }
      }
    }
    const huge = await call(
      "POST",
      "/admin/accounts",
      ADMIN,
      JSON.stringify({ name: "x".repeat(70 * 1024) }),
    );
    expect(huge.status).toBe(413);
    await nothingStored();
  }, 240_000);
});

import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { uniqueId, withTestDb } from "../support/db";

const AUTH = { authorization: "Bearer test-admin-token" };

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  return exports.default.fetch(`http://etl.test${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function newAccount(): Promise<{ id: string; apiKey: string }> {
  const id = uniqueId("acc");
  const res = await call("POST", "/admin/accounts", { id, name: "Operator routes" });
  expect(res.status).toBe(201);
  return { id, apiKey: (await res.json<{ apiKey: string }>()).apiKey };
}

async function newConnection(accountId: string): Promise<string> {
  const id = uniqueId("con");
  const res = await call("POST", `/admin/accounts/${accountId}/connections`, {
    id,
    provider: "fub",
    // Nothing listens here: the tests below must not reach a provider.
    baseUrl: "http://127.0.0.1:9",
    credentials: { apiKey: "k", systemKey: "s", system: "t" },
  });
  expect(res.status).toBe(201);
  return id;
}

type ErrorBody = { error: { code: string; message: string } };

describe("routes the console adds", () => {
  it("lists accounts for the admin token only", async () => {
    const a = await newAccount();
    const res = await call("GET", "/admin/accounts?limit=1000");
    expect(res.status).toBe(200);
    const { accounts } = await res.json<{ accounts: { id: string; name: string }[] }>();
    expect(accounts.find((x) => x.id === a.id)).toMatchObject({ name: "Operator routes" });
    const asKey = await call("GET", "/admin/accounts", undefined, { authorization: `Bearer ${a.apiKey}` });
    expect(asKey.status).toBe(404);
    expect((await call("GET", "/admin/accounts", undefined, {})).status).toBe(401);
  });

  it("lists the webhook inbox without payloads, filtered by status, only for its own account", async () => {
    const a = await newAccount();
    const b = await newAccount();
    await withTestDb((db) =>
      db.execute(sql`insert into webhook_inbox (account_id, connection_id, provider, event_id, payload, status)
        values (${a.id}, ${`${a.id}_c1`}, 'fub', 'e1', '{"secret":"payload-text"}', 'pending'),
               (${a.id}, ${`${a.id}_c1`}, 'fub', 'e2', '{}', 'parked'),
               (${b.id}, ${`${b.id}_c1`}, 'fub', 'e3', '{}', 'pending')`),
    );
    const all = await call("GET", `/admin/accounts/${a.id}/webhooks`);
    expect(all.status).toBe(200);
    const text = await all.text();
    expect(text).not.toContain("payload-text");
    const items = (JSON.parse(text) as { items: { eventId: string; status: string }[] }).items;
    expect(items.map((i) => i.eventId)).toEqual(["e2", "e1"]);
    const parked = await call("GET", `/admin/accounts/${a.id}/webhooks?status=parked`);
    expect((await parked.json<{ items: { eventId: string }[] }>()).items.map((i) => i.eventId)).toEqual([
      "e2",
    ]);
    const bad = await call("GET", `/admin/accounts/${a.id}/webhooks?status=gone&limit=0`);
    expect(bad.status).toBe(400);
    expect((await bad.json<ErrorBody>()).error.code).toBe("invalid_request");
    const other = await call("GET", `/admin/accounts/${b.id}/webhooks`, undefined, {
      authorization: `Bearer ${a.apiKey}`,
    });
    expect(other.status).toBe(404);
  });

  it("resync of one record: 4xx for bad input, 503 with Retry-After while the breaker is forced open", async () => {
    const a = await newAccount();
    const conn = await newConnection(a.id);
    const path = `/admin/accounts/${a.id}/connections/${conn}/records/resync`;
    const cases: [unknown, number, string][] = [
      [{ entity: "people" }, 400, "invalid_request"],
      [{ entity: "people", id: "a\u0000b" }, 400, "invalid_request"],
      [{ entity: "nope", id: "1" }, 400, "unknown_entity"],
    ];
    for (const [body, status, code] of cases) {
      const res = await call("POST", path, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((await res.json<ErrorBody>()).error.code).toBe(code);
    }
    const missing = await call("POST", `/admin/accounts/${a.id}/connections/con_none/records/resync`, {
      entity: "people",
      id: "1",
    });
    expect(missing.status).toBe(404);

    const forced = await call("POST", `/admin/accounts/${a.id}/connections/${conn}/breaker`, {
      mode: "open",
    });
    expect(forced.status).toBe(200);
    const held = await call("POST", path, { entity: "people", id: "1" });
    expect(held.status).toBe(503);
    expect(Number(held.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await held.json<ErrorBody>()).toMatchObject({ error: { code: "provider_held" } });
  });

  it("serves the console page, script and stylesheet without authentication", async () => {
    for (const [path, type] of [
      ["/console", "text/html"],
      ["/console/app.js", "text/javascript"],
      ["/console/app.css", "text/css"],
    ] as const) {
      const res = await call("GET", path, undefined, {});
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
  });
});

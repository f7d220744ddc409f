import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { rows, uniqueId } from "../support/db";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const SECRET_API_KEY = "fub-api-key-that-must-never-leak";
const SECRET_SYSTEM_KEY = "fub-system-key-that-must-never-leak";

function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  return exports.default.fetch(`http://etl.test${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

type Created = { account: { id: string }; apiKey: string };
let a: Created;
let b: Created;

beforeAll(async () => {
  const make = async () => {
    const res = await call("POST", "/admin/accounts", ADMIN, { id: uniqueId("acc"), name: "auth test" });
    expect(res.status).toBe(201);
    return res.json<Created>();
  };
  a = await make();
  b = await make();
});

describe("admin API authentication", () => {
  it("creates an account with a key shown once and stored only as its SHA-256", async () => {
    expect(a.apiKey).toMatch(/^etl_/);
    const stored = await rows<{ api_key_hash: string }>(
      sql`select api_key_hash from accounts where id = ${a.account.id}`,
    );
    expect(stored[0]?.api_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0]?.api_key_hash).not.toContain(a.apiKey);
    const view = await call("GET", `/admin/accounts/${a.account.id}`, ADMIN);
    expect(await view.text()).not.toContain(a.apiKey);
  });

  it("rejects a missing or wrong bearer with 401", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer nope" },
      { authorization: "Bearer etl_forged" },
      { authorization: env.ADMIN_TOKEN },
    ];
    for (const headers of attempts) {
      const res = await call("GET", `/admin/accounts/${a.account.id}`, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("lets an account key read its own account", async () => {
    const res = await call("GET", `/admin/accounts/${a.account.id}`, { authorization: `Bearer ${a.apiKey}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: a.account.id });
  });

  it("answers another account's resources with the same 404 as a missing account", async () => {
    const keyA = { authorization: `Bearer ${a.apiKey}` };
    const other = await call("GET", `/admin/accounts/${b.account.id}`, keyA);
    const missingId = uniqueId("acc");
    const missing = await call("GET", `/admin/accounts/${missingId}`, keyA);
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    const otherBody = await other.json<{ error: { code: string; message: string } }>();
    const missingBody = await missing.json<{ error: { code: string; message: string } }>();
    expect(otherBody.error.code).toBe(missingBody.error.code);
    expect(otherBody.error.message.replace(b.account.id, "X")).toBe(
      missingBody.error.message.replace(missingId, "X"),
    );

    for (const [method, path, body] of [
      ["GET", `/admin/accounts/${b.account.id}/status`, undefined],
      ["DELETE", `/admin/accounts/${b.account.id}`, undefined],
      [
        "POST",
        `/admin/accounts/${b.account.id}/connections`,
        { provider: "fub", credentials: { apiKey: "x" } },
      ],
      ["POST", `/admin/accounts/${b.account.id}/pause`, undefined],
    ] as const) {
      const res = await call(method, path, keyA, body);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Nothing happened to B.
    const still = await call("GET", `/admin/accounts/${b.account.id}`, ADMIN);
    expect(still.status).toBe(200);
    expect(await rows(sql`select 1 from connections where account_id = ${b.account.id}`)).toHaveLength(0);
  });

  it("lets only the admin token create accounts", async () => {
    const res = await call(
      "POST",
      "/admin/accounts",
      { authorization: `Bearer ${a.apiKey}` },
      { name: "sneaky" },
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    expect(await rows(sql`select 1 from accounts where name = 'sneaky'`)).toHaveLength(0);
  });

  it("never returns or stores credentials in plain text", async () => {
    const key = { authorization: `Bearer ${a.apiKey}` };
    const created = await call("POST", `/admin/accounts/${a.account.id}/connections`, key, {
      provider: "fub",
      credentials: { apiKey: SECRET_API_KEY, systemKey: SECRET_SYSTEM_KEY },
    });
    expect(created.status).toBe(201);
    const createdText = await created.text();
    const { id } = JSON.parse(createdText) as { id: string };
    for (const text of [
      createdText,
      await (await call("GET", `/admin/accounts/${a.account.id}/connections/${id}`, key)).text(),
      await (await call("GET", `/admin/accounts/${a.account.id}`, ADMIN)).text(),
    ]) {
      expect(text).not.toContain(SECRET_API_KEY);
      expect(text).not.toContain(SECRET_SYSTEM_KEY);
      expect(text).not.toMatch(/credentials/i);
    }
    const stored = await rows<{ credentials_enc: string; settings: unknown }>(
      sql`select credentials_enc, settings from connections where id = ${id}`,
    );
    expect(stored[0]?.credentials_enc).toMatch(/^v1\./);
    expect(JSON.stringify(stored[0])).not.toContain(SECRET_API_KEY);
    expect(JSON.stringify(stored[0])).not.toContain(SECRET_SYSTEM_KEY);
  });

  it("stops accepting the key of a deleted account", async () => {
    const res = await call("POST", "/admin/accounts", ADMIN, { id: uniqueId("acc"), name: "to delete" });
    const gone = await res.json<Created>();
    // A purge answers with what it removed.
    expect((await call("DELETE", `/admin/accounts/${gone.account.id}`, ADMIN)).status).toBe(200);
    const after = await call("GET", `/admin/accounts/${gone.account.id}`, {
      authorization: `Bearer ${gone.apiKey}`,
    });
    expect(after.status).toBe(401);
  });

  it("gives an account key no way to learn another account's connection ids", async () => {
    const taken = uniqueId("con");
    const free = uniqueId("con");
    const own = await call("POST", `/admin/accounts/${b.account.id}/connections`, ADMIN, {
      id: taken,
      provider: "fub",
      credentials: { apiKey: "b" },
    });
    expect(own.status).toBe(201);
    const keyA = { authorization: `Bearer ${a.apiKey}` };
    const answers = [];
    for (const id of [taken, free]) {
      const res = await call("POST", `/admin/accounts/${a.account.id}/connections`, keyA, {
        id,
        provider: "fub",
        credentials: { apiKey: "a" },
      });
      answers.push({ status: res.status, body: (await res.text()).replace(id, "X") });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]?.status).toBe(403);
    expect(answers[0]?.body).not.toMatch(/exists/);
    expect(await rows(sql`select account_id from connections where id in (${taken}, ${free})`)).toEqual([
      { account_id: b.account.id },
    ]);
    // Reading or deleting another account's connection answers as for a missing one.
    for (const method of ["GET", "DELETE"]) {
      const other = await call(method, `/admin/accounts/${a.account.id}/connections/${taken}`, keyA);
      const missing = await call(method, `/admin/accounts/${a.account.id}/connections/${free}`, keyA);
      expect(other.status).toBe(404);
      expect((await other.text()).replace(taken, "X")).toBe((await missing.text()).replace(free, "X"));
    }
    // Without an id, the key gets a generated one.
    const generated = await call("POST", `/admin/accounts/${a.account.id}/connections`, keyA, {
      provider: "fub",
      credentials: { apiKey: "a" },
    });
    expect(generated.status).toBe(201);
    expect((await generated.json<{ id: string }>()).id).toMatch(/^con_/);
  });

  it("lets only the admin token point a connection at another base URL", async () => {
    const keyA = { authorization: `Bearer ${a.apiKey}` };
    const body = { provider: "fub", credentials: { apiKey: "a" }, baseUrl: "https://evil.example" };
    const refused = await call("POST", `/admin/accounts/${a.account.id}/connections`, keyA, body);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { code: "forbidden", message: expect.stringMatching(/baseUrl/) },
    });
    expect(
      await rows(
        sql`select 1 from connections where base_url = 'https://evil.example' and account_id = ${a.account.id}`,
      ),
    ).toHaveLength(0);
    const breaker = await call("POST", `/admin/accounts/${a.account.id}/connections`, keyA, {
      provider: "fub",
      credentials: { apiKey: "a" },
      settings: { breaker: { minCalls: 1000000 } },
    });
    expect(breaker.status).toBe(403);
    const limits = await call("POST", `/admin/accounts/${a.account.id}/connections`, keyA, {
      provider: "fub",
      credentials: { apiKey: "a" },
      settings: { rateLimits: { global: 100_000 } },
    });
    expect(limits.status).toBe(403);
    expect(await limits.json()).toMatchObject({
      error: { code: "forbidden", message: expect.stringMatching(/rateLimits/) },
    });
    const badLimits = await call("POST", `/admin/accounts/${a.account.id}/connections`, ADMIN, {
      provider: "fub",
      credentials: { apiKey: "a" },
      settings: { rateLimits: { global: 0 } },
    });
    expect(badLimits.status).toBe(400);
    const byAdmin = await call("POST", `/admin/accounts/${a.account.id}/connections`, ADMIN, {
      ...body,
      baseUrl: "http://simulator.test",
    });
    expect(byAdmin.status).toBe(201);
    expect(await byAdmin.json()).toMatchObject({ baseUrl: "http://simulator.test" });
    const notHttp = await call("POST", `/admin/accounts/${a.account.id}/connections`, ADMIN, {
      ...body,
      baseUrl: "file:///etc/passwd",
    });
    expect(notHttp.status).toBe(400);
  });
});

import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineConnector } from "../../src/connectors/define";
import { registerConnector } from "../../src/connectors/registry";
import type { EntityDef } from "../../src/connectors/types";
import { uniqueId } from "../support/db";

// What a connection offers an operator: GET .../checks and GET .../actions list its connector's consistency
// checks and actions by name (with each action's body as JSON Schema), through a provider that exists only in
// this file, and an empty list for a provider that declares none.
const PROVIDER = "checklisttest";
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

const noEntity = {} as Record<string, EntityDef>;
const connector = defineConnector({
  provider: PROVIDER,
  displayName: "Check List Test",
  defaultBaseUrl: "http://127.0.0.1:9",
  auth: { kind: "bearer", tokenField: "accessToken" },
  paging: { style: "page-number", pageSize: 10, pageParam: "p", sizeParam: "n", firstPage: 1 },
  rateLimit: { limit: 10, windowMs: 1000, headers: { limit: "x-limit", remaining: "x-remaining" } },
  webhooks: null,
  byIds: null,
  entities: noEntity,
  checks: {
    alpha: { description: "first check", run: async () => ({ ok: true }) },
    beta: { description: "second check", run: async () => ({ ok: false, bad: { count: 1, sample: [] } }) },
  },
  actions: {
    refresh: {
      description: "takes nothing",
      input: z.object({}).strict(),
      run: async () => ({ done: true }),
    },
    pin: {
      description: "takes an id and a mode",
      input: z.object({ id: z.string().min(1), mode: z.enum(["on", "off"]).nullable() }).strict(),
      run: async () => ({ pinned: true }),
    },
  },
});

function call(path: string, headers: Record<string, string>) {
  return exports.default.fetch(`http://etl.test${path}`, { headers });
}

type Created = { account: { id: string }; apiKey: string };
let unregister = () => {};
let own: Created;
let other: Created;
const connectionId = uniqueId("con");
const plainId = uniqueId("con");

async function createAccount(): Promise<Created> {
  const res = await exports.default.fetch("http://etl.test/admin/accounts", {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ id: uniqueId("acc"), name: "checks list" }),
  });
  expect(res.status).toBe(201);
  return res.json<Created>();
}

async function createConnection(accountId: string, body: Record<string, unknown>) {
  const res = await exports.default.fetch(`http://etl.test/admin/accounts/${accountId}/connections`, {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  unregister = registerConnector(connector);
  own = await createAccount();
  other = await createAccount();
  await createConnection(own.account.id, {
    id: connectionId,
    provider: PROVIDER,
    credentials: { accessToken: "t" },
  });
  await createConnection(own.account.id, { id: plainId, provider: "fub", credentials: { apiKey: "k" } });
});

afterAll(() => unregister());

describe("a connection's checks and actions, listed", () => {
  it("lists the checks by name with their descriptions, to the admin token and the account's own key", async () => {
    for (const headers of [ADMIN, { authorization: `Bearer ${own.apiKey}` }]) {
      const res = await call(`/admin/accounts/${own.account.id}/connections/${connectionId}/checks`, headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([
        { name: "alpha", description: "first check" },
        { name: "beta", description: "second check" },
      ]);
    }
  });

  it("lists the actions, saying which take input, with the input's JSON Schema", async () => {
    const res = await call(`/admin/accounts/${own.account.id}/connections/${connectionId}/actions`, ADMIN);
    expect(res.status).toBe(200);
    const list =
      await res.json<
        { name: string; description: string; takesInput: boolean; input: Record<string, unknown> | null }[]
      >();
    expect(list.map((a) => [a.name, a.description, a.takesInput])).toEqual([
      ["refresh", "takes nothing", false],
      ["pin", "takes an id and a mode", true],
    ]);
    expect(list[0]?.input).toMatchObject({ type: "object", additionalProperties: false });
    expect(list[1]?.input).toMatchObject({
      type: "object",
      required: ["id", "mode"],
      properties: { id: { type: "string", minLength: 1 } },
      additionalProperties: false,
    });
    expect(JSON.stringify(list[1]?.input)).toContain('"on"');
  });

  it("answers [] for a provider with no checks or actions", async () => {
    for (const kind of ["checks", "actions"]) {
      const res = await call(`/admin/accounts/${own.account.id}/connections/${plainId}/${kind}`, ADMIN);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    }
  });

  it("answers another account's key and an unknown connection with 404, a missing token with 401", async () => {
    const base = `/admin/accounts/${own.account.id}/connections`;
    for (const kind of ["checks", "actions"]) {
      const foreign = await call(`${base}/${connectionId}/${kind}`, {
        authorization: `Bearer ${other.apiKey}`,
      });
      expect(foreign.status).toBe(404);
      expect((await foreign.json<{ error: { code: string } }>()).error.code).toBe("account_not_found");
      const missing = await call(`${base}/con_nowhere/${kind}`, ADMIN);
      expect(missing.status).toBe(404);
      expect((await missing.json<{ error: { code: string } }>()).error.code).toBe("connection_not_found");
      // The other account's own path does not reach this account's connection either.
      const elsewhere = await call(
        `/admin/accounts/${other.account.id}/connections/${connectionId}/${kind}`,
        { authorization: `Bearer ${other.apiKey}` },
      );
      expect(elsewhere.status).toBe(404);
      expect((await call(`${base}/${connectionId}/${kind}`, {})).status).toBe(401);
    }
  });
});

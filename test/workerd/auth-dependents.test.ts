import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { markAuthDependents } from "../../src/accounts/auth-dependents";
import { pgCredentialStore } from "../../src/accounts/credential-store";
import { inTenant } from "../../src/accounts/tenant";
import { defineConnector } from "../../src/connectors/define";
import { registerConnector } from "../../src/connectors/registry";
import type { EntityDef } from "../../src/connectors/types";
import { openDb } from "../../src/db/client";
import { coreColumns } from "../../src/db/schema/columns";
import { rows, uniqueId, withTestDb } from "../support/db";

// The engine's generic hooks for a connector: what depends on a grant (`authDependents`: marked in the same
// transaction that sets a connection auth_failed, cleared on re-authorisation, shown in the status with its
// scope), consistency checks (GET .../checks/:name) and operator actions (POST .../actions/:name), through a
// provider that exists only in this file.
const PROVIDER = "cascadetest";
const AUTH = { authorization: "Bearer test-admin-token" };

const grants = pgTable(`${PROVIDER}_grants`, { ...coreColumns("text"), state: text("state") }, (t) => [
  primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
]);
const members = pgTable(`${PROVIDER}_members`, { ...coreColumns("text"), state: text("state") }, (t) => [
  primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
]);

const noEntity = {} as Record<string, EntityDef>;
const connector = defineConnector({
  provider: PROVIDER,
  displayName: "Cascade Test",
  defaultBaseUrl: "http://127.0.0.1:9",
  auth: { kind: "bearer", tokenField: "accessToken" },
  paging: { style: "page-number", pageSize: 10, pageParam: "p", sizeParam: "n", firstPage: 1 },
  rateLimit: { limit: 10, windowMs: 1000, headers: { limit: "x-limit", remaining: "x-remaining" } },
  webhooks: null,
  byIds: null,
  entities: noEntity,
  authDependents: [
    { name: "grants", table: grants, stateColumn: "state" },
    { name: "members", table: members, stateColumn: "state" },
  ],
  checks: {
    marked: {
      description: "members marked by the cascade",
      async run(query, scope) {
        const [r] = await query(sql`select count(*)::int as n from ${members}
          where account_id = ${scope.accountId} and connection_id = ${scope.connectionId} and state is not null`);
        return { ok: Number(r?.n) === 0, marked: Number(r?.n) };
      },
    },
  },
  actions: {
    rename: {
      description: "renames a member",
      input: z.object({ id: z.string().min(1), name: z.string().min(1) }).strict(),
      async run(query, scope, input, actor) {
        const { id, name } = input as { id: string; name: string };
        const done = await query(sql`update ${members} set raw = ${JSON.stringify({ name, actor })}::jsonb
          where account_id = ${scope.accountId} and connection_id = ${scope.connectionId} and source_id = ${id}
          returning 1`);
        return { renamed: done.length };
      },
    },
  },
});

function call(method: string, path: string, body?: unknown) {
  return exports.default.fetch(`http://etl.test${path}`, {
    method,
    headers: body === undefined ? AUTH : { ...AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let unregister = () => {};
let accountId = "";
let connectionId = "";
let other = "";

beforeAll(async () => {
  unregister = registerConnector(connector);
  await withTestDb(async (db) => {
    for (const name of [`${PROVIDER}_grants`, `${PROVIDER}_members`]) {
      await db.execute(
        sql.raw(`create table if not exists "${name}" (
          account_id text not null, connection_id text not null, source_id text not null,
          source_created_at timestamptz, source_updated_at timestamptz, raw jsonb not null, deleted_at timestamptz,
          fetch_seq bigint not null default 0, deleted_seq bigint, content_hash text,
          synced_at timestamptz not null default now(), state text,
          primary key (account_id, connection_id, source_id))`),
      );
      await db.execute(sql.raw(`select etl_enable_rls('${name}')`));
    }
  });
  accountId = uniqueId("acc");
  expect((await call("POST", "/admin/accounts", { id: accountId, name: "cascade" })).status).toBe(201);
  for (const id of [uniqueId("con"), uniqueId("con")]) {
    const res = await call("POST", `/admin/accounts/${accountId}/connections`, {
      id,
      provider: PROVIDER,
      credentials: { accessToken: "t" },
    });
    expect(res.status).toBe(201);
  }
  const conns = await rows<{ id: string }>(
    sql`select id from connections where account_id = ${accountId} order by id`,
  );
  connectionId = String(conns[0]?.id);
  other = String(conns[1]?.id);
  await withTestDb(async (db) => {
    for (const con of [connectionId, other]) {
      await db.execute(sql`insert into ${grants} (account_id, connection_id, source_id, raw)
        values (${accountId}, ${con}, 'g1', '{}')`);
      await db.execute(sql`insert into ${members} (account_id, connection_id, source_id, raw, deleted_at)
        select ${accountId}, ${con}, 'm' || i, '{}', case when i = 4 then now() end from generate_series(1, 4) i`);
    }
  });
});

afterAll(() => unregister());

type Cascade = {
  grant: string;
  chain: { name: string; total: number; authFailed: number }[];
  syncs: unknown;
};
async function cascadeOf(id: string): Promise<Cascade | undefined> {
  const res = await call("GET", `/admin/accounts/${accountId}/status`);
  const body = await res.json<{ connections: { id: string; authCascade?: Cascade }[] }>();
  return body.connections.find((c) => c.id === id)?.authCascade;
}

const marked = async (id: string) =>
  rows<{ grants: number; members: number }>(sql`select
    (select count(*)::int from ${grants} where account_id = ${accountId} and connection_id = ${id} and state = 'auth_failed') as grants,
    (select count(*)::int from ${members} where account_id = ${accountId} and connection_id = ${id} and state = 'auth_failed') as members`);

describe("what depends on a grant, checks and actions (generic)", () => {
  it("a refused grant marks its dependents in the status write; the status shows the chain and its scope", async () => {
    expect(await cascadeOf(connectionId)).toEqual({
      grant: "active",
      chain: [
        { name: "grants", total: 1, authFailed: 0 },
        { name: "members", total: 3, authFailed: 0 },
      ],
      syncs: { entities: 0, paused: 0 },
    });
    // As the token refresher does on a refused grant, with the Worker's own role (RLS applies).
    const handle = openDb(env);
    try {
      await pgCredentialStore(handle.db).setStatus(accountId, connectionId, "auth_failed");
    } finally {
      await handle.close();
    }
    // Deleted rows are marked too (they come back live only through a sync, which re-authorisation allows).
    expect(await marked(connectionId)).toEqual([{ grants: 1, members: 4 }]);
    // The other connection of the account is untouched.
    expect(await marked(other)).toEqual([{ grants: 0, members: 0 }]);
    expect(await cascadeOf(connectionId)).toEqual({
      grant: "auth_failed",
      chain: [
        { name: "grants", total: 1, authFailed: 1 },
        { name: "members", total: 3, authFailed: 3 },
      ],
      syncs: { entities: 0, paused: 0 },
    });
    const check = await call("GET", `/admin/accounts/${accountId}/connections/${connectionId}/checks/marked`);
    expect(check.status).toBe(200);
    expect(await check.json()).toEqual({ check: "marked", ok: false, marked: 4 });
  });

  it("re-authorisation's clear lifts every mark of that connection only", async () => {
    const handle = openDb(env);
    try {
      const changed = await inTenant(handle.db, accountId, (t) =>
        markAuthDependents(
          async (q) => (await t.execute(q)).rows as Record<string, unknown>[],
          connector,
          { accountId, connectionId },
          false,
        ),
      );
      expect(changed).toEqual({ grants: 1, members: 4 });
    } finally {
      await handle.close();
    }
    expect(await marked(connectionId)).toEqual([{ grants: 0, members: 0 }]);
  });

  it("checks and actions: unknown names 404, a body that does not fit 400, an action runs with its actor", async () => {
    const base = `/admin/accounts/${accountId}/connections/${connectionId}`;
    const unknownCheck = await call("GET", `${base}/checks/constructor`);
    expect(unknownCheck.status).toBe(404);
    expect(((await unknownCheck.json()) as { error: { code: string } }).error.code).toBe("unknown_check");
    expect((await call("POST", `${base}/actions/nope`, {})).status).toBe(404);
    const bad = await call("POST", `${base}/actions/rename`, { id: "m1" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBeTruthy();
    const ok = await call("POST", `${base}/actions/rename`, { id: "m1", name: "New" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ action: "rename", renamed: 1 });
    const [row] = await rows<{ raw: unknown }>(
      sql`select raw from ${members} where account_id = ${accountId} and connection_id = ${connectionId} and source_id = 'm1'`,
    );
    expect(row?.raw).toEqual({ name: "New", actor: "admin" });
    expect(
      (await call("GET", `/admin/accounts/${accountId}/connections/con_missing/checks/marked`)).status,
    ).toBe(404);
  });
});

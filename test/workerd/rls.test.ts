import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { processWebhookEvent } from "../../durable-objects/webhook-fetch";
import {
  createAccount,
  createConnection,
  deleteAccount,
  deleteConnection,
  getAccount,
  getConnectionView,
  listConnections,
} from "../../src/accounts/accounts";
import { accountForApiKey } from "../../src/accounts/api-keys";
import { encryptCredentials, loadConnection } from "../../src/accounts/connections";
import { withAllAccounts, withTenant } from "../../src/accounts/tenant";
import { signFub } from "../../src/connectors/fub/signature";
import { parseKeyring, sha256Hex } from "../../src/core/crypto";
import { openDb, withDb } from "../../src/db/client";
import type { Env } from "../../src/env";
import { handleError } from "../../src/http/errors";
import { webhookRoutes } from "../../src/http/webhooks";
import type { TransformMessage } from "../../src/pipeline/messages";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { rows, uniqueId, withTestDb } from "../support/db";

// The Worker's own driver (Neon over the WebSocket proxy) logged in as etl_app, the role production uses:
// the test tooling gives the Worker an etl_app DATABASE_URL (tools/lib/migrate.ts prepareAppRole).
const appEnv: Env = env;
/** The Worker's system connection: etl_system, which may span accounts. */
const systemEnv: Env = { ...env, DATABASE_URL: env.SYSTEM_DATABASE_URL ?? "" };
const A = uniqueId("acc");
const B = uniqueId("acc");
const SYSTEM_KEY = "rls-system-key";

beforeAll(async () => {
  expect(new URL(env.DATABASE_URL).username).toBe("etl_app");
  expect(new URL(systemEnv.DATABASE_URL).username).toBe("etl_system");
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  await withTestDb(async (db) => {
    for (const id of [A, B]) {
      await db.execute(
        sql`insert into accounts (id, name, api_key_hash) values (${id}, ${id}, ${await sha256Hex(`etl_key_${id}`)})`,
      );
      const blob = await encryptCredentials(keyring, id, `con_${id}`, { apiKey: "k", systemKey: SYSTEM_KEY });
      await db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                           values (${`con_${id}`}, ${id}, 'fub', ${blob})`);
    }
  });
});

describe("row-level security (workerd, Neon driver as etl_app)", () => {
  it("every table with account_id has the tenant policy", async () => {
    // Tables named test_gap_* are the health test's deliberate gap (test files share one database).
    expect(
      await rows(sql`select table_name from etl_rls_gaps() where table_name not like 'test_gap_%'`),
    ).toEqual([]);
  });

  it("withTenant sees only its own account and cannot write into another", async () => {
    const seen = await withDb(appEnv, (db) =>
      withTenant(
        db,
        A,
        async (tx) =>
          (await tx.execute(sql`select id, account_id from connections where account_id in (${A}, ${B})`))
            .rows,
      ),
    );
    expect(seen).toEqual([{ id: `con_${A}`, account_id: A }]);

    await expect(
      withDb(appEnv, (db) =>
        withTenant(db, A, (tx) =>
          tx.execute(sql`insert into webhook_inbox (account_id, connection_id, provider, event_id, payload)
                         values (${B}, ${`con_${B}`}, 'fub', 'forged', '{}'::jsonb)`),
        ),
      ),
    ).rejects.toThrow();
    const updated = await withDb(appEnv, (db) =>
      withTenant(db, A, (tx) => tx.execute(sql`update connections set status = 'x' where account_id = ${B}`)),
    );
    expect(updated.rowCount).toBe(0);
    expect(await rows(sql`select status from connections where id = ${`con_${B}`}`)).toEqual([
      { status: "active" },
    ]);
    expect(await rows(sql`select 1 from webhook_inbox where event_id = 'forged'`)).toEqual([]);
  });

  it("without a tenant etl_app sees nothing, and setting app.all_accounts does not change that", async () => {
    const count = sql`select count(*)::int as n from connections where account_id in (${A}, ${B})`;
    expect(await withDb(appEnv, async (db) => (await db.execute(count)).rows)).toEqual([{ n: 0 }]);
    const flagged = await withDb(appEnv, (db) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('app.all_accounts', 'on', true)`);
        return (await tx.execute(count)).rows;
      }),
    );
    expect(flagged).toEqual([{ n: 0 }]);
    // Misuse is loud: a system path handed the request role's connection throws instead of seeing nothing.
    await expect(withDb(appEnv, (db) => withAllAccounts(db, (tx) => tx.execute(count)))).rejects.toThrow(
      /cannot span accounts/,
    );
    const all = await withDb(systemEnv, (db) =>
      withAllAccounts(db, async (tx) => (await tx.execute(count)).rows),
    );
    expect(all).toEqual([{ n: 2 }]);
  });

  it("API keys resolve through the definer function even though accounts is hidden", async () => {
    expect(await withDb(appEnv, (db) => accountForApiKey(db, `etl_key_${A}`))).toBe(A);
    expect(await withDb(appEnv, (db) => accountForApiKey(db, "etl_unknown"))).toBeNull();
  });

  it("the webhook route works end to end as etl_app", async () => {
    const app = new Hono<{ Bindings: Env }>().route("/webhooks", webhookRoutes()).onError(handleError);
    const body = JSON.stringify({
      eventId: crypto.randomUUID(),
      event: "peopleUpdated",
      resourceIds: [1],
      uri: "x",
    });
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`http://etl.test/webhooks/fub/con_${A}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "FUB-Signature": await signFub(body, SYSTEM_KEY) },
      }),
      appEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(202);
    // Recorded by the account's object before the 202; the object copies it to Postgres as etl_app, under the
    // account's tenant.
    let copied: unknown[] = [];
    for (let i = 0; i < 100 && copied.length === 0; i++) {
      copied = await rows(sql`select account_id from webhook_inbox where connection_id = ${`con_${A}`}`);
      if (copied.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(copied).toEqual([{ account_id: A }]);
  });

  it("the account object processes an event as etl_app: reads the connection and stages under the tenant", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await withDb(appEnv, (db) =>
      recordInboxEvent(db, {
        accountId: A,
        connectionId: `con_${A}`,
        provider: "fub",
        eventId,
        eventType: "peopleUpdated",
        payload: {
          eventId,
          eventCreated: "2026-11-01T10:00:00+00:00",
          event: "peopleUpdated",
          resourceIds: [77],
          uri: "https://api.followupboss.com/v1/people/77",
        },
      }),
    );
    const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(A));
    const outcome = await runInDurableObject(stub, async (_i, state) => {
      const handle = openDb(appEnv);
      try {
        return await processWebhookEvent(
          {
            db: handle.db,
            sql: state.storage.sql,
            queue: { sendBatch: async () => {} } as unknown as Queue<TransformMessage>,
            fetch: async () =>
              new Response(
                JSON.stringify({
                  people: [{ id: 77, updated: "2026-11-01T09:00:00Z" }],
                  _metadata: { total: 1 },
                }),
                { headers: { "content-type": "application/json" } },
              ),
            now: Date.now,
            keyring: await parseKeyring(env.CREDENTIALS_KEY),
            completeRun: async () => undefined,
          },
          { inboxId: id, accountId: A, connectionId: `con_${A}`, provider: "fub" },
        );
      } finally {
        await handle.close();
      }
    });
    expect(outcome).toEqual({ status: "processed", staged: 1 });
    expect(
      await rows(sql`select account_id, source_id from stage_records where run_id = ${`webhook:${eventId}`}`),
    ).toEqual([{ account_id: A, source_id: "77" }]);
  });

  it("the account and connection domain functions work as etl_app", async () => {
    const id = uniqueId("acc");
    const keyring = await parseKeyring(env.CREDENTIALS_KEY);
    await withDb(appEnv, async (db) => {
      const { account, apiKey } = await createAccount(db, { id, name: "as app" });
      expect(account.id).toBe(id);
      expect(await accountForApiKey(db, apiKey)).toBe(id);
      const view = await createConnection(db, keyring, {
        accountId: id,
        provider: "fub",
        credentials: { apiKey: "k" },
      });
      expect(await getConnectionView(db, id, view.id)).toMatchObject({ id: view.id, accountId: id });
      expect((await loadConnection(db, keyring, id, view.id)).credentials).toEqual({ apiKey: "k" });
      expect(await listConnections(db, id)).toHaveLength(1);
      // Asked for another account's connection id, the tenant filter finds nothing.
      await expect(getConnectionView(db, A, view.id)).rejects.toMatchObject({ status: 404 });
      await deleteConnection(db, id, view.id);
      await deleteAccount(db, id);
      await expect(getAccount(db, id)).rejects.toMatchObject({ status: 404 });
    });
  });
});

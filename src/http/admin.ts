import { Hono } from "hono";
import { z } from "zod";
import {
  createAccount,
  createConnection,
  deleteConnection,
  getAccount,
  getConnectionView,
  listAccounts,
  listConnections,
  purgeAccount,
} from "../accounts/accounts";
import { loadConnection } from "../accounts/connections";
import { connectorFor, knownProviders } from "../connectors/registry";
import { breakerSettingsSchema } from "../core/breaker-settings";
import { parseKeyring } from "../core/crypto";
import { AppError } from "../core/errors";
import { systemDb, withDb } from "../db/client";
import type { Env } from "../env";
import type { Vars } from "../oauth/config";
import { revokeGrant } from "../oauth/flow";
import { subscriptionContext, unsubscribeWebhooks } from "../oauth/subscriptions";
import { accountStatus } from "../sync/status";
import { accountStub } from "../sync/stubs";
import { forgetMissingTarget } from "../webhooks/targets";
import { callerOf, requireAdmin } from "./auth";
import { ID_PATTERN as idPattern } from "./input";
import { jsonBody } from "./validate";

export const createAccountBody = z.object({
  id: z.string().regex(idPattern).optional(),
  name: z.string().min(1).max(200),
});
export const createConnectionBody = z.object({
  id: z.string().regex(idPattern).optional(),
  provider: z.string().refine((p) => knownProviders().includes(p), "unknown provider"),
  credentials: z.record(z.string(), z.string()),
  baseUrl: z
    .string()
    .max(2048)
    .url()
    .refine((u) => /^https?:\/\//i.test(u), "must be an http or https URL")
    .optional(),
  settings: z.looseObject({ breaker: breakerSettingsSchema.optional() }).optional(),
});
export const listAccountsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().regex(idPattern).optional(),
});
export const syncBody = z.object({
  connectionId: z.string().min(1).optional(),
  entity: z.string().min(1).optional(),
  mode: z.enum(["delta", "onboarding"]),
});
export const cursorResetBody = z.object({ connectionId: z.string().min(1), entity: z.string().min(1) });
const breakerMode = z.enum(["open", "closed", "auto"]);
export const accountBreakerBody = z.object({ connectionId: z.string().min(1), state: breakerMode });
export const connectionBreakerBody = z.object({ mode: breakerMode });

/**
 * What an account key may not decide when it creates a connection. The breaker guards the provider on the
 * platform's behalf; a base URL decides where the account's credentials are sent (only the operator may
 * point a connection at a simulator or proxy); and connection ids are global, so a chosen id that another
 * account holds would answer differently from a free one: account keys get generated ids, which never clash.
 */
function checkAccountConnectionBody(body: z.infer<typeof createConnectionBody>): void {
  if (body.settings?.breaker !== undefined) {
    throw new AppError(403, "forbidden", "only the admin token can set settings.breaker");
  }
  if (body.baseUrl !== undefined) {
    throw new AppError(
      403,
      "forbidden",
      "only the admin token can set baseUrl; omit it to use the provider's API",
    );
  }
  if (body.id !== undefined) {
    throw new AppError(
      403,
      "forbidden",
      "only the admin token can choose connection ids; omit id to get one",
    );
  }
}

type Ctx = { env: Env; req: { param(name: "accountId"): string } };

/** 404 unless the account exists; every account route checks before it touches the object. */
async function existingAccount(c: Ctx): Promise<string> {
  const accountId = c.req.param("accountId");
  await withDb(c.env, (db) => getAccount(db, accountId));
  return accountId;
}

async function existingConnection(env: Env, accountId: string, connectionId: string) {
  return withDb(env, (db) => getConnectionView(db, accountId, connectionId));
}

function checkEntity(provider: string, entity: string): void {
  if (!Object.hasOwn(connectorFor(provider).entities, entity)) {
    throw new AppError(400, "unknown_entity", `"${entity}" is not an entity of ${provider}`);
  }
}

export const admin = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .post("/accounts", async (c) => {
    const body = await jsonBody(c, createAccountBody);
    return c.json(await withDb(c.env, (db) => createAccount(db, body)), 201);
  })
  // Reachable with the admin token only: requireAdmin answers 404 to an account key on a path naming no account.
  .get("/accounts", async (c) => {
    const q = listAccountsQuery.safeParse(c.req.query());
    if (!q.success) {
      const issue = q.error.issues[0];
      throw new AppError(
        400,
        "invalid_request",
        `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
      );
    }
    const { limit, after } = q.data;
    return c.json(
      await withDb(systemDb(c.env), (db) => listAccounts(db, { limit, ...(after ? { after } : {}) })),
    );
  })
  .get("/accounts/:accountId", async (c) => {
    const id = c.req.param("accountId");
    return c.json(
      await withDb(c.env, async (db) => ({
        ...(await getAccount(db, id)),
        connections: await listConnections(db, id),
      })),
    );
  })
  .delete("/accounts/:accountId", async (c) => {
    const accountId = c.req.param("accountId");
    // Irreversible: an account key must name the account a second time; the operator's token suffices.
    if (callerOf(c)?.kind !== "admin" && c.req.query("confirm") !== accountId) {
      throw new AppError(
        400,
        "confirmation_required",
        "deleting an account removes all of its data; repeat its id as ?confirm=<accountId>",
      );
    }
    const exists = await withDb(c.env, (db) => getAccount(db, accountId)).then(
      () => true,
      (error: unknown) => {
        if (error instanceof AppError && error.status === 404) return false;
        throw error;
      },
    );
    // The object goes first so no sync step starts writing again; once more after Postgres, for whatever a
    // step already in flight wrote in between (it finds no connection afterwards and stops).
    const objectStorage: Record<string, number> = exists ? await accountStub(c.env, accountId).purge() : {};
    const purged = await withDb(c.env, (db) => purgeAccount(db, accountId));
    if (exists) {
      for (const [table, n] of Object.entries(await accountStub(c.env, accountId).purge())) {
        objectStorage[table] = (objectStorage[table] ?? 0) + n;
      }
    }
    return c.json({ ...purged, objectStorage });
  })
  .post("/accounts/:accountId/connections", async (c) => {
    const body = await jsonBody(c, createConnectionBody);
    if (callerOf(c)?.kind !== "admin") checkAccountConnectionBody(body);
    const keyring = await parseKeyring(c.env.CREDENTIALS_KEY);
    const view = await withDb(c.env, (db) =>
      createConnection(db, keyring, { ...body, accountId: c.req.param("accountId") }),
    );
    forgetMissingTarget(c.env, view.provider, view.id);
    return c.json(view, 201);
  })
  .get("/accounts/:accountId/connections/:connectionId", async (c) =>
    c.json(await existingConnection(c.env, c.req.param("accountId"), c.req.param("connectionId"))),
  )
  .delete("/accounts/:accountId/connections/:connectionId", async (c) => {
    const accountId = c.req.param("accountId");
    const connectionId = c.req.param("connectionId");
    const view = await existingConnection(c.env, accountId, connectionId);
    const keyring = await parseKeyring(c.env.CREDENTIALS_KEY);
    // Read before the delete: its grant is revoked at the provider once the connection is gone.
    const credentials = await withDb(c.env, (db) =>
      loadConnection(db, keyring, accountId, connectionId),
    ).then(
      (loaded) => loaded.credentials,
      () => null,
    );
    await withDb(c.env, (db) => deleteConnection(db, accountId, connectionId));
    await accountStub(c.env, accountId).forgetConnection(connectionId, view.provider);
    if (credentials) {
      // The provider's webhook subscriptions go first, while the grant still authorises the calls.
      const connector = connectorFor(view.provider);
      const unsubscribed = await unsubscribeWebhooks(
        connector,
        credentials.accessToken
          ? subscriptionContext({
              fetch: (input, init) => fetch(input, init),
              baseUrl: view.baseUrl ?? connector.defaultBaseUrl,
              accessToken: credentials.accessToken,
              credentials,
              webhookUrl: "",
            })
          : null,
      );
      if (unsubscribed.status === "failed") {
        console.warn("webhook unsubscription failed", {
          provider: view.provider,
          connectionId,
          reason: unsubscribed.reason,
        });
      }
      if (unsubscribed.status !== "not_applicable") {
        c.header(
          "X-Webhook-Unsubscription",
          unsubscribed.status === "failed" ? `failed; ${unsubscribed.reason}` : unsubscribed.status,
        );
      }
      // Best effort and bounded (one call, a short timeout): the delete is done whatever the provider says.
      const revocation = await revokeGrant(
        { fetch: (input, init) => fetch(input, init), vars: c.env as unknown as Vars, connectorFor },
        view.provider,
        credentials,
      );
      if (revocation.status === "failed") {
        console.warn("oauth grant revocation failed", {
          provider: view.provider,
          connectionId,
          reason: revocation.reason,
        });
      }
      if (revocation.status !== "not_applicable") {
        c.header(
          "X-OAuth-Revocation",
          revocation.status === "failed" ? `failed; ${revocation.reason}` : revocation.status,
        );
      }
    }
    return c.body(null, 204);
  })
  .post("/accounts/:accountId/sync", async (c) => {
    const body = await jsonBody(c, syncBody);
    const accountId = await existingAccount(c);
    const all = await withDb(c.env, (db) => listConnections(db, accountId));
    const targets = body.connectionId ? all.filter((x) => x.id === body.connectionId) : all;
    if (body.connectionId && targets.length === 0) {
      throw new AppError(404, "connection_not_found", `connection "${body.connectionId}" not found`);
    }
    const entity = body.entity;
    if (entity) for (const conn of targets) checkEntity(conn.provider, entity);
    const runs = [];
    for (const conn of targets) {
      const result = await accountStub(c.env, accountId).startSync({
        accountId,
        connectionId: conn.id,
        provider: conn.provider,
        entities: entity ? [entity] : Object.keys(connectorFor(conn.provider).entities),
        mode: body.mode,
      });
      runs.push({ connectionId: conn.id, ...result });
    }
    return c.json({ runs }, 202);
  })
  .get("/accounts/:accountId/status", async (c) => {
    const accountId = await existingAccount(c);
    return c.json(await accountStatus(c.env, accountId));
  })
  .post("/accounts/:accountId/pause", async (c) => {
    const accountId = await existingAccount(c);
    return c.json(await accountStub(c.env, accountId).pause());
  })
  .post("/accounts/:accountId/resume", async (c) => {
    const accountId = await existingAccount(c);
    return c.json(await accountStub(c.env, accountId).resume());
  })
  .post("/accounts/:accountId/cursor/reset", async (c) => {
    const body = await jsonBody(c, cursorResetBody);
    const accountId = await existingAccount(c);
    const conn = await existingConnection(c.env, accountId, body.connectionId);
    checkEntity(conn.provider, body.entity);
    const state = await accountStub(c.env, accountId).resetCursor(accountId, conn.id, body.entity);
    return c.json({ connectionId: conn.id, entity: body.entity, cursor: null, state });
  })
  .post("/accounts/:accountId/breaker", async (c) => {
    const body = await jsonBody(c, accountBreakerBody);
    const accountId = await existingAccount(c);
    const conn = await existingConnection(c.env, accountId, body.connectionId);
    const breaker = await accountStub(c.env, accountId).setBreaker(conn.id, body.state);
    return c.json({ connectionId: conn.id, breaker });
  })
  .post("/accounts/:accountId/connections/:connectionId/breaker", async (c) => {
    const body = await jsonBody(c, connectionBreakerBody);
    const accountId = await existingAccount(c);
    const conn = await existingConnection(c.env, accountId, c.req.param("connectionId"));
    const breaker = await accountStub(c.env, accountId).setBreaker(conn.id, body.mode);
    return c.json({ connectionId: conn.id, breaker });
  });

import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
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
import { inTenant } from "../accounts/tenant";
import { connectorFor, knownProviders } from "../connectors/registry";
import { breakerSettingsSchema } from "../core/breaker-settings";
import { parseKeyring, randomToken } from "../core/crypto";
import { AppError } from "../core/errors";
import { logger } from "../core/log";
import { rateLimitSettingsSchema } from "../core/rate-settings";
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
import { ADMIN_ONLY, accountErrors, errors, jsonRequest, jsonSchema, ok, queryParameters } from "./openapi";
import {
  accountPurged,
  accountStatusView,
  accountWithConnections,
  breakerView,
  connectionView,
  createdAccount,
  cursorReset as cursorResetView,
  pausedState,
  syncStarted,
} from "./responses";
import { jsonBody, queryOf } from "./validate";

const log = logger("admin");

export const createAccountBody = z.object({
  id: z.string().regex(idPattern).optional(),
  name: z.string().min(1).max(200),
});
export const createConnectionBody = z.object({
  id: z.string().regex(idPattern).optional(),
  provider: z
    .string()
    .refine((p) => knownProviders().includes(p), "unknown provider")
    .meta({ description: `one of: ${knownProviders().join(", ")}` }),
  credentials: z.record(z.string(), z.string()),
  baseUrl: z
    .string()
    .max(2048)
    .url()
    .refine((u) => /^https?:\/\//i.test(u), "must be an http or https URL")
    .optional(),
  settings: z
    .looseObject({
      breaker: breakerSettingsSchema.optional(),
      rateLimits: rateLimitSettingsSchema.optional(),
    })
    .optional(),
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
  // Limits decide how hard the platform drives the provider with the account's key: the operator's call.
  if (body.settings?.rateLimits !== undefined) {
    throw new AppError(403, "forbidden", "only the admin token can set settings.rateLimits");
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

/**
 * A new static-key connection of a provider that subscribes on creation gets its webhook subscriptions
 * before it is stored, with what the hook returns kept among its credentials; a refusal stores nothing (the
 * connection would otherwise take no webhooks unnoticed).
 */
async function subscribedCredentials(
  env: Env,
  requestUrl: string,
  body: { id: string; provider: string; credentials: Record<string, string>; baseUrl?: string },
): Promise<Record<string, string>> {
  const connector = connectorFor(body.provider);
  const hooks = connector.webhooks;
  if (!hooks?.subscribe || !hooks.subscribeOnCreate) return body.credentials;
  let headers: Record<string, string>;
  try {
    headers = connector.authHeaders(body.credentials);
  } catch {
    return body.credentials; // An OAuth connection in the making: the grant's callback subscribes.
  }
  const base = (env.OAUTH_REDIRECT_BASE_URL || new URL(requestUrl).origin).replace(/\/$/, "");
  try {
    const added = await hooks.subscribe(
      subscriptionContext({
        fetch: (input, init) => fetch(input, init),
        sendUrl: (u) => connector.sendUrl(u, body.credentials),
        baseUrl: body.baseUrl ?? connector.defaultBaseUrl,
        accessToken: "",
        headers,
        credentials: body.credentials,
        webhookUrl: `${base}/webhooks/${encodeURIComponent(body.provider)}/${encodeURIComponent(body.id)}`,
      }),
    );
    return { ...body.credentials, ...added };
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : "error";
    throw new AppError(
      503,
      "subscription_failed",
      `the provider refused the webhook subscription: ${reason}`,
    );
  }
}

/** A connection's static auth headers; none when its credentials hold no static key. */
function staticHeaders(
  connector: ReturnType<typeof connectorFor>,
  credentials: Record<string, string>,
): Record<string, string> {
  try {
    return connector.authHeaders(credentials);
  } catch {
    return {};
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

/** What each route is, for the OpenAPI document (see ./openapi.ts). */
const accountsPage = z.object({
  accounts: z.array(z.looseObject({ id: z.string(), name: z.string() })),
  next: z.string().nullable(),
});

const checkResult = z.looseObject({ check: z.string(), ok: z.boolean() });
const actionResult = z.looseObject({ action: z.string() });
const checkList = z.array(z.object({ name: z.string(), description: z.string() }));
const actionList = z.array(
  z.object({
    name: z.string(),
    description: z.string(),
    takesInput: z.boolean().meta({ description: "false when the body must be {}" }),
    input: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: "JSON Schema of the body; null when it cannot be expressed" }),
  }),
);

/** Whether an action's body schema accepts nothing but `{}` (then a form needs no input field). */
function takesInput(schema: z.ZodType): boolean {
  return !(schema instanceof z.ZodObject && Object.keys(schema.shape).length === 0);
}

/** The action's body as JSON Schema, for forms; null when zod cannot express it. */
function inputSchema(schema: z.ZodType): Record<string, unknown> | null {
  try {
    return jsonSchema(schema, "input");
  } catch {
    return null;
  }
}

const doc = {
  accounts: describeRoute({
    tags: ["accounts"],
    summary: "Every account by id, paged with limit and after (admin token only)",
    ...ADMIN_ONLY,
    parameters: queryParameters(listAccountsQuery),
    responses: {
      "200": ok("a page of accounts", accountsPage),
      ...errors({
        "400": "invalid limit or after",
        "401": "no or bad credentials",
        "404": "account keys get no list",
      }),
    },
  }),
  createAccount: describeRoute({
    tags: ["accounts"],
    summary: "Create an account (admin token only); its API key is returned once",
    ...ADMIN_ONLY,
    requestBody: jsonRequest(createAccountBody),
    responses: {
      "201": ok("created, with the API key", createdAccount),
      ...errors({ ...accountErrors, "403": "account keys cannot create accounts", "409": "account exists" }),
    },
  }),
  account: describeRoute({
    tags: ["accounts"],
    summary: "An account with its connections",
    responses: { "200": ok("account", accountWithConnections), ...errors(accountErrors) },
  }),
  check: describeRoute({
    tags: ["connections"],
    summary:
      "Run one of the connection's consistency checks (its connector declares them, e.g. identity alignment between the grant and the records that name it); read only",
    responses: {
      "200": ok("the check's findings", checkResult),
      ...errors({ ...accountErrors, "404": "unknown account, connection or check" }),
    },
  }),
  checks: describeRoute({
    tags: ["connections"],
    summary:
      "The connection's consistency checks by name, with what each reports ([] when its connector declares none)",
    responses: {
      "200": ok("the checks", checkList),
      ...errors({ ...accountErrors, "404": "unknown account or connection" }),
    },
  }),
  actions: describeRoute({
    tags: ["connections"],
    summary:
      "The connection's operator actions by name, with what each does and the JSON Schema of its body ([] when its connector declares none)",
    responses: {
      "200": ok("the actions", actionList),
      ...errors({ ...accountErrors, "404": "unknown account or connection" }),
    },
  }),
  action: describeRoute({
    tags: ["connections"],
    summary:
      "Run one of the connection's operator actions (its connector declares them, e.g. re-resolving records or a manual override, each audited)",
    requestBody: jsonRequest(z.looseObject({})),
    responses: {
      "200": ok("the action's result", actionResult),
      ...errors({
        ...accountErrors,
        "400": "the body does not fit the action",
        "404": "unknown account, connection or action",
      }),
    },
  }),
  purge: describeRoute({
    tags: ["accounts"],
    summary:
      "Purge an account: its rows in every account table and its object's storage; answers the counts removed. An account key must add ?confirm=<accountId>",
    parameters: [
      {
        name: "confirm",
        in: "query",
        description: "the account id again (required of account keys)",
        schema: { type: "string" },
      },
    ],
    responses: {
      "200": ok("purged, with the rows removed per table", accountPurged),
      ...errors({
        ...accountErrors,
        "400": "invalid request, or an account key without ?confirm=<accountId>",
      }),
    },
  }),
  connect: describeRoute({
    tags: ["connections"],
    summary:
      "Connect a provider; credentials are stored encrypted and never returned. Only the admin token may set id, baseUrl, settings.breaker or settings.rateLimits",
    requestBody: jsonRequest(createConnectionBody),
    responses: {
      "201": ok("created", connectionView),
      ...errors({
        ...accountErrors,
        "403": "an account key set id, baseUrl, settings.breaker or settings.rateLimits",
        "409": "connection exists (admin token only)",
      }),
    },
  }),
  connection: describeRoute({
    tags: ["connections"],
    summary: "A connection (without credentials)",
    responses: { "200": ok("connection", connectionView), ...errors(accountErrors) },
  }),
  disconnect: describeRoute({
    tags: ["connections"],
    summary:
      "Remove a connection and forget its sync state; an OAuth grant is then revoked at the provider (best effort, bounded; X-OAuth-Revocation: revoked or failed; <reason>)",
    responses: { "204": ok("deleted"), ...errors(accountErrors) },
  }),
  sync: describeRoute({
    tags: ["sync"],
    summary: "Start delta or onboarding runs for one or all connections and entities",
    requestBody: jsonRequest(syncBody),
    responses: { "202": ok("runs started or already running", syncStarted), ...errors(accountErrors) },
  }),
  status: describeRoute({
    tags: ["sync"],
    summary:
      "Every connection and entity: state, lease, breaker, rate budget, progress and ETA, provider vs our counts",
    responses: { "200": ok("status", accountStatusView), ...errors(accountErrors) },
  }),
  pause: describeRoute({
    tags: ["sync"],
    summary: "Pause the account's syncs (runs stop at their next step)",
    responses: { "200": ok("paused", pausedState), ...errors(accountErrors) },
  }),
  resume: describeRoute({
    tags: ["sync"],
    summary: "Resume paused syncs",
    responses: { "200": ok("resumed", pausedState), ...errors(accountErrors) },
  }),
  cursorReset: describeRoute({
    tags: ["sync"],
    summary: "Forget an entity's delta cursor (the next delta starts from the beginning)",
    requestBody: jsonRequest(cursorResetBody),
    responses: {
      "200": ok("reset", cursorResetView),
      ...errors({ ...accountErrors, "409": "a run is in progress" }),
    },
  }),
  breaker: describeRoute({
    tags: ["sync"],
    summary: "Force a connection's circuit breaker open or closed, or back to automatic",
    requestBody: jsonRequest(accountBreakerBody),
    responses: { "200": ok("breaker state", breakerView), ...errors(accountErrors) },
  }),
  connectionBreaker: describeRoute({
    tags: ["sync"],
    summary: "Same as /breaker, addressed by path",
    requestBody: jsonRequest(connectionBreakerBody),
    responses: { "200": ok("breaker state", breakerView), ...errors(accountErrors) },
  }),
};

export const admin = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .post("/accounts", doc.createAccount, async (c) => {
    const body = await jsonBody(c, createAccountBody);
    return c.json(await withDb(c.env, (db) => createAccount(db, body)), 201);
  })
  // Reachable with the admin token only: requireAdmin answers 404 to an account key on a path naming no account.
  .get("/accounts", doc.accounts, async (c) => {
    const { limit, after } = queryOf(listAccountsQuery, c.req.query());
    return c.json(
      await withDb(systemDb(c.env), (db) => listAccounts(db, { limit, ...(after ? { after } : {}) })),
    );
  })
  .get("/accounts/:accountId", doc.account, async (c) => {
    const id = c.req.param("accountId");
    return c.json(
      await withDb(c.env, async (db) => ({
        ...(await getAccount(db, id)),
        connections: await listConnections(db, id),
      })),
    );
  })
  .delete("/accounts/:accountId", doc.purge, async (c) => {
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
  .post("/accounts/:accountId/connections", doc.connect, async (c) => {
    const body = await jsonBody(c, createConnectionBody);
    if (callerOf(c)?.kind !== "admin") checkAccountConnectionBody(body);
    const keyring = await parseKeyring(c.env.CREDENTIALS_KEY);
    const id = body.id ?? `con_${randomToken(9)}`;
    const credentials = await subscribedCredentials(c.env, c.req.url, { ...body, id });
    const view = await withDb(c.env, (db) =>
      createConnection(db, keyring, { ...body, id, credentials, accountId: c.req.param("accountId") }),
    );
    forgetMissingTarget(c.env, view.provider, view.id);
    return c.json(view, 201);
  })
  .get("/accounts/:accountId/connections/:connectionId/checks", doc.checks, async (c) => {
    const conn = await existingConnection(c.env, c.req.param("accountId"), c.req.param("connectionId"));
    const checks = connectorFor(conn.provider).spec.checks ?? {};
    return c.json(Object.entries(checks).map(([name, check]) => ({ name, description: check.description })));
  })
  .get("/accounts/:accountId/connections/:connectionId/actions", doc.actions, async (c) => {
    const conn = await existingConnection(c.env, c.req.param("accountId"), c.req.param("connectionId"));
    const actions = connectorFor(conn.provider).spec.actions ?? {};
    return c.json(
      Object.entries(actions).map(([name, action]) => ({
        name,
        description: action.description,
        takesInput: takesInput(action.input),
        input: inputSchema(action.input),
      })),
    );
  })
  .get("/accounts/:accountId/connections/:connectionId/checks/:check", doc.check, async (c) => {
    const accountId = c.req.param("accountId");
    const name = c.req.param("check");
    return c.json(
      await withDb(c.env, async (db) => {
        const conn = await getConnectionView(db, accountId, c.req.param("connectionId"));
        const checks = connectorFor(conn.provider).spec.checks ?? {};
        const check = Object.hasOwn(checks, name) ? checks[name] : undefined;
        if (!check)
          throw new AppError(404, "unknown_check", `no check "${name.slice(0, 64)}" for this connection`);
        const result = await inTenant(db, accountId, (t) =>
          check.run(async (q) => (await t.execute(q)).rows as Record<string, unknown>[], {
            accountId,
            connectionId: conn.id,
          }),
        );
        return { check: name, ...result };
      }),
    );
  })
  .post("/accounts/:accountId/connections/:connectionId/actions/:action", doc.action, async (c) => {
    const accountId = c.req.param("accountId");
    const name = c.req.param("action");
    const caller = callerOf(c);
    const actor = caller?.kind === "admin" ? "admin" : `account:${accountId}`;
    return c.json(
      await withDb(c.env, async (db) => {
        const conn = await getConnectionView(db, accountId, c.req.param("connectionId"));
        const actions = connectorFor(conn.provider).spec.actions ?? {};
        const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
        if (!action)
          throw new AppError(404, "unknown_action", `no action "${name.slice(0, 64)}" for this connection`);
        const input = await jsonBody(c, action.input);
        const result = await inTenant(db, accountId, (t) =>
          action.run(
            async (q) => (await t.execute(q)).rows as Record<string, unknown>[],
            { accountId, connectionId: conn.id },
            input,
            actor,
          ),
        );
        return { action: name, ...result };
      }),
    );
  })
  .get("/accounts/:accountId/connections/:connectionId", doc.connection, async (c) =>
    c.json(await existingConnection(c.env, c.req.param("accountId"), c.req.param("connectionId"))),
  )
  .delete("/accounts/:accountId/connections/:connectionId", doc.disconnect, async (c) => {
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
        credentials.accessToken || connector.webhooks?.subscribeOnCreate
          ? subscriptionContext({
              fetch: (input, init) => fetch(input, init),
              sendUrl: (u) => connector.sendUrl(u, credentials),
              baseUrl: view.baseUrl ?? connector.defaultBaseUrl,
              accessToken: credentials.accessToken ?? "",
              headers: credentials.accessToken
                ? { ...connector.spec.auth.fixedHeaders }
                : staticHeaders(connector, credentials),
              credentials,
              webhookUrl: "",
            })
          : null,
      );
      if (unsubscribed.status === "failed") {
        log.warn("webhook unsubscription failed", {
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
        log.warn("oauth grant revocation failed", {
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
  .post("/accounts/:accountId/sync", doc.sync, async (c) => {
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
  .get("/accounts/:accountId/status", doc.status, async (c) => {
    const accountId = await existingAccount(c);
    return c.json(await accountStatus(c.env, accountId));
  })
  .post("/accounts/:accountId/pause", doc.pause, async (c) => {
    const accountId = await existingAccount(c);
    return c.json(await accountStub(c.env, accountId).pause());
  })
  .post("/accounts/:accountId/resume", doc.resume, async (c) => {
    const accountId = await existingAccount(c);
    return c.json(await accountStub(c.env, accountId).resume());
  })
  .post("/accounts/:accountId/cursor/reset", doc.cursorReset, async (c) => {
    const body = await jsonBody(c, cursorResetBody);
    const accountId = await existingAccount(c);
    const conn = await existingConnection(c.env, accountId, body.connectionId);
    checkEntity(conn.provider, body.entity);
    const state = await accountStub(c.env, accountId).resetCursor(accountId, conn.id, body.entity);
    return c.json({ connectionId: conn.id, entity: body.entity, cursor: null, state });
  })
  .post("/accounts/:accountId/breaker", doc.breaker, async (c) => {
    const body = await jsonBody(c, accountBreakerBody);
    const accountId = await existingAccount(c);
    const conn = await existingConnection(c.env, accountId, body.connectionId);
    const breaker = await accountStub(c.env, accountId).setBreaker(conn.id, body.state);
    return c.json({ connectionId: conn.id, breaker });
  })
  .post("/accounts/:accountId/connections/:connectionId/breaker", doc.connectionBreaker, async (c) => {
    const body = await jsonBody(c, connectionBreakerBody);
    const accountId = await existingAccount(c);
    const conn = await existingConnection(c.env, accountId, c.req.param("connectionId"));
    const breaker = await accountStub(c.env, accountId).setBreaker(conn.id, body.mode);
    return c.json({ connectionId: conn.id, breaker });
  });

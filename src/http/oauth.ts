import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { getConnectionView } from "../accounts/accounts";
import { connectorFor } from "../connectors/registry";
import { parseKeyring, randomToken } from "../core/crypto";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import type { Vars } from "../oauth/config";
import { completeAuthorization, type OAuthFlowDeps, startAuthorization } from "../oauth/flow";
import { accountStub } from "../sync/stubs";
import { forgetMissingTarget } from "../webhooks/targets";
import { callerOf, requireAdmin } from "./auth";
import { ID_PATTERN } from "./input";
import { accountErrors, errors, ok, PUBLIC, queryParameters } from "./openapi";
import { oauthCompleted, oauthStarted } from "./responses";

export const oauthStartQuery = z.object({
  provider: z.string().regex(ID_PATTERN).optional(),
  redirect: z.enum(["true", "false"]).optional(),
});
export const oauthCallbackQuery = z.object({
  code: z.string().max(2048).optional(),
  state: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
});

/** The query of an OAuth route, or a 400 naming the parameter at fault. */
function query<S extends z.ZodObject>(schema: S, raw: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join(".") || "query";
    throw new AppError(400, "invalid_query", `invalid query parameter "${field}"`);
  }
  return parsed.data;
}

/** The connection id of a start that creates one: the platform picks a fresh id. */
const NEW_CONNECTION = "new";

function stateSecret(env: Env): string {
  if (!env.OAUTH_STATE_SECRET) {
    throw new AppError(503, "oauth_not_configured", "OAuth is not configured (OAUTH_STATE_SECRET)");
  }
  return env.OAUTH_STATE_SECRET;
}

/** The platform's public origin: OAUTH_REDIRECT_BASE_URL, else this request's origin. */
function publicBase(env: Env, requestUrl: string): string {
  return (env.OAUTH_REDIRECT_BASE_URL || new URL(requestUrl).origin).replace(/\/$/, "");
}

/** Where the provider sends the user back. */
function redirectUri(env: Env, requestUrl: string, provider: string): string {
  return `${publicBase(env, requestUrl)}/oauth/callback/${encodeURIComponent(provider)}`;
}

async function flowDeps(env: Env, db: OAuthFlowDeps["db"]): Promise<OAuthFlowDeps> {
  return {
    db,
    keyring: await parseKeyring(env.CREDENTIALS_KEY),
    fetch: (input, init) => fetch(input, init),
    now: Date.now,
    vars: env as unknown as Vars,
    stateSecret: stateSecret(env),
    connectorFor,
    consumeNonce: (state) =>
      accountStub(env, state.accountId).consumeOAuthState({ nonce: state.nonce, expiresAt: state.expiresAt }),
  };
}

/**
 * Start of the connect flow (admin token or the account's key): the provider's authorize URL with a signed,
 * single-use state, as JSON, or as a 302 with ?redirect=true. `new` as the connection id creates a connection
 * with a generated id when the callback succeeds; account keys may otherwise only re-authorise their own.
 */
const START_PATH = "/accounts/:accountId/connections/:connectionId/oauth/start";

const startDoc = describeRoute({
  tags: ["connections"],
  summary:
    "Start the OAuth connect flow: the provider's authorize URL with a signed, expiring, single-use state (JSON, or a 302 with ?redirect=true). `new` as the connection id creates one when the callback succeeds; an existing id re-authorises it. ?provider= names the provider of a new connection",
  parameters: queryParameters(oauthStartQuery),
  responses: {
    "200": ok("the authorize URL", oauthStarted),
    "302": ok("redirect to the provider's authorize URL"),
    ...errors({
      ...accountErrors,
      "400": "unknown provider parameter, a provider without OAuth, or no provider for a new connection",
      "409": "the connection belongs to another provider",
      "503": "OAuth is not configured for the provider (client id/secret, state secret)",
    }),
  },
});

const backDoc = describeRoute({
  tags: ["connections"],
  summary:
    "The provider's redirect back (no credentials: the signed state is the proof). Exchanges the code, stores the tokens encrypted on the connection (created or re-authorised, auth_failed cleared) and starts its onboarding sync",
  ...PUBLIC,
  parameters: queryParameters(oauthCallbackQuery),
  responses: {
    "200": ok("connection re-authorised; onboarding started", oauthCompleted),
    "201": ok("connection created; onboarding started", oauthCompleted),
    ...errors({
      "400":
        "bad, expired or replayed state, access denied, missing code, or the provider refused the code; nothing stored",
      "404": "unknown provider",
      "409": "the connection id is taken",
      "503": "the provider's token endpoint failed or OAuth is not configured",
    }),
  },
});

// Authenticates this route only: mounted under /admin, a "*" would check every admin request once more.
export const oauthStart = new Hono<{ Bindings: Env }>()
  .use(START_PATH, requireAdmin)
  .on(["GET", "POST"], START_PATH, startDoc, async (c) => {
    const accountId = c.req.param("accountId");
    const asked = c.req.param("connectionId");
    const { provider, redirect } = query(oauthStartQuery, c.req.query());
    if (asked !== NEW_CONNECTION && !ID_PATTERN.test(asked)) {
      throw new AppError(400, "invalid_connection_id", "connection ids are 1-64 of A-Z a-z 0-9 _ -");
    }
    const connectionId = asked === NEW_CONNECTION ? `con_${randomToken(9)}` : asked;
    if (asked !== NEW_CONNECTION && callerOf(c)?.kind !== "admin") {
      // Connection ids are global: an account key re-authorises its own, and gets generated ids for new ones.
      await withDb(c.env, (db) => getConnectionView(db, accountId, asked));
    }
    const started = await withDb(c.env, async (db) => {
      const deps = await flowDeps(c.env, db);
      const named = provider ?? (await existingProvider(db, accountId, connectionId));
      return startAuthorization(deps, {
        accountId,
        connectionId,
        ...(named ? { provider: named } : {}),
        redirectUri: redirectUri(c.env, c.req.url, named ?? ""),
      });
    });
    if (redirect === "true") return c.redirect(started.authorizeUrl, 302);
    return c.json(started);
  });

async function existingProvider(db: OAuthFlowDeps["db"], accountId: string, connectionId: string) {
  try {
    return (await getConnectionView(db, accountId, connectionId)).provider;
  } catch (error) {
    if (error instanceof AppError && error.status === 404 && error.code === "connection_not_found")
      return undefined;
    throw error;
  }
}

/**
 * The provider's redirect back (unauthenticated: the signed, single-use state is the proof). Stores the
 * tokens encrypted on the connection, lets its calls through again, and starts its onboarding sync.
 */
export const oauthCallback = new Hono<{ Bindings: Env }>().get("/callback/:provider", backDoc, async (c) => {
  const provider = c.req.param("provider");
  connectorFor(provider);
  const q = query(oauthCallbackQuery, c.req.query());
  const done = await withDb(c.env, async (db) =>
    completeAuthorization(await flowDeps(c.env, db), {
      provider,
      code: q.code,
      state: q.state,
      error: q.error,
      redirectUri: redirectUri(c.env, c.req.url, provider),
      webhookUrl: (connectionId) =>
        `${publicBase(c.env, c.req.url)}/webhooks/${encodeURIComponent(provider)}/${encodeURIComponent(connectionId)}`,
    }),
  );
  const stub = accountStub(c.env, done.accountId);
  await stub.grantRestored({
    connectionId: done.connectionId,
    wasAuthFailed: done.previousStatus === "auth_failed",
  });
  forgetMissingTarget(c.env, provider, done.connectionId);
  const sync = await stub.startSync({
    accountId: done.accountId,
    connectionId: done.connectionId,
    provider,
    entities: Object.keys(connectorFor(provider).entities),
    mode: "onboarding",
  });
  return c.json({ ...done, sync }, done.created ? 201 : 200);
});

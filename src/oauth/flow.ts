import { and, eq } from "drizzle-orm";
import { getAccount } from "../accounts/accounts";
import { markAuthDependents } from "../accounts/auth-dependents";
import { encryptCredentials, loadConnection } from "../accounts/connections";
import { inTenant } from "../accounts/tenant";
import type { Connector, Credentials } from "../connectors/types";
import { type Keyring, randomToken } from "../core/crypto";
import { AppError } from "../core/errors";
import type { Db } from "../db/client";
import { connections } from "../db/schema";
import { basicClientAuth, type OAuthClient, oauthClient, type Vars } from "./config";
import { type OAuthState, STATE_TTL_MS, signState, verifyState } from "./state";
import { subscriptionContext, unsubscribeWebhooks } from "./subscriptions";

export type OAuthFlowDeps = {
  db: Db;
  keyring: Keyring;
  fetch: typeof fetch;
  now: () => number;
  vars: Vars;
  /** HMAC key of the `state` (OAUTH_STATE_SECRET). */
  stateSecret: string;
  connectorFor(provider: string): Connector;
  /** Records the state's nonce as used; false when it was used before (a replayed callback). */
  consumeNonce(state: OAuthState): Promise<boolean>;
};

const TOKEN_TIMEOUT_MS = 15_000;
const REVOKE_TIMEOUT_MS = 5_000;
/** A provider error code echoed to the caller only when it looks like one (RFC 6749 `invalid_grant`). */
const ERROR_CODE = /^[a-z_]{1,64}$/;

type ExistingConnection = { id: string; provider: string; status: string; baseUrl: string | null };

async function findConnection(
  db: Db,
  accountId: string,
  connectionId: string,
): Promise<ExistingConnection | null> {
  const rows = await inTenant(db, accountId, (t) =>
    t
      .select({
        id: connections.id,
        provider: connections.provider,
        status: connections.status,
        baseUrl: connections.baseUrl,
      })
      .from(connections)
      .where(and(eq(connections.id, connectionId), eq(connections.accountId, accountId)))
      .limit(1),
  );
  return rows[0] ?? null;
}

export type StartedAuthorization = {
  authorizeUrl: string;
  accountId: string;
  connectionId: string;
  provider: string;
  expiresAt: string;
};

/**
 * The provider's authorize URL for a connection (existing: re-authorisation; new: created by the callback),
 * with a signed, expiring, single-use `state`.
 */
export async function startAuthorization(
  deps: OAuthFlowDeps,
  input: { accountId: string; connectionId: string; provider?: string; redirectUri: string },
): Promise<StartedAuthorization> {
  await getAccount(deps.db, input.accountId);
  const existing = await findConnection(deps.db, input.accountId, input.connectionId);
  const provider = existing?.provider ?? input.provider;
  if (!provider) {
    throw new AppError(400, "provider_required", "name the provider (?provider=) for a new connection");
  }
  if (existing && input.provider && input.provider !== existing.provider) {
    throw new AppError(
      409,
      "provider_mismatch",
      `connection "${existing.id}" is a ${existing.provider} connection`,
    );
  }
  const client = oauthClient(deps.connectorFor(provider), deps.vars);
  const expiresAt = deps.now() + STATE_TTL_MS;
  const state = await signState(deps.stateSecret, {
    accountId: input.accountId,
    connectionId: input.connectionId,
    provider,
    expiresAt,
    nonce: randomToken(16),
  });
  const url = new URL(client.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", input.redirectUri);
  url.searchParams.set("state", state);
  if (client.spec.scopes.length > 0) {
    url.searchParams.set("scope", client.spec.scopes.join(client.spec.scopeSeparator ?? " "));
  }
  for (const [k, v] of Object.entries(client.spec.authorizeParams ?? {})) url.searchParams.set(k, v);
  return {
    authorizeUrl: url.toString(),
    accountId: input.accountId,
    connectionId: input.connectionId,
    provider,
    expiresAt: new Date(expiresAt).toISOString(),
  };
}

export type CompletedAuthorization = {
  accountId: string;
  connectionId: string;
  provider: string;
  created: boolean;
  /** The connection's status before (`auth_failed` when this re-authorised a refused grant); null if new. */
  previousStatus: string | null;
};

/** Body of a token or revoke call, in the form body or the query string as the provider takes them. */
function withParams(client: OAuthClient, url: string, params: Record<string, string>) {
  const body = new URLSearchParams(params);
  if (client.spec.paramsIn === "query") {
    const u = new URL(url);
    for (const [k, v] of body) u.searchParams.set(k, v);
    return { url: u.toString(), body: undefined };
  }
  return { url, body: body.toString() };
}

/**
 * The callback: checks the state (signature, expiry, provider, first use), exchanges the code at the token
 * endpoint with HTTP Basic client auth, and stores the token pair encrypted on the connection, creating it or
 * replacing its credentials and clearing `auth_failed`. Any refusal is a 4xx and stores nothing.
 */
export async function completeAuthorization(
  deps: OAuthFlowDeps,
  input: {
    provider: string;
    code?: string | undefined;
    state?: string | undefined;
    error?: string | undefined;
    redirectUri: string;
    /** Where the connection's webhooks are sent, for a connector that subscribes to them. */
    webhookUrl?: (connectionId: string) => string;
  },
): Promise<CompletedAuthorization> {
  if (!input.state) throw new AppError(400, "invalid_state", "the callback carries no state");
  const state = await verifyState(deps.stateSecret, input.state, input.provider, deps.now());
  if (!(await deps.consumeNonce(state))) {
    throw new AppError(400, "state_used", "this authorization was already completed; start it again");
  }
  if (input.error) {
    const code = ERROR_CODE.test(input.error) ? input.error : "authorization_error";
    throw new AppError(
      400,
      code === "access_denied" ? "access_denied" : "authorization_refused",
      code === "access_denied"
        ? "the user denied access"
        : `the provider refused the authorization (${code})`,
    );
  }
  if (!input.code) throw new AppError(400, "code_required", "the callback carries no code");
  const client = oauthClient(deps.connectorFor(state.provider), deps.vars);
  const tokens = await exchangeCode(deps, client, input.code, input.redirectUri);

  const credentials: Credentials = {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    tokenUrl: client.tokenUrl,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    accessTokenExpiresAt: String(deps.now() + tokens.expiresInSec * 1000),
  };
  const existing = await findConnection(deps.db, state.accountId, state.connectionId);
  const connector = deps.connectorFor(state.provider);
  const subscribe = connector.webhooks?.subscribe;
  if (subscribe && input.webhookUrl) {
    // Subscriptions (and whatever identity the provider's hook reads) are part of an authorised connection:
    // without them it would take no webhooks unnoticed, so a refusal stores nothing.
    try {
      Object.assign(
        credentials,
        await subscribe(
          subscriptionContext({
            fetch: deps.fetch,
            sendUrl: (u) => connector.sendUrl(u, credentials),
            baseUrl: existing?.baseUrl ?? client.apiBaseUrl ?? connector.defaultBaseUrl,
            accessToken: tokens.accessToken,
            headers: { ...connector.spec.auth.fixedHeaders },
            credentials,
            webhookUrl: input.webhookUrl(state.connectionId),
          }),
        ),
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message.slice(0, 200) : "error";
      throw new AppError(
        503,
        "subscription_failed",
        `the provider refused the webhook subscription: ${reason}`,
      );
    }
  }
  const blob = await encryptCredentials(deps.keyring, state.accountId, state.connectionId, credentials);
  if (existing) {
    // Read before the blob is replaced: they name the subscriptions the previous grant made.
    const previous =
      subscribe && connector.webhooks?.unsubscribe
        ? await loadConnection(deps.db, deps.keyring, state.accountId, existing.id).then(
            (loaded) => loaded.credentials,
            () => null,
          )
        : null;
    // The pair replaces the whole blob in one statement: no reader sees half of it.
    await inTenant(deps.db, state.accountId, async (t) => {
      await t
        .update(connections)
        .set({ credentialsEnc: blob, status: "active" })
        .where(and(eq(connections.id, existing.id), eq(connections.accountId, state.accountId)));
      // The new grant lifts the cascade's marks from everything that depended on the refused one, in the
      // same transaction: no reader sees an active connection with marked dependents.
      await markAuthDependents(
        async (q) => (await t.execute(q)).rows as Record<string, unknown>[],
        connector,
        { accountId: state.accountId, connectionId: existing.id },
        false,
      );
    });
    if (previous && input.webhookUrl) {
      // The new subscriptions exist, so removing the old ones leaves no gap; without this every
      // re-authorisation would add a set and each change would be delivered once per set. Best effort: the
      // new grant (same client and user) authorises the calls; a failure leaves duplicates, which are
      // harmless (events are deduplicated and fetched again), so it is logged and not thrown.
      const removed = await unsubscribeWebhooks(
        connector,
        subscriptionContext({
          fetch: deps.fetch,
          sendUrl: (u) => connector.sendUrl(u, previous),
          baseUrl: existing.baseUrl ?? client.apiBaseUrl ?? connector.defaultBaseUrl,
          accessToken: tokens.accessToken,
          headers: { ...connector.spec.auth.fixedHeaders },
          credentials: previous,
          webhookUrl: input.webhookUrl(state.connectionId),
        }),
      );
      if (removed.status === "failed") {
        console.warn("previous webhook subscriptions not removed", {
          provider: state.provider,
          connectionId: existing.id,
          reason: removed.reason,
        });
      }
    }
    return { ...identity(state), created: false, previousStatus: existing.status };
  }
  const inserted = await inTenant(deps.db, state.accountId, (t) =>
    t
      .insert(connections)
      .values({
        id: state.connectionId,
        accountId: state.accountId,
        provider: state.provider,
        baseUrl: client.apiBaseUrl,
        credentialsEnc: blob,
        settings: {},
      })
      .onConflictDoNothing()
      .returning({ id: connections.id }),
  );
  if (inserted.length === 0) {
    throw new AppError(409, "connection_exists", `connection "${state.connectionId}" already exists`);
  }
  return { ...identity(state), created: true, previousStatus: null };
}

const identity = (s: OAuthState) => ({
  accountId: s.accountId,
  connectionId: s.connectionId,
  provider: s.provider,
});

async function exchangeCode(deps: OAuthFlowDeps, client: OAuthClient, code: string, redirectUri: string) {
  const call = withParams(client, client.tokenUrl, {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
  });
  let response: Response;
  try {
    response = await deps.fetch(call.url, {
      method: "POST",
      headers: {
        Authorization: basicClientAuth(client),
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    });
  } catch (error) {
    const name = error instanceof Error ? error.name : "error";
    throw new AppError(
      503,
      "token_endpoint_unreachable",
      `the provider's token endpoint is unreachable (${name})`,
    );
  }
  const body = (await response.json().catch(() => null)) as {
    access_token?: unknown;
    refresh_token?: unknown;
    expires_in?: unknown;
    error?: unknown;
  } | null;
  if (!response.ok) {
    const code = typeof body?.error === "string" && ERROR_CODE.test(body.error) ? body.error : null;
    if (response.status >= 500) {
      throw new AppError(
        503,
        "token_endpoint_failed",
        `the provider's token endpoint answered HTTP ${response.status}`,
      );
    }
    throw new AppError(
      400,
      "token_exchange_refused",
      `the provider refused the code (HTTP ${response.status}${code ? `, ${code}` : ""}); start the authorization again`,
    );
  }
  if (typeof body?.access_token !== "string" || body.access_token === "") {
    throw new AppError(
      503,
      "token_endpoint_failed",
      "the provider's token endpoint answered without an access_token",
    );
  }
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : "",
    expiresInSec: typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 12 * 3600,
  };
}

export type Revocation =
  | { status: "revoked" }
  | { status: "not_applicable" }
  | { status: "failed"; reason: string };

/**
 * Revokes a deleted connection's grant at the provider: best effort, one bounded call, never thrown. The
 * refresh token goes first (revoking it ends the grant at most providers), else the access token.
 */
export async function revokeGrant(
  deps: Pick<OAuthFlowDeps, "fetch" | "vars" | "connectorFor">,
  provider: string,
  credentials: Credentials,
): Promise<Revocation> {
  let client: OAuthClient;
  try {
    client = oauthClient(deps.connectorFor(provider), deps.vars);
  } catch (error) {
    if (error instanceof AppError && error.code === "oauth_unsupported") return { status: "not_applicable" };
    return { status: "failed", reason: error instanceof AppError ? error.code : "configuration" };
  }
  const token = credentials.refreshToken || credentials.accessToken;
  if (!client.revokeUrl || !token) return { status: "not_applicable" };
  const call = withParams(client, client.revokeUrl, { [client.spec.revokeParam ?? "token"]: token });
  try {
    const response = await deps.fetch(call.url, {
      method: "POST",
      headers: {
        Authorization: basicClientAuth(client),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => {});
    return response.ok ? { status: "revoked" } : { status: "failed", reason: `HTTP ${response.status}` };
  } catch (error) {
    return { status: "failed", reason: error instanceof Error ? error.name : "error" };
  }
}

import { type CredentialStore, pgCredentialStore } from "../src/accounts/credential-store";
import type { Credentials } from "../src/connectors/types";
import { fullJitterBackoffMs } from "../src/core/backoff";
import {
  credentialAad,
  decryptSecret,
  encryptSecret,
  type Keyring,
  parseKeyring,
  sha256Hex,
} from "../src/core/crypto";
import { openDb } from "../src/db/client";
import type { Env } from "../src/env";
import { breakerStore } from "./breaker-store";
import { setTimer, syncAlarm } from "./timers";

/**
 * OAuth credentials of a refresh-token provider (Dotloop style), as stored encrypted on the connection:
 * clientId, clientSecret, tokenUrl, refreshToken, accessToken, accessTokenExpiresAt (epoch ms, as a string).
 */
export const REFRESH_AHEAD_MS = 5 * 60_000;
const AUTH_FAILED_RETRY_MS = 60 * 60_000;

export class TokenError extends Error {
  constructor(
    public readonly code: "auth_failed" | "refresh_unavailable" | "not_oauth" | "connection_not_found",
    message: string,
    public readonly retryAt?: number,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

export type TokenDeps = {
  sql: SqlStorage;
  fetch: typeof fetch;
  now: () => number;
  keyring: () => Promise<Keyring>;
  /** Runs fn with a credential store bound to a per-call database handle (pools don't outlive a call). */
  withStore<T>(fn: (store: CredentialStore) => Promise<T>): Promise<T>;
  /** Asks for a proactive refresh at `at` (the object's alarm); absent in tests that drive time themselves. */
  schedule?(accountId: string, connectionId: string, at: number): void;
};

export const TOKEN_SQLITE_SCHEMA = `create table if not exists oauth_refresh_failures (
  connection_id text primary key, blob_hash text not null, failures integer not null,
  retry_at integer not null, permanent integer not null, error text not null)`;

type FailureRow = { blob_hash: string; failures: number; retry_at: number; permanent: number; error: string };

/**
 * Hands out a valid access token per connection, refreshing ahead of expiry. Single-flight: every caller that
 * needs a connection's token while one load/refresh is under way awaits that same promise, so N concurrent
 * needs make at most one token call. The object is single-threaded, so the map check and insert are atomic.
 */
export class TokenRefresher {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly deps: TokenDeps) {
    deps.sql.exec(TOKEN_SQLITE_SCHEMA);
  }

  /**
   * `refused`: the token the provider just answered 401 to. It is renewed even before its expiry, once: callers
   * refused the same token share the renewal, and a caller whose token was already replaced gets the new one.
   */
  async accessToken(accountId: string, connectionId: string, refused?: string): Promise<string> {
    const running = this.inflight.get(connectionId);
    if (running) {
      const token = await running;
      if (refused === undefined || token !== refused) return token;
      return this.accessToken(accountId, connectionId, refused);
    }
    const started = this.load(accountId, connectionId, refused).finally(() =>
      this.inflight.delete(connectionId),
    );
    this.inflight.set(connectionId, started);
    return started;
  }

  private async load(accountId: string, connectionId: string, refused?: string): Promise<string> {
    const { deps } = this;
    const keyring = await deps.keyring();
    const aad = credentialAad(accountId, connectionId);
    const row = await deps.withStore((s) => s.load(accountId, connectionId));
    if (!row) throw new TokenError("connection_not_found", `connection "${connectionId}" not found`);
    const creds = JSON.parse(await decryptSecret(keyring, row.blob, aad)) as Credentials;
    if (!creds.refreshToken || !creds.clientId || !creds.tokenUrl) {
      throw new TokenError("not_oauth", "the connection has no OAuth refresh credentials");
    }
    const now = deps.now();
    const expiresAt = Number(creds.accessTokenExpiresAt ?? 0);
    const fresh = creds.accessToken && expiresAt - now > REFRESH_AHEAD_MS;
    // A refused token that is no longer the stored one was already renewed by someone else.
    if (creds.accessToken && (refused === undefined ? fresh : creds.accessToken !== refused)) {
      return creds.accessToken;
    }

    const blobHash = await sha256Hex(row.blob);
    const failure = this.failure(connectionId, blobHash);
    // The same credentials failed recently: don't hammer the provider. New credentials clear this.
    if (failure && failure.retry_at > now) {
      throw new TokenError(
        failure.permanent ? "auth_failed" : "refresh_unavailable",
        `token refresh is suspended after a failure (${failure.error})`,
        failure.retry_at,
      );
    }
    return this.refresh({ accountId, connectionId, keyring, aad, blob: row.blob, blobHash, creds, failure });
  }

  private async refresh(args: {
    accountId: string;
    connectionId: string;
    keyring: Keyring;
    aad: string;
    blob: string;
    blobHash: string;
    creds: Credentials;
    failure: FailureRow | null;
  }): Promise<string> {
    const { deps } = this;
    const { creds } = args;
    let response: Response;
    try {
      response = await deps.fetch(creds.tokenUrl ?? "", {
        method: "POST",
        headers: {
          Authorization: `Basic ${btoa(`${creds.clientId}:${creds.clientSecret ?? ""}`)}`,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: creds.refreshToken ?? "",
        }).toString(),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : "error";
      throw await this.fail(args, false, `token endpoint unreachable (${name})`);
    }
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => {});
      // invalid_grant / invalid_client: the grant is dead until someone re-authorizes the connection.
      throw await this.fail(args, true, `token endpoint answered HTTP ${response.status}`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw await this.fail(args, false, `token endpoint answered HTTP ${response.status}`);
    }
    let body: { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown };
    try {
      body = await response.json();
    } catch {
      throw await this.fail(args, false, "token endpoint answered with unreadable JSON");
    }
    if (typeof body.access_token !== "string" || !body.access_token) {
      throw await this.fail(args, false, "token endpoint answered without an access_token");
    }
    const expiresIn =
      typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 12 * 3600;
    const next: Credentials = {
      ...creds,
      accessToken: body.access_token,
      // Providers that rotate refresh tokens invalidate the old one: the pair is stored together or not at all.
      refreshToken:
        typeof body.refresh_token === "string" && body.refresh_token
          ? body.refresh_token
          : (creds.refreshToken ?? ""),
      accessTokenExpiresAt: String(deps.now() + expiresIn * 1000),
    };
    const blob = await encryptSecret(args.keyring, JSON.stringify(next), args.aad);
    // If the credentials were replaced meanwhile (re-authorized), theirs win; our token is still good to use.
    await deps.withStore((s) => s.swap(args.accountId, args.connectionId, args.blob, blob));
    deps.sql.exec("delete from oauth_refresh_failures where connection_id = ?", args.connectionId);
    deps.schedule?.(args.accountId, args.connectionId, Number(next.accessTokenExpiresAt) - REFRESH_AHEAD_MS);
    return body.access_token;
  }

  private failure(connectionId: string, blobHash: string): FailureRow | null {
    const row = this.deps.sql
      .exec<FailureRow>(
        "select blob_hash, failures, retry_at, permanent, error from oauth_refresh_failures where connection_id = ?",
        connectionId,
      )
      .toArray()[0];
    return row && row.blob_hash === blobHash ? row : null;
  }

  private async fail(
    args: { accountId: string; connectionId: string; blobHash: string; failure: FailureRow | null },
    permanent: boolean,
    error: string,
  ): Promise<TokenError> {
    const { deps } = this;
    const now = deps.now();
    const failures = (args.failure?.failures ?? 0) + 1;
    const retryAt =
      now +
      (permanent
        ? AUTH_FAILED_RETRY_MS
        : fullJitterBackoffMs(failures, { baseMs: 5_000, capMs: 10 * 60_000 }));
    deps.sql.exec(
      `insert into oauth_refresh_failures (connection_id, blob_hash, failures, retry_at, permanent, error)
       values (?, ?, ?, ?, ?, ?)
       on conflict (connection_id) do update set blob_hash = excluded.blob_hash, failures = excluded.failures,
         retry_at = excluded.retry_at, permanent = excluded.permanent, error = excluded.error`,
      args.connectionId,
      args.blobHash,
      failures,
      retryAt,
      permanent ? 1 : 0,
      error,
    );
    // A transient failure is retried by the alarm after its backoff; a dead grant waits for re-authorization.
    if (!permanent) deps.schedule?.(args.accountId, args.connectionId, retryAt);
    // Every request of the connection would fail the same way: hold them all until it is re-authorized.
    if (permanent) await markAuthFailed(deps, args.accountId, args.connectionId);
    return new TokenError(permanent ? "auth_failed" : "refresh_unavailable", error, retryAt);
  }
}

/**
 * A refused grant or login: the connection is `auth_failed` (its row, hence status) and its breaker is held
 * open, so no call of it reaches the provider until it is re-authorised (the connect flow clears both).
 */
export async function markAuthFailed(
  deps: Pick<TokenDeps, "sql" | "now" | "withStore">,
  accountId: string,
  connectionId: string,
): Promise<void> {
  breakerStore.force(deps.sql, connectionId, "open", deps.now());
  await deps.withStore((s) => s.setStatus(accountId, connectionId, "auth_failed")).catch(() => {});
}

const refreshers = new WeakMap<DurableObjectState, TokenRefresher>();

/** One refresher per object instance: the single-flight map must be shared by every call into the object. */
export function refresherFor(ctx: DurableObjectState, make: () => TokenDeps): TokenRefresher {
  let refresher = refreshers.get(ctx);
  if (!refresher) {
    refresher = new TokenRefresher(make());
    refreshers.set(ctx, refresher);
  }
  return refresher;
}

export const TOKEN_TIMER = "token:";
type TokenTimerPayload = { accountId: string; connectionId: string };

/** The object-side dependencies behind AccountSync.accessToken and its refresh timers. */
export function tokenDepsFor(ctx: DurableObjectState, env: Env): TokenDeps {
  return {
    schedule: (accountId, connectionId, at) => {
      setTimer(ctx.storage, `${TOKEN_TIMER}${connectionId}`, at, {
        accountId,
        connectionId,
      } satisfies TokenTimerPayload);
      ctx.waitUntil(syncAlarm(ctx.storage).catch(() => {}));
    },
    sql: ctx.storage.sql,
    fetch: (input, init) => fetch(input, init),
    now: Date.now,
    keyring: () => parseKeyring(env.CREDENTIALS_KEY),
    withStore: async (fn) => {
      const handle = openDb(env);
      try {
        return await fn(pgCredentialStore(handle.db));
      } finally {
        ctx.waitUntil(handle.close().catch(() => {}));
      }
    },
  };
}

/**
 * A token timer fired (AccountSync.alarm): refresh ahead of expiry so a sync never waits on the token
 * endpoint. Idempotent: a token that is still fresh is simply returned, and failures reschedule themselves.
 */
export async function refreshOnTimer(ctx: DurableObjectState, env: Env, timerPayload: string): Promise<void> {
  const { accountId, connectionId } = JSON.parse(timerPayload) as TokenTimerPayload;
  await refresherFor(ctx, () => tokenDepsFor(ctx, env))
    .accessToken(accountId, connectionId)
    .catch(() => {});
}

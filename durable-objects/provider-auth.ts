import type { LoadedConnection } from "../src/accounts/connections";
import type { AuthSource, AuthSpec, Credentials } from "../src/connectors/types";
import type { Env } from "../src/env";
import {
  markAuthFailed,
  refresherFor,
  type TokenDeps,
  TokenError,
  type TokenRefresher,
  tokenDepsFor,
} from "./tokens";

/** The engine's side of a connection's auth step: where its tokens and sessions come from. */
export type ProviderAuth = (connection: LoadedConnection) => AuthSource;

const DEFAULT_SESSION_TTL_MS = 30 * 60_000;
/** A session is renewed this long before the expiry its login announced. */
const SESSION_AHEAD_MS = 60_000;
const LOGIN_TIMEOUT_MS = 30_000;

type SessionSpec = Extract<AuthSpec, { kind: "session" }>;
type Session = { value: string; expiresAt: number };

function pathValue(body: unknown, path: string): unknown {
  let v: unknown = body;
  for (const key of path.split(".")) {
    if (!v || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Sessions of session-login connectors, kept in memory only (a restarted object simply logs in again, and no
 * session secret rests in storage). Single-flight per connection like the token refresher: concurrent needs
 * share one login, and a 401 on a session triggers one re-login however many calls it refused.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Session>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly deps: Pick<TokenDeps, "sql" | "fetch" | "now" | "withStore">) {}

  async session(connection: LoadedConnection, refused?: string): Promise<string> {
    const running = this.inflight.get(connection.id);
    if (running) {
      const value = await running;
      if (refused === undefined || value !== refused) return value;
      return this.session(connection, refused);
    }
    const cached = this.sessions.get(connection.id);
    const now = this.deps.now();
    if (cached && cached.value !== refused && cached.expiresAt - SESSION_AHEAD_MS > now) return cached.value;
    const started = this.login(connection).finally(() => this.inflight.delete(connection.id));
    this.inflight.set(connection.id, started);
    return started;
  }

  forget(connectionId: string): void {
    this.sessions.delete(connectionId);
  }

  private async login(connection: LoadedConnection): Promise<string> {
    const spec = connection.connector.spec.auth;
    if (spec.kind !== "session") throw new TokenError("not_oauth", "the connection does not log in");
    const { deps } = this;
    const url = new URL(
      spec.login.path.replace(/^\//, ""),
      connection.baseUrl.endsWith("/") ? connection.baseUrl : `${connection.baseUrl}/`,
    );
    const args = { credentials: connection.credentials, settings: connection.settings, now: deps.now() };
    const built = spec.login.request
      ? await spec.login.request(args).catch(() => {
          // Its message could quote what it was signing: only the fact is kept.
          throw new TokenError("auth_failed", "the login request could not be built from the credentials");
        })
      : { body: spec.login.method === "POST" ? loginBody(spec, connection.credentials) : undefined };
    let response: Response;
    try {
      response = await deps.fetch(url.toString(), {
        method: spec.login.method,
        headers: { "Content-Type": "application/json", Accept: "application/json", ...built.headers },
        ...(spec.login.method === "POST" && built.body !== undefined
          ? { body: JSON.stringify(built.body) }
          : {}),
        signal: AbortSignal.timeout(LOGIN_TIMEOUT_MS),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : "error";
      throw new TokenError("refresh_unavailable", `login endpoint unreachable (${name})`);
    }
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => {});
      // The credentials are refused: every call would fail the same way until someone fixes them.
      await markAuthFailed(deps, connection.accountId, connection.id);
      throw new TokenError("auth_failed", `login answered HTTP ${response.status}`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new TokenError("refresh_unavailable", `login answered HTTP ${response.status}`);
    }
    const body: unknown = await response.json().catch(() => null);
    const value = pathValue(body, spec.login.sessionPath ?? spec.sessionField);
    if (typeof value !== "string" || value === "") {
      throw new TokenError("refresh_unavailable", "login answered without a session");
    }
    const expiresIn = spec.login.expiresInPath ? pathValue(body, spec.login.expiresInPath) : undefined;
    const ttl =
      typeof expiresIn === "number" && expiresIn > 0
        ? expiresIn * 1000
        : (spec.login.ttlMs ?? DEFAULT_SESSION_TTL_MS);
    const announced = spec.login.expiresAt?.(body, { ...args, now: deps.now() }) ?? null;
    // An expiry already past (a clock or zone mismatch) would mean a login per call: the lifetime rule then.
    const expiresAt = announced !== null && announced > deps.now() ? announced : deps.now() + ttl;
    this.sessions.set(connection.id, { value, expiresAt });
    return value;
  }
}

function loginBody(spec: SessionSpec, c: Credentials): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, credential] of Object.entries(spec.login.fields ?? {})) {
    const v = c[credential];
    // The message names the field, never a value.
    if (typeof v !== "string" || v === "")
      throw new TokenError("auth_failed", `credentials lack "${credential}"`);
    out[field] = v;
  }
  return out;
}

/** The auth source of a connection, from the object's token refresher and session cache. */
export function authSourceOf(
  refresher: TokenRefresher,
  sessions: SessionCache,
  connection: LoadedConnection,
): AuthSource {
  return {
    accessToken: (refused) => refresher.accessToken(connection.accountId, connection.id, refused),
    session: (refused) => sessions.session(connection, refused),
  };
}

const sessionCaches = new WeakMap<DurableObjectState, SessionCache>();

/** The object's provider auth: one refresher and one session cache per instance (single-flight needs one). */
export function providerAuthFor(ctx: DurableObjectState, env: Env): ProviderAuth {
  const refresher = refresherFor(ctx, () => tokenDepsFor(ctx, env));
  let sessions = sessionCaches.get(ctx);
  if (!sessions) {
    sessions = new SessionCache(tokenDepsFor(ctx, env));
    sessionCaches.set(ctx, sessions);
  }
  const cache = sessions;
  return (connection) => authSourceOf(refresher, cache, connection);
}

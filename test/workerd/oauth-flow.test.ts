import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { breakerStore } from "../../durable-objects/breaker-store";
import { authSourceOf, SessionCache } from "../../durable-objects/provider-auth";
import { callProvider, type ProviderCallResult } from "../../durable-objects/provider-call";
import { TokenRefresher } from "../../durable-objects/tokens";
import { encryptCredentials, type LoadedConnection } from "../../src/accounts/connections";
import { pgCredentialStore } from "../../src/accounts/credential-store";
import { defineConnector } from "../../src/connectors/define";
import type { AuthSpec, Connector } from "../../src/connectors/types";
import { DEFAULT_BREAKER_CONFIG } from "../../src/core/breaker";
import { credentialAad, decryptSecret, parseKeyring } from "../../src/core/crypto";
import { AppError } from "../../src/core/errors";
import { openDb, withDb } from "../../src/db/client";
import {
  completeAuthorization,
  type OAuthFlowDeps,
  revokeGrant,
  startAuthorization,
} from "../../src/oauth/flow";
import { createSimulator } from "../../tools/simulator-dotloop/app";
import { rows, uniqueId, withTestDb } from "../support/db";

// The connect flow and the auth step of provider calls against the Dotloop simulator (in process, its real
// OAuth server and API), with a test-only bearer-OAuth connector; real Postgres, real object storage.

const PROVIDER = "oauthtest";
const SIM = "http://dl.test";
const REDIRECT = "https://etl.test/oauth/callback/oauthtest";
const BREAKER = DEFAULT_BREAKER_CONFIG;

let clock = Date.now();
const sim = createSimulator({
  now: () => clock,
  baseUrl: SIM,
  clients: { "client-a": "secret-a" },
  users: { 1: { counts: { loopsPerProfile: 2, contacts: 2 } } },
});
afterAll(() => sim.close());

/** Every request the simulator receives, by path (to prove that nothing reaches it). */
const seen: string[] = [];
const simFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const req = new Request(input, init);
  seen.push(new URL(req.url).pathname);
  return sim.fetch(req);
}) as typeof fetch;

function connectorWith(auth: AuthSpec, base = `${SIM}/public/v2`): Connector {
  return defineConnector({
    provider: PROVIDER,
    defaultBaseUrl: base,
    auth,
    paging: {
      style: "page-number",
      pageSize: 20,
      pageParam: "batch_number",
      sizeParam: "batch_size",
      firstPage: 1,
    },
    // Headers the simulator does not send: the local budget stays at its declared limit.
    rateLimit: {
      limit: 10_000,
      windowMs: 60_000,
      headers: { limit: "X-Test-Limit", remaining: "X-Test-Remaining" },
    },
    webhooks: null,
    byIds: null,
    entities: {},
  });
}

const oauthConnector = connectorWith({
  kind: "bearer",
  tokenField: "accessToken",
  oauth: {
    authorizeUrl: "https://auth.example.test/oauth/authorize",
    tokenUrl: "https://auth.example.test/oauth/token",
    revokeUrl: "https://auth.example.test/oauth/token/revoke",
    clientAuth: "basic",
    scopes: ["account:read", "loop:*"],
    authorizeParams: { redirect_on_deny: "true" },
    paramsIn: "query",
  },
});

const vars = {
  OAUTH_OAUTHTEST_CLIENT_ID: "client-a",
  OAUTH_OAUTHTEST_CLIENT_SECRET: "secret-a",
  OAUTH_OAUTHTEST_AUTH_BASE_URL: SIM,
  OAUTH_OAUTHTEST_API_BASE_URL: `${SIM}/public/v2`,
};

function flow<T>(fn: (deps: OAuthFlowDeps) => Promise<T>): Promise<T> {
  return withDb(env, async (db) =>
    fn({
      db,
      keyring: await parseKeyring(env.CREDENTIALS_KEY),
      fetch: simFetch,
      now: () => clock,
      vars,
      stateSecret: "state-secret",
      connectorFor: (p) => {
        if (p !== PROVIDER) throw new AppError(404, "unknown_provider", p);
        return oauthConnector;
      },
      consumeNonce: (s) =>
        env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(s.accountId)).consumeOAuthState({
          nonce: s.nonce,
          expiresAt: s.expiresAt,
        }),
    }),
  );
}

async function newAccount(): Promise<string> {
  const accountId = uniqueId("acc");
  await withTestDb((db) =>
    db.execute(sql`insert into accounts (id, name) values (${accountId}, 'oauth flow')`),
  );
  return accountId;
}

/** The browser's part: follows the authorize URL to the simulator and returns where it redirects back to. */
async function authorize(url: string, extra = ""): Promise<URLSearchParams> {
  const res = await simFetch(`${url}${extra}`, { redirect: "manual" });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get("location") ?? "");
  expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
  return back.searchParams;
}

async function connect(accountId: string, connectionId: string) {
  const started = await flow((d) =>
    startAuthorization(d, { accountId, connectionId, provider: PROVIDER, redirectUri: REDIRECT }),
  );
  const back = await authorize(started.authorizeUrl);
  return flow((d) =>
    completeAuthorization(d, {
      provider: PROVIDER,
      code: back.get("code") ?? undefined,
      state: back.get("state") ?? undefined,
      redirectUri: REDIRECT,
    }),
  );
}

async function stored(accountId: string, connectionId: string) {
  const [row] = await rows<{ credentials_enc: string; status: string; base_url: string | null }>(
    sql`select credentials_enc, status, base_url from connections where id = ${connectionId}`,
  );
  if (!row) return null;
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  const plain = await decryptSecret(keyring, row.credentials_enc, credentialAad(accountId, connectionId));
  return { ...row, creds: JSON.parse(plain) as Record<string, string> };
}

async function expectAppError(p: Promise<unknown>, status: number, code: string) {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect({ status: (error as AppError).status, code: (error as AppError).code }).toEqual({ status, code });
}

/** Runs fn in the account's object with a refresher and a session cache on the test's fetch and clock. */
function inObject<T>(
  accountId: string,
  fetchFn: typeof fetch,
  fn: (
    call: (connection: LoadedConnection) => Promise<ProviderCallResult>,
    sqlStorage: SqlStorage,
  ) => Promise<T>,
): Promise<T> {
  const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
  return runInDurableObject(stub, async (_instance, state) => {
    const deps = {
      sql: state.storage.sql,
      fetch: fetchFn,
      now: () => clock,
      keyring: () => parseKeyring(env.CREDENTIALS_KEY),
      withStore: async <R>(use: (s: ReturnType<typeof pgCredentialStore>) => Promise<R>) => {
        const handle = openDb(env);
        try {
          return await use(pgCredentialStore(handle.db));
        } finally {
          await handle.close();
        }
      },
    };
    const refresher = new TokenRefresher(deps);
    const sessions = new SessionCache(deps);
    const call = (connection: LoadedConnection) =>
      callProvider(
        {
          sql: state.storage.sql,
          fetch: fetchFn,
          now: () => clock,
          auth: (c) => authSourceOf(refresher, sessions, c),
        },
        { connection, priority: "backfill", breaker: BREAKER, timeoutMs: 5_000 },
        `${connection.baseUrl}/account`,
      );
    return fn(call, state.storage.sql);
  });
}

async function loaded(
  accountId: string,
  connectionId: string,
  connector = oauthConnector,
): Promise<LoadedConnection> {
  const row = await stored(accountId, connectionId);
  if (!row) throw new Error("no connection");
  return {
    id: connectionId,
    accountId,
    provider: connector.provider,
    baseUrl: row.base_url ?? connector.defaultBaseUrl,
    status: row.status,
    settings: {},
    credentials: row.creds,
    connector,
  };
}

const user = () => sim.users.get(1)?.stats ?? { served: 0, unauthorized: 0 };

describe("OAuth connect flow against the simulator", () => {
  it("start → authorize → callback: the connection is created with the token pair stored encrypted", async () => {
    const accountId = await newAccount();
    const connectionId = uniqueId("con");
    const started = await flow((d) =>
      startAuthorization(d, { accountId, connectionId, provider: PROVIDER, redirectUri: REDIRECT }),
    );
    const url = new URL(started.authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${SIM}/oauth/authorize`);
    expect(url.searchParams.get("client_id")).toBe("client-a");
    expect(url.searchParams.get("redirect_uri")).toBe(REDIRECT);
    expect(url.searchParams.get("scope")).toBe("account:read loop:*");
    expect(url.searchParams.get("redirect_on_deny")).toBe("true");
    const state = url.searchParams.get("state") ?? "";
    // Names only: no client secret travels in the state.
    expect(atob(state.split(".")[0]?.replaceAll("-", "+").replaceAll("_", "/") ?? "")).not.toContain(
      "secret-a",
    );

    const exchanges = sim.oauth.stats.codeExchanges;
    const back = await authorize(started.authorizeUrl);
    expect(back.get("state")).toBe(state);
    const done = await flow((d) =>
      completeAuthorization(d, {
        provider: PROVIDER,
        code: back.get("code") ?? undefined,
        state,
        redirectUri: REDIRECT,
      }),
    );
    expect(done).toEqual({
      accountId,
      connectionId,
      provider: PROVIDER,
      created: true,
      previousStatus: null,
    });
    expect(sim.oauth.stats.codeExchanges).toBe(exchanges + 1);

    const row = await stored(accountId, connectionId);
    expect(row?.status).toBe("active");
    expect(row?.base_url).toBe(`${SIM}/public/v2`);
    const access = row?.creds.accessToken ?? "";
    expect(access).not.toBe("");
    expect(row?.creds.refreshToken).not.toBe("");
    expect(row?.credentials_enc).not.toContain(access);
    expect(row?.credentials_enc).not.toContain(row?.creds.refreshToken);
    const api = await sim.fetch(
      new Request(`${SIM}/public/v2/account`, { headers: { Authorization: `Bearer ${access}` } }),
    );
    expect(api.status).toBe(200);

    // The same state again: refused, nothing exchanged.
    await expectAppError(
      flow((d) =>
        completeAuthorization(d, {
          provider: PROVIDER,
          code: back.get("code") ?? "",
          state,
          redirectUri: REDIRECT,
        }),
      ),
      400,
      "state_used",
    );
    expect(sim.oauth.stats.codeExchanges).toBe(exchanges + 1);
  });

  it("refuses a forged, expired or foreign state, a denied consent and a refused code, storing nothing", async () => {
    const accountId = await newAccount();
    const start = (connectionId: string) =>
      flow((d) =>
        startAuthorization(d, { accountId, connectionId, provider: PROVIDER, redirectUri: REDIRECT }),
      );
    const complete = (q: { code?: string; state?: string; error?: string }, provider = PROVIDER) =>
      flow((d) => completeAuthorization(d, { provider, ...q, redirectUri: REDIRECT }));

    const forged = await start("con_forged");
    const state = new URL(forged.authorizeUrl).searchParams.get("state") ?? "";
    await expectAppError(complete({ code: "x", state: `${state}0` }), 400, "invalid_state");
    await expectAppError(complete({ code: "x", state: `e30.${state.split(".")[1]}` }), 400, "invalid_state");
    await expectAppError(complete({ code: "x" }), 400, "invalid_state");
    await expectAppError(complete({ code: "x", state }, "otherprovider"), 400, "invalid_state");
    clock += 11 * 60_000;
    await expectAppError(complete({ code: "x", state }), 400, "invalid_state");

    const denied = await start("con_denied");
    const back = await authorize(denied.authorizeUrl, "&deny=true");
    expect(back.get("error")).toBe("access_denied");
    await expectAppError(
      complete({ error: back.get("error") ?? "", state: back.get("state") ?? "" }),
      400,
      "access_denied",
    );

    const refused = await start("con_refused");
    const ok = await authorize(refused.authorizeUrl);
    await expectAppError(
      complete({ code: "not-a-code", state: ok.get("state") ?? "" }),
      400,
      "token_exchange_refused",
    );

    const left = await rows(sql`select id from connections where account_id = ${accountId}`);
    expect(left).toEqual([]);
  });
});

describe("the auth step of provider calls (OAuth bearer)", () => {
  it("refreshes once ahead of expiry for N concurrent calls, and once on a 401 before retrying", async () => {
    sim.oauth.settings.accessTokenTtlSec = 600;
    const accountId = await newAccount();
    const connectionId = uniqueId("con");
    await connect(accountId, connectionId);
    const first = (await stored(accountId, connectionId))?.creds.accessToken;

    await inObject(accountId, simFetch, async (call) => {
      const conn = await loaded(accountId, connectionId);
      const refreshes = sim.oauth.stats.refreshes;
      // Still fresh: no refresh.
      expect((await call(conn)).kind).toBe("ok");
      expect(sim.oauth.stats.refreshes).toBe(refreshes);

      // Within the refresh-ahead window: ten concurrent calls, one refresh.
      clock += 6 * 60_000;
      const results = await Promise.all(Array.from({ length: 10 }, () => call(conn)));
      expect(results.map((r) => r.kind)).toEqual(Array(10).fill("ok"));
      expect(sim.oauth.stats.refreshes).toBe(refreshes + 1);
      const second = (await stored(accountId, connectionId))?.creds;
      expect(second?.accessToken).not.toBe(first);

      // The provider ends the token early: each call gets a 401, one refresh serves all, each retries once.
      sim.oauth.expireAccessOf(1, clock);
      const unauthorized = user().unauthorized;
      const retried = await Promise.all(Array.from({ length: 5 }, () => call(conn)));
      expect(retried.map((r) => r.kind)).toEqual(Array(5).fill("ok"));
      expect(sim.oauth.stats.refreshes).toBe(refreshes + 2);
      expect(user().unauthorized).toBe(unauthorized + 5);
      expect((await stored(accountId, connectionId))?.creds.accessToken).not.toBe(second?.accessToken);
    });
    sim.oauth.settings.accessTokenTtlSec = 12 * 3600;
  });

  it("a refused refresh marks the connection auth_failed, opens its breaker and stops calls; re-authorising recovers", async () => {
    const accountId = await newAccount();
    const connectionId = uniqueId("con");
    await connect(accountId, connectionId);
    sim.oauth.revokeRefreshOf(1);
    sim.oauth.expireAccessOf(1, clock);

    await inObject(accountId, simFetch, async (call, sqlStorage) => {
      const conn = await loaded(accountId, connectionId);
      const refused = sim.oauth.stats.refreshRefused;
      const result = await call(conn);
      expect(result).toMatchObject({ kind: "parked", reason: "auth_failed" });
      expect(sim.oauth.stats.refreshRefused).toBe(refused + 1);
      expect((await stored(accountId, connectionId))?.status).toBe("auth_failed");
      expect(breakerStore.view(sqlStorage, connectionId, clock)).toMatchObject({ mode: "forced_open" });

      // Nothing reaches the simulator any more, whether the caller holds the old row or the new one.
      const before = seen.length;
      expect((await call(conn)).kind).toBe("parked");
      expect((await call(await loaded(accountId, connectionId))).kind).toBe("parked");
      clock += 2 * 3600_000;
      expect((await call(conn)).kind).toBe("parked");
      expect(seen.length).toBe(before);
    });

    // Re-authorised through the flow: the same connection, active again, its breaker released.
    const again = await connect(accountId, connectionId);
    expect(again).toMatchObject({ created: false, previousStatus: "auth_failed" });
    await env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId)).grantRestored({
      connectionId,
      wasAuthFailed: true,
    });
    await inObject(accountId, simFetch, async (call, sqlStorage) => {
      expect(breakerStore.view(sqlStorage, connectionId, clock)).toMatchObject({ mode: "auto" });
      const conn = await loaded(accountId, connectionId);
      expect(conn.status).toBe("active");
      expect((await call(conn)).kind).toBe("ok");
    });
  });

  it("revokes the grant at the provider (bounded, never thrown)", async () => {
    const accountId = await newAccount();
    const connectionId = uniqueId("con");
    await connect(accountId, connectionId);
    const creds = (await stored(accountId, connectionId))?.creds ?? {};
    const revokes = sim.oauth.stats.revokes;
    const deps = { fetch: simFetch, vars, connectorFor: () => oauthConnector };
    expect(await revokeGrant(deps, PROVIDER, creds)).toEqual({ status: "revoked" });
    expect(sim.oauth.stats.revokes).toBe(revokes + 1);
    const api = await sim.fetch(
      new Request(`${SIM}/public/v2/account`, { headers: { Authorization: `Bearer ${creds.accessToken}` } }),
    );
    expect(api.status).toBe(401);
    // The provider unreachable: reported, not thrown.
    const down = { ...deps, fetch: (() => Promise.reject(new TypeError("down"))) as typeof fetch };
    expect(await revokeGrant(down, PROVIDER, creds)).toEqual({ status: "failed", reason: "TypeError" });
    // A connector without OAuth has nothing to revoke.
    const plain = connectorWith({ kind: "bearer", tokenField: "accessToken" });
    expect(await revokeGrant({ ...deps, connectorFor: () => plain }, PROVIDER, creds)).toEqual({
      status: "not_applicable",
    });
  });
});

describe("the auth step of provider calls (session login)", () => {
  const SESSIONS = "http://sessions.test";
  /** A tiny session server: logs in with user/password, sessions expire after 600 s or when revoked. */
  function sessionServer() {
    const live = new Map<string, number>();
    const counts = { logins: 0, refusedLogins: 0, calls: 0, unauthorized: 0 };
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      if (path === "/api/login") {
        const body = (await req.json()) as { username?: string; password?: string };
        if (body.username !== "agent" || body.password !== "pw") {
          counts.refusedLogins++;
          return Response.json({ error: "bad credentials" }, { status: 401 });
        }
        counts.logins++;
        const session = `s-${counts.logins}`;
        live.set(session, clock + 600_000);
        await new Promise((r) => setTimeout(r, 20));
        return Response.json({ data: { token: session }, expires_in: 600 });
      }
      counts.calls++;
      const session = req.headers.get("x-session") ?? "";
      if ((live.get(session) ?? 0) <= clock) {
        counts.unauthorized++;
        return Response.json({ error: "session expired" }, { status: 401 });
      }
      return Response.json({ data: { id: 1 } });
    }) as typeof fetch;
    return { live, counts, fetchFn };
  }

  const sessionConnector = connectorWith(
    {
      kind: "session",
      header: "X-Session",
      sessionField: "session",
      login: {
        path: "/login",
        method: "POST",
        fields: { username: "user", password: "password" },
        sessionPath: "data.token",
        expiresInPath: "expires_in",
      },
    },
    `${SESSIONS}/api`,
  );

  async function sessionConnection(password: string) {
    const accountId = await newAccount();
    const connectionId = uniqueId("con");
    const keyring = await parseKeyring(env.CREDENTIALS_KEY);
    const blob = await encryptCredentials(keyring, accountId, connectionId, { user: "agent", password });
    await withTestDb((db) =>
      db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                     values (${connectionId}, ${accountId}, ${PROVIDER}, ${blob})`),
    );
    return { accountId, connectionId };
  }

  it("logs in once for concurrent calls, caches the session until expiry, re-logs in once on a 401", async () => {
    const server = sessionServer();
    const { accountId, connectionId } = await sessionConnection("pw");
    await inObject(accountId, server.fetchFn, async (call) => {
      const conn = await loaded(accountId, connectionId, sessionConnector);
      const first = await Promise.all(Array.from({ length: 6 }, () => call(conn)));
      expect(first.map((r) => r.kind)).toEqual(Array(6).fill("ok"));
      expect(server.counts.logins).toBe(1);

      // Cached: later calls log in no more.
      expect((await call(conn)).kind).toBe("ok");
      expect(server.counts.logins).toBe(1);

      // The server drops the session: one re-login for all the refused calls, each retried once.
      server.live.clear();
      const refused = await Promise.all(Array.from({ length: 4 }, () => call(conn)));
      expect(refused.map((r) => r.kind)).toEqual(Array(4).fill("ok"));
      expect(server.counts.logins).toBe(2);
      expect(server.counts.unauthorized).toBe(4);

      // Near its announced expiry the session is renewed before a call is refused.
      clock += 599_000;
      const unauthorized = server.counts.unauthorized;
      expect((await call(conn)).kind).toBe("ok");
      expect(server.counts.logins).toBe(3);
      expect(server.counts.unauthorized).toBe(unauthorized);
    });
  });

  it("a refused login marks the connection auth_failed and opens its breaker", async () => {
    const server = sessionServer();
    const { accountId, connectionId } = await sessionConnection("wrong");
    await inObject(accountId, server.fetchFn, async (call, sqlStorage) => {
      const conn = await loaded(accountId, connectionId, sessionConnector);
      expect(await call(conn)).toMatchObject({ kind: "parked", reason: "auth_failed" });
      expect(server.counts).toMatchObject({ refusedLogins: 1, calls: 0 });
      expect((await stored(accountId, connectionId))?.status).toBe("auth_failed");
      expect(breakerStore.view(sqlStorage, connectionId, clock)).toMatchObject({ mode: "forced_open" });
      expect((await call(conn)).kind).toBe("parked");
      expect(server.counts).toMatchObject({ refusedLogins: 1, calls: 0 });
    });
  });
});

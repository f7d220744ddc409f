import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { breakerStore } from "../../durable-objects/breaker-store";
import { setTimer } from "../../durable-objects/timers";
import { REFRESH_AHEAD_MS, TOKEN_TIMER, type TokenError, TokenRefresher } from "../../durable-objects/tokens";
import { encryptCredentials } from "../../src/accounts/connections";
import { pgCredentialStore } from "../../src/accounts/credential-store";
import { credentialAad, decryptSecret, parseKeyring } from "../../src/core/crypto";
import { openDb } from "../../src/db/client";
import { ownerEnv, rows, uniqueId, withTestDb } from "../support/db";

const TOKEN_URL = "https://auth.dotloop.test/oauth/token";

type TokenCall = { url: string; auth: string | null; body: string };

/** A tiny token endpoint served from the test: counts calls and answers after a delay, like a real one. */
function tokenEndpoint(answer: (n: number) => Response, delayMs = 30) {
  const calls: TokenCall[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      auth: new Headers(init?.headers).get("authorization"),
      body: String(init?.body ?? ""),
    });
    await new Promise((r) => setTimeout(r, delayMs));
    return answer(calls.length);
  }) as typeof fetch;
  return { calls, fetchFn };
}

async function oauthConnection(expiresAt: number) {
  const accountId = uniqueId("acc");
  const connectionId = uniqueId("con");
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  const blob = await encryptCredentials(keyring, accountId, connectionId, {
    clientId: "client-1",
    clientSecret: "client-secret",
    tokenUrl: TOKEN_URL,
    refreshToken: "refresh-0",
    accessToken: "access-0",
    accessTokenExpiresAt: String(expiresAt),
  });
  await withTestDb(async (db) => {
    await db.execute(sql`insert into accounts (id, name) values (${accountId}, 'oauth')`);
    await db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                         values (${connectionId}, ${accountId}, 'dotloop', ${blob})`);
  });
  return { accountId, connectionId };
}

/** Runs fn inside the account's object with a refresher wired to its SQLite and the test endpoint. */
async function inObject<T>(
  accountId: string,
  fetchFn: typeof fetch,
  fn: (r: TokenRefresher, sqlStorage: SqlStorage) => Promise<T>,
  scheduled: { connectionId: string; at: number }[] = [],
): Promise<T> {
  const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
  return runInDurableObject(stub, async (_instance, state) => {
    const refresher = new TokenRefresher({
      sql: state.storage.sql,
      fetch: fetchFn,
      now: Date.now,
      keyring: () => parseKeyring(env.CREDENTIALS_KEY),
      withStore: async (use) => {
        const handle = openDb(ownerEnv());
        try {
          return await use(pgCredentialStore(handle.db));
        } finally {
          await handle.close();
        }
      },
      schedule: (_accountId, connectionId, at) => scheduled.push({ connectionId, at }),
    });
    return fn(refresher, state.storage.sql);
  });
}

async function storedCredentials(accountId: string, connectionId: string) {
  const [row] = await rows<{ credentials_enc: string; status: string }>(
    sql`select credentials_enc, status from connections where id = ${connectionId}`,
  );
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  const plain = await decryptSecret(
    keyring,
    row?.credentials_enc ?? "",
    credentialAad(accountId, connectionId),
  );
  return { creds: JSON.parse(plain) as Record<string, string>, status: row?.status };
}

const ok = (access: string, refresh: string) =>
  new Response(
    JSON.stringify({
      access_token: access,
      refresh_token: refresh,
      expires_in: 43_199,
      token_type: "Bearer",
    }),
    {
      headers: { "content-type": "application/json" },
    },
  );

describe("OAuth refresh in the account's object", () => {
  it("N concurrent needs of an expired token make exactly one token call, and the new pair is stored encrypted", async () => {
    const { accountId, connectionId } = await oauthConnection(Date.now() - 1_000);
    const endpoint = tokenEndpoint(() => ok("access-1", "refresh-1"));
    const scheduled: { connectionId: string; at: number }[] = [];
    const tokens = await inObject(
      accountId,
      endpoint.fetchFn,
      (r) => Promise.all(Array.from({ length: 25 }, () => r.accessToken(accountId, connectionId))),
      scheduled,
    );
    expect(endpoint.calls).toHaveLength(1);
    expect(new Set(tokens)).toEqual(new Set(["access-1"]));
    const call = endpoint.calls[0];
    expect(call?.url).toBe(TOKEN_URL);
    expect(call?.auth).toBe(`Basic ${btoa("client-1:client-secret")}`);
    expect(new URLSearchParams(call?.body)).toEqual(
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: "refresh-0" }),
    );

    const { creds } = await storedCredentials(accountId, connectionId);
    // The next refresh is asked of the alarm ahead of the new expiry, once.
    expect(scheduled).toEqual([{ connectionId, at: Number(creds.accessTokenExpiresAt) - REFRESH_AHEAD_MS }]);
    expect(creds).toMatchObject({
      accessToken: "access-1",
      refreshToken: "refresh-1",
      clientSecret: "client-secret",
    });
    const expiresIn = Number(creds.accessTokenExpiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(11 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(12 * 3600_000);
    const [raw] = await rows<{ credentials_enc: string }>(
      sql`select credentials_enc from connections where id = ${connectionId}`,
    );
    expect(raw?.credentials_enc).not.toContain("access-1");

    // Fresh now: later needs use the stored token without calling the endpoint.
    const later = await inObject(accountId, endpoint.fetchFn, (r) => r.accessToken(accountId, connectionId));
    expect(later).toBe("access-1");
    expect(endpoint.calls).toHaveLength(1);
  });

  it("refreshes ahead of expiry, not only after it", async () => {
    const { accountId, connectionId } = await oauthConnection(Date.now() + REFRESH_AHEAD_MS - 10_000);
    const endpoint = tokenEndpoint(() => ok("access-2", "refresh-2"));
    expect(await inObject(accountId, endpoint.fetchFn, (r) => r.accessToken(accountId, connectionId))).toBe(
      "access-2",
    );
    expect(endpoint.calls).toHaveLength(1);

    const { accountId: a2, connectionId: c2 } = await oauthConnection(Date.now() + REFRESH_AHEAD_MS + 60_000);
    const idle = tokenEndpoint(() => ok("never", "never"));
    expect(await inObject(a2, idle.fetchFn, (r) => r.accessToken(a2, c2))).toBe("access-0");
    expect(idle.calls).toHaveLength(0);
  });

  it("a rejected refresh marks the connection auth_failed, opens its breaker, and stops calling the provider", async () => {
    const { accountId, connectionId } = await oauthConnection(Date.now() - 1_000);
    const endpoint = tokenEndpoint(
      () => new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 }),
    );
    const scheduled: { connectionId: string; at: number }[] = [];
    const results = await inObject(
      accountId,
      endpoint.fetchFn,
      (r) => Promise.allSettled(Array.from({ length: 10 }, () => r.accessToken(accountId, connectionId))),
      scheduled,
    );
    // A dead grant is not retried on a timer: it waits for someone to re-authorize the connection.
    expect(scheduled).toEqual([]);
    expect(endpoint.calls).toHaveLength(1);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason as TokenError;
      expect(reason.code).toBe("auth_failed");
      expect(reason.message).not.toContain("refresh-0");
      expect(reason.message).not.toContain("client-secret");
    }
    const { status, creds } = await storedCredentials(accountId, connectionId);
    expect(status).toBe("auth_failed");
    expect(creds.refreshToken).toBe("refresh-0");

    const breaker = await inObject(accountId, endpoint.fetchFn, async (r, sqlStorage) => {
      await expect(r.accessToken(accountId, connectionId)).rejects.toMatchObject({ code: "auth_failed" });
      return breakerStore.view(sqlStorage, connectionId, Date.now());
    });
    expect(breaker.state).toBe("open");
    expect(endpoint.calls).toHaveLength(1);
  });

  it("a provider outage backs off instead of hammering, then recovers", async () => {
    const { accountId, connectionId } = await oauthConnection(Date.now() - 1_000);
    let up = false;
    const endpoint = tokenEndpoint(() =>
      up ? ok("access-3", "refresh-3") : new Response("down", { status: 503 }),
    );
    await inObject(accountId, endpoint.fetchFn, async (r) => {
      await expect(r.accessToken(accountId, connectionId)).rejects.toMatchObject({
        code: "refresh_unavailable",
      });
      await expect(r.accessToken(accountId, connectionId)).rejects.toMatchObject({
        code: "refresh_unavailable",
      });
    });
    expect(endpoint.calls).toHaveLength(1);
    const { status } = await storedCredentials(accountId, connectionId);
    expect(status).toBe("active");

    // Once the backoff has passed (clock moved past retry_at), one call succeeds and clears the failure.
    up = true;
    const token = await inObject(accountId, endpoint.fetchFn, async (r, sqlStorage) => {
      sqlStorage.exec("update oauth_refresh_failures set retry_at = 0 where connection_id = ?", connectionId);
      return r.accessToken(accountId, connectionId);
    });
    expect(token).toBe("access-3");
    expect(endpoint.calls).toHaveLength(2);
  });
});

describe("token refresh timers", () => {
  it("the object's alarm dispatches a due token timer to the refresher, which reschedules itself after a failure", async () => {
    // Expired, and the token endpoint is unreachable from the test: the attempt must fail transiently.
    const { accountId, connectionId } = await oauthConnection(Date.now() - 1_000);
    const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
    const before = Date.now();
    await runInDurableObject(stub, async (_i, state) => {
      setTimer(state.storage, `${TOKEN_TIMER}${connectionId}`, Date.now() - 1, { accountId, connectionId });
      // Far enough ahead not to fire by itself; the test fires it.
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await runInDurableObject(stub, async (_i, state) => ({
      failures: state.storage.sql
        .exec<{ failures: number; permanent: number }>(
          "select failures, permanent from oauth_refresh_failures where connection_id = ?",
          connectionId,
        )
        .toArray(),
      timers: state.storage.sql
        .exec<{ due_at: number }>("select due_at from timers where name = ?", `${TOKEN_TIMER}${connectionId}`)
        .toArray(),
    }));
    expect(after.failures).toEqual([{ failures: 1, permanent: 0 }]);
    expect(after.timers).toHaveLength(1);
    expect(after.timers[0]?.due_at).toBeGreaterThan(before);
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { authSourceOf, SessionCache } from "../../durable-objects/provider-auth";
import { callProvider, type ProviderCallResult, readJson } from "../../durable-objects/provider-call";
import { TokenRefresher } from "../../durable-objects/tokens";
import { encryptCredentials, type LoadedConnection } from "../../src/accounts/connections";
import { pgCredentialStore } from "../../src/accounts/credential-store";
import { defineConnector } from "../../src/connectors/define";
import type { EntityDef, LoginArgs } from "../../src/connectors/types";
import { DEFAULT_BREAKER_CONFIG } from "../../src/core/breaker";
import { credentialAad, decryptSecret, parseKeyring } from "../../src/core/crypto";
import { hmacBase64 } from "../../src/core/signatures";
import { openDb } from "../../src/db/client";
import { fubPeople } from "../../src/db/schema";
import { rows, uniqueId, withTestDb } from "../support/db";

// The session hook's generic extensions, with a test-only connector: a login request the connector builds
// (a signature over credentials and the request time), an absolute expiry read from the answer, and the
// connection-settings hooks of lists (a bound in the provider's format, records readied before staging,
// a body repaired before parsing).

const PROVIDER = "signedsessiontest";
const BASE = "http://signed.test/api";
let clock = Date.UTC(2026, 0, 1, 12);

async function sign(args: LoginArgs) {
  const ts = new Date(args.now).toISOString();
  const sig = await hmacBase64("SHA-256", args.credentials.secret ?? "", `${args.credentials.user}:${ts}`);
  return {
    headers: { "X-Time": ts, Authorization: `Sig ${args.credentials.user}:${sig}` },
    body: { who: args.credentials.user },
  };
}

function signedConnector(expiresAt?: (answer: unknown, args: LoginArgs) => number | null) {
  return defineConnector({
    provider: PROVIDER,
    defaultBaseUrl: BASE,
    auth: {
      kind: "session",
      header: "X-Session",
      sessionField: "session",
      login: {
        path: "/login",
        method: "POST",
        sessionPath: "token",
        ttlMs: 120_000,
        request: sign,
        ...(expiresAt ? { expiresAt } : {}),
      },
    },
    paging: { style: "link-next", linksPath: "links", rel: "next" },
    rateLimit: {
      limit: 10_000,
      windowMs: 60_000,
      headers: { limit: "X-T-Limit", remaining: "X-T-Remaining" },
    },
    webhooks: null,
    byIds: null,
    repairBody: (text) => text.replaceAll("\u0001", "\\u0001"),
    entities: {},
  });
}

/** Checks what the builder signed: the right key over user and the X-Time header, X-Time at the server clock. */
function server() {
  const live = new Map<string, number>();
  const counts = { logins: 0, refused: 0, unauthorized: 0, calls: 0 };
  const seenLogins: { auth: string; body: unknown }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (new URL(req.url).pathname === "/api/login") {
      const ts = req.headers.get("x-time") ?? "";
      const auth = req.headers.get("authorization") ?? "";
      const body = await req.json();
      seenLogins.push({ auth, body });
      const expected = `Sig agent:${await hmacBase64("SHA-256", "s3cret", `agent:${ts}`)}`;
      if (auth !== expected || Date.parse(ts) !== clock) {
        counts.refused++;
        return Response.json({ error: "bad signature" }, { status: 401 });
      }
      counts.logins++;
      const token = `t-${counts.logins}`;
      live.set(token, clock + 600_000);
      return Response.json({ token, until: new Date(clock + 600_000).toISOString() });
    }
    counts.calls++;
    if ((live.get(req.headers.get("x-session") ?? "") ?? 0) <= clock) {
      counts.unauthorized++;
      return Response.json({ error: "expired" }, { status: 401 });
    }
    return Response.json({ ok: true });
  }) as typeof fetch;
  return { live, counts, seenLogins, fetchFn };
}

async function connection(secret: string): Promise<{ accountId: string; connectionId: string }> {
  const accountId = uniqueId("acc");
  const connectionId = uniqueId("con");
  await withTestDb((db) =>
    db.execute(sql`insert into accounts (id, name) values (${accountId}, 'signed login')`),
  );
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  const blob = await encryptCredentials(keyring, accountId, connectionId, { user: "agent", secret });
  await withTestDb((db) =>
    db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                   values (${connectionId}, ${accountId}, ${PROVIDER}, ${blob})`),
  );
  return { accountId, connectionId };
}

async function loaded(
  accountId: string,
  connectionId: string,
  connector: ReturnType<typeof signedConnector>,
) {
  const [row] = await rows<{ credentials_enc: string; status: string }>(
    sql`select credentials_enc, status from connections where id = ${connectionId}`,
  );
  if (!row) throw new Error("no connection");
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  const creds = JSON.parse(
    await decryptSecret(keyring, row.credentials_enc, credentialAad(accountId, connectionId)),
  );
  return {
    id: connectionId,
    accountId,
    provider: PROVIDER,
    baseUrl: BASE,
    status: row.status,
    settings: {},
    credentials: creds,
    connector,
  } satisfies LoadedConnection;
}

function inObject<T>(
  accountId: string,
  fetchFn: typeof fetch,
  fn: (call: (c: LoadedConnection) => Promise<ProviderCallResult>) => Promise<T>,
): Promise<T> {
  const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
  return runInDurableObject(stub, async (_i, state) => {
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
    const call = (c: LoadedConnection) =>
      callProvider(
        {
          sql: state.storage.sql,
          fetch: fetchFn,
          now: () => clock,
          auth: (x) => authSourceOf(refresher, sessions, x),
        },
        { connection: c, priority: "backfill", breaker: DEFAULT_BREAKER_CONFIG, timeoutMs: 5_000 },
        `${c.baseUrl}/things`,
      );
    return fn(call);
  });
}

describe("a login the connector builds", () => {
  it("sends the built headers and body, keeps the session to its announced expiry, re-logs in once on a 401", async () => {
    const s = server();
    const { accountId, connectionId } = await connection("s3cret");
    const connector = signedConnector((answer) => Date.parse((answer as { until: string }).until));
    await inObject(accountId, s.fetchFn, async (call) => {
      const conn = await loaded(accountId, connectionId, connector);
      const first = await Promise.all(Array.from({ length: 5 }, () => call(conn)));
      expect(first.map((r) => r.kind)).toEqual(Array(5).fill("ok"));
      expect(s.counts).toMatchObject({ logins: 1, refused: 0 });
      expect(s.seenLogins[0]?.body).toEqual({ who: "agent" });

      // The answer's absolute expiry (600 s) rules, not ttlMs (120 s): still cached after 300 s.
      clock += 300_000;
      expect((await call(conn)).kind).toBe("ok");
      expect(s.counts.logins).toBe(1);

      // Dropped by the server: one new signed login (over the new time) for all refused calls.
      s.live.clear();
      const again = await Promise.all(Array.from({ length: 3 }, () => call(conn)));
      expect(again.map((r) => r.kind)).toEqual(Array(3).fill("ok"));
      expect(s.counts).toMatchObject({ logins: 2, unauthorized: 3 });
      expect(s.seenLogins[1]?.auth).not.toBe(s.seenLogins[0]?.auth);
    });
  });

  it("an expiry already past falls back to ttlMs instead of a login per call", async () => {
    const s = server();
    const { accountId, connectionId } = await connection("s3cret");
    const connector = signedConnector(() => clock - 1000);
    await inObject(accountId, s.fetchFn, async (call) => {
      const conn = await loaded(accountId, connectionId, connector);
      for (let i = 0; i < 4; i++) expect((await call(conn)).kind).toBe("ok");
      expect(s.counts.logins).toBe(1);
      // ttlMs is 120 s and renewal comes 60 s ahead: at +61 s a new login is due.
      clock += 61_000;
      expect((await call(conn)).kind).toBe("ok");
      expect(s.counts.logins).toBe(2);
    });
  });

  it("a refused signature marks the connection auth_failed; no call reaches the API", async () => {
    const s = server();
    const { accountId, connectionId } = await connection("wrong-secret");
    await inObject(accountId, s.fetchFn, async (call) => {
      const conn = await loaded(accountId, connectionId, signedConnector());
      expect(await call(conn)).toMatchObject({ kind: "parked", reason: "auth_failed" });
      expect(s.counts).toMatchObject({ refused: 1, calls: 0 });
    });
    const [row] = await rows<{ status: string }>(
      sql`select status from connections where id = ${connectionId}`,
    );
    expect(row?.status).toBe("auth_failed");
  });
});

describe("connection settings in lists", () => {
  const entity: EntityDef = {
    name: "things",
    listPath: "/things",
    collectionKey: "value",
    idField: "id",
    incremental: {
      param: "changedSince",
      cursorField: "changed",
      formatSince: (since, settings) => `${since.slice(0, 19)}@${String(settings.zone ?? "none")}`,
    },
    schema: {} as EntityDef["schema"],
    coreTable: fubPeople,
    deleteTargets: () => [],
    sourceIdOf: () => null,
    cursorOf: () => null,
    prepare: (raw, settings) => ({ ...(raw as object), zone: settings.zone ?? null }),
    toCore: () => [],
  };
  const connector = signedConnector();

  it("writes the bound with formatSince and the connection's settings", () => {
    const url = connector.firstPageUrl({
      baseUrl: BASE,
      entity,
      mode: "delta",
      since: "2026-03-08T10:00:00.000Z",
      settings: { zone: "Somewhere" },
    });
    expect(new URL(url).searchParams.get("changedSince")).toBe("2026-03-08T10:00:00@Somewhere");
    const plain = connector.firstPageUrl({ baseUrl: BASE, entity, mode: "onboarding", since: null });
    expect(new URL(plain).searchParams.has("changedSince")).toBe(false);
  });

  it("readies every listed record with prepare before anything reads it", () => {
    const page = connector.parsePage({ value: [{ id: 1 }, { id: 2 }] }, entity, `${BASE}/things`, {
      zone: "Z1",
    });
    expect(page.records).toEqual([
      { id: 1, zone: "Z1" },
      { id: 2, zone: "Z1" },
    ]);
  });

  it("repairs a body before parsing when the connector says how", async () => {
    const raw = '{"value":[{"id":1,"name":"a\u0001b"}]}';
    expect((await readJson(new Response(raw))).ok).toBe(false);
    const read = await readJson(new Response(raw), connector.repairBody);
    expect(read).toEqual({ ok: true, body: { value: [{ id: 1, name: "a\u0001b" }] } });
  });
});

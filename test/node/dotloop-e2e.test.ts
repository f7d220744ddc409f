import { appendFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminClient, settledTo, waitFor } from "../../tools/lib/admin-client";
import type { Stack } from "../../tools/lib/stack";
import type { RunningSimulator } from "../../tools/simulator-dotloop/main";
import {
  authoriseDotloop,
  CLEAN_TABLES,
  compareDotloop,
  DOTLOOP_ENTITIES,
  type DotloopStack,
  query,
  startDotloopStack,
  truthOf,
  waitDrained,
} from "./dotloop-support";
import { waitSettled } from "./fub-support";

// Dotloop end to end over real HTTP: wrangler dev and the Dotloop simulator. A connection is made through the
// OAuth flow (start → the simulator's authorize page → callback), onboarded while its access tokens expire
// under it, kept current by signed webhooks and a delta, and survives a refused refresh once re-authorised.
// After each phase Postgres equals the simulator's ground truth, table by table and in the unified tables.
const USER = 4242;
const CLIENT_ID = "e2e-dotloop-client";
const CLIENT_SECRET = "e2e-dotloop-secret";
const accountId = "acc_e2e_dotloop";
// The simulator announces 600 per minute in X-RateLimit-Limit (the engine adopts an announced limit), so the
// onboarding is not paced by the published 100/min; dotloop-ratelimit.test.ts measures the real limit.
const RATE = { limit: 600, windowSec: 60 };
// The engine refreshes a token when less than 5 minutes are left: a 320 s token is due 20 s after issue.
const TOKEN_TTL_SEC = 320;
const REFRESH_DUE_MS = 20_000;

let env: DotloopStack;
let dl: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let connectionId = "";
let subscriptionsAfterConnect = 0;

/** waitSettled, with the connection's state in the error when it times out. */
async function settled(what: string, timeoutMs: number) {
  await waitSettled(admin, stack.databaseUrl, accountId, DOTLOOP_ENTITIES, what, timeoutMs).catch(
    async (error) => {
      const c = await connection().catch(() => null);
      throw new Error(`${error instanceof Error ? error.message : error}; connection ${JSON.stringify(c)}`);
    },
  );
}

const user = () => {
  const u = dl.sim.users.get(USER);
  if (!u) throw new Error("no simulator user");
  return u;
};

type ConnectionState = {
  id: string;
  status: string;
  breaker: { state: string } | null;
  entities: { entity: string; status: string }[];
};
async function connection(): Promise<ConnectionState> {
  const s = await admin.status<{ connections: ConnectionState[] }>(accountId);
  const c = s.connections.find((x) => x.id === connectionId);
  if (!c) throw new Error(`no connection ${connectionId}`);
  return c;
}

/** The connect flow as a browser would run it: start, follow the authorize redirect, land on the callback. */
async function authorise(existing?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const hops = await authoriseDotloop(env, accountId, existing);
  expect(hops.authorizeUrl.startsWith(`${dl.url}/oauth/authorize?`)).toBe(true);
  expect(hops.authorizeStatus).toBe(302);
  expect(hops.callbackUrl.startsWith(`${stack.workerUrl}/oauth/callback/dotloop?`)).toBe(true);
  return { status: hops.status, body: hops.body };
}

async function expectExact(what: string) {
  await waitDrained(stack.databaseUrl, accountId);
  const truth = await truthOf(dl, USER);
  const diff = await settledTo(() => compareDotloop(stack.databaseUrl, accountId, truth), CLEAN_TABLES);
  expect(diff, what).toEqual(CLEAN_TABLES);
  return truth;
}

beforeAll(async () => {
  env = await startDotloopStack({
    name: "dotloop-e2e",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    users: {
      [USER]: {
        seed: 1616,
        counts: { profiles: 2, loopsPerProfile: 24, contacts: 90 },
        rateLimit: RATE,
        webhookRetryScale: 1 / 600,
      },
    },
    // DOTLOOP_E2E_LOG=<file> keeps the worker's output for a failed run.
    ...(process.env.DOTLOOP_E2E_LOG
      ? { log: (line: string) => appendFileSync(process.env.DOTLOOP_E2E_LOG as string, `${line}\n`) }
      : {}),
  });
  ({ dl, stack, admin } = env);
  await admin.createAccount(accountId, "E2E Dotloop");
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

describe("Dotloop end to end: OAuth connect, onboarding, webhooks, delta, refused refresh", () => {
  it("connects through the OAuth flow and onboards every entity exactly while tokens expire under it", {
    timeout: 300_000,
  }, async () => {
    dl.sim.oauth.settings.accessTokenTtlSec = TOKEN_TTL_SEC;
    const started = Date.now();
    const done = await authorise();
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    connectionId = String(done.body.connectionId);
    expect(dl.sim.oauth.stats.codeExchanges).toBe(1);
    // The callback subscribed: one USER subscription and one PROFILE subscription per INDIVIDUAL profile.
    const subs = [...dl.sim.subscriptions.values()];
    expect(subs.length).toBeGreaterThanOrEqual(2);
    expect(subs.every((s) => s.url === `${stack.workerUrl}/webhooks/dotloop/${connectionId}`)).toBe(true);
    subscriptionsAfterConnect = subs.length;

    // Mid-backfill, Dotloop ends every access token of the user at once: the calls in flight all get 401 and
    // must share one refresh (with rotating refresh tokens a second refresh would be refused).
    await waitFor("backfill under way", async () => user().stats.served >= 40, {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const beforeExpiry = { ...dl.sim.oauth.stats };
    const unauthorizedBefore = user().stats.unauthorized;
    dl.sim.oauth.expireAccessOf(USER, Date.now());
    await waitFor(
      "a refresh after the forced expiry",
      async () => dl.sim.oauth.stats.refreshes > beforeExpiry.refreshes,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    await settled("Dotloop onboarding", 240_000);
    const elapsed = Date.now() - started;
    const oauth = { ...dl.sim.oauth.stats };
    console.log(
      `onboarding ${elapsed} ms; served ${user().stats.served}; 401s ${user().stats.unauthorized - unauthorizedBefore} after the forced expiry; oauth ${JSON.stringify(oauth)}`,
    );
    expect(oauth.refreshRefused).toBe(0);
    expect(user().stats.unauthorized).toBeGreaterThan(unauthorizedBefore);
    // One refresh per expiry: one per 20 s of token life (ahead of expiry), plus the forced one.
    expect(oauth.refreshes).toBeGreaterThanOrEqual(1);
    expect(oauth.refreshes).toBeLessThanOrEqual(Math.floor(elapsed / REFRESH_DUE_MS) + 1 + 1);
    expect((await connection()).status).toBe("active");

    const truth = await expectExact("after onboarding");
    expect(truth.loops.some((l) => l.status === "ARCHIVED") || true).toBe(true);
    const [counts] = await query<{ loops: number; participants: number; documents: number }>(
      stack.databaseUrl,
      `select (select count(*)::int from dotloop_loops where account_id = $1) as loops,
              (select count(*)::int from dotloop_loop_participants where account_id = $1) as participants,
              (select count(*)::int from dotloop_loop_documents where account_id = $1) as documents`,
      [accountId],
    );
    expect(counts?.loops).toBeGreaterThanOrEqual(40);
    expect(counts?.participants).toBeGreaterThan(counts?.loops ?? 0);
  });

  it("live changes by signed webhooks (LOOP_MERGED, CONTACT_DELETED, LOOP_PARTICIPANT_DELETED), then a delta: exact", {
    timeout: 240_000,
  }, async () => {
    const before = { ...user().stats.webhooks };
    const result = dl.sim.mutate(USER, {
      loops: { creates: 2, updates: 3, archives: 1, merges: 1 },
      contacts: { creates: 2, updates: 2, deletes: 2 },
      participants: { creates: 2, updates: 2, deletes: 2 },
    });
    const types = new Set(result.events.map((e) => e.eventType));
    for (const t of ["LOOP_MERGED", "CONTACT_DELETED", "LOOP_PARTICIPANT_DELETED", "LOOP_CREATED"])
      expect(types.has(t), t).toBe(true);
    await waitFor(
      "every delivery acknowledged",
      async () => user().stats.webhooks.acknowledged - before.acknowledged >= result.deliveries,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(user().stats.webhooks.failedAttempts - before.failedAttempts).toBe(0);
    await waitDrained(stack.databaseUrl, accountId);
    // What the events name is applied: the merged loop retired with its transaction, deleted contacts and
    // participants gone from their tables and from the unified contacts, created loops and contacts live, the
    // loops with their details (attached to the record fetch) and so their transaction's price and date.
    // Children of a new or merged loop (its participants, folders and documents) have no events of their own,
    // and participant events stamp their loop's `updated` without a loop event: the delta below brings those.
    const truth = await truthOf(dl, USER);
    const merged = result.loops.merged.map((m) => String(m.fromId));
    expect(merged.length).toBe(1);
    const live = async (table: string, ids: string[]) =>
      (
        await query<{ id: string }>(
          stack.databaseUrl,
          `select source_id::text as id from ${table}
           where account_id = $1 and deleted_at is null and source_id::text = any($2::text[])`,
          [accountId, ids],
        )
      ).map((r) => r.id);
    expect(await live("dotloop_loops", merged)).toEqual([]);
    expect(await live("transactions", merged)).toEqual([]);
    const deletedContacts = result.contacts.deleted.map(String);
    expect(deletedContacts.length).toBe(2);
    expect(await live("dotloop_contacts", deletedContacts)).toEqual([]);
    expect(await live("contacts", deletedContacts)).toEqual([]);
    const deletedParticipants = result.participants.deleted.map((p) => String(p.id));
    expect(deletedParticipants.length).toBe(2);
    expect(await live("dotloop_loop_participants", deletedParticipants)).toEqual([]);
    expect(
      await live(
        "contacts",
        deletedParticipants.map((id) => `participant:${id}`),
      ),
    ).toEqual([]);
    const createdContacts = result.contacts.created.map(String);
    expect((await live("dotloop_contacts", createdContacts)).sort()).toEqual(createdContacts.sort());
    const touched = [...result.loops.created, ...result.loops.updated, ...result.loops.archived].map(String);
    const diffs = await compareDotloop(stack.databaseUrl, accountId, truth);
    for (const table of ["dotloop_loop_details", "transactions"]) {
      const d = diffs.find((x) => x.what === table);
      expect(
        d?.missing.filter((id) => touched.includes(id)),
        table,
      ).toEqual([]);
      expect(
        d?.differs.filter((x) => touched.includes(x.id)),
        table,
      ).toEqual([]);
    }
    const contactDiff = diffs.find((x) => x.what === "dotloop_contacts");
    expect(contactDiff).toEqual({ what: "dotloop_contacts", missing: [], extra: [], differs: [] });

    // Changes no webhook reaches (every delivery is dropped): only the delta sees them.
    dl.sim.setFaults(USER, { webhookDropRate: 1 });
    const hidden = dl.sim.mutate(USER, { loops: { updates: 4, archives: 1 }, tasks: { toggles: 3 } });
    expect(hidden.tasks.toggled).toHaveLength(3);
    dl.sim.setFaults(USER, {});
    // One delta is enough: a child entity's delta waits for its parent's, so the folders, documents, task
    // lists and tasks of loops new or changed since the last run (the merge's survivor included) land in it.
    await admin.sync(accountId, { connectionId, mode: "delta" });
    await settled("Dotloop delta", 120_000);
    await expectExact("after the delta");
    // A delta lists the children of changed loops only: it must not take the others' children for deleted
    // (nor hold them as deletes awaiting an operator).
    const held = await query<{ n: number }>(
      stack.databaseUrl,
      `select count(*)::int as n from pending_deletes where account_id = $1`,
      [accountId],
    );
    expect(held[0]?.n).toBe(0);
  });

  it("a refused refresh: auth_failed, breaker open, silence until re-authorised, then recovery", {
    timeout: 240_000,
  }, async () => {
    // The user revoked the app at Dotloop: refresh tokens are refused, and the current access token ends.
    dl.sim.oauth.revokeRefreshOf(USER);
    dl.sim.oauth.expireAccessOf(USER, Date.now());
    await admin.sync(accountId, { connectionId, mode: "delta" });
    await waitFor(
      "connection auth_failed",
      async () => {
        const c = await connection();
        return c.status === "auth_failed" ? c : false;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(dl.sim.oauth.stats.refreshRefused).toBeGreaterThanOrEqual(1);
    const c = await connection();
    expect(c.breaker?.state).toBe("open");

    // Nothing reaches Dotloop while the grant is refused, whatever is asked of the platform.
    const quiet = {
      served: user().stats.served,
      unauthorized: user().stats.unauthorized,
      oauth: { ...dl.sim.oauth.stats },
    };
    await admin.request("POST", `/admin/accounts/${accountId}/sync`, { connectionId, mode: "delta" });
    dl.sim.mutate(USER, { loops: { updates: 2 }, contacts: { updates: 1 } });
    await new Promise((r) => setTimeout(r, 8_000));
    expect({
      served: user().stats.served,
      unauthorized: user().stats.unauthorized,
      refreshes: dl.sim.oauth.stats.refreshes,
      refreshRefused: dl.sim.oauth.stats.refreshRefused,
    }).toEqual({
      served: quiet.served,
      unauthorized: quiet.unauthorized,
      refreshes: quiet.oauth.refreshes,
      refreshRefused: quiet.oauth.refreshRefused,
    });

    // Re-authorised through the flow: the same connection, active again, synced and exact.
    const again = await authorise(connectionId);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.connectionId).toBe(connectionId);
    expect((await connection()).status).toBe("active");
    // The previous grant's subscriptions were replaced, not added to.
    expect(dl.sim.subscriptions.size).toBe(subscriptionsAfterConnect);
    await settled("Dotloop after re-authorisation", 180_000);
    await expectExact("after recovery");
    expect((await connection()).breaker?.state ?? "closed").not.toBe("open");
  });
});

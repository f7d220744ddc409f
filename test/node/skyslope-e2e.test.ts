import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type RunningSkyslopeSimulator, startSkyslopeSimulator } from "../../tools/simulator-skyslope/main";
import { query } from "./dotloop-support";
import { waitSettled } from "./fub-support";
import { cleanSkyslope, compareSkyslope, SKYSLOPE_ENTITIES, skyslopeTruth } from "./skyslope-support";

// SkySlope end to end over real HTTP: wrangler dev and the SkySlope simulator serving its server zone's wall
// clock (America/Los_Angeles) without offsets. The connection logs in with a signed request, onboards while its
// session is dropped under it (one re-login), then live changes either side of a spring-forward are caught by
// a delta (creates, modifications, users and offices removed) and by the reconciliation's complete scans
// (files removed, and brought back). After each phase Postgres equals the simulator's truth, instants included.

const ZONE = "America/Los_Angeles";
const accountId = "acc_e2e_skyslope";
const KEYS = {
  accessKey: "e2e-access-key",
  accessSecret: "e2e-access-secret",
  clientId: "e2e-client-id",
  clientSecret: "e2e-client-secret",
};
// The data clock starts the day before the 2026 spring-forward (2026-03-08 10:00Z, 02:00 PST → 03:00 PDT).
const DATA_CLOCK = "2026-03-07T12:00:00Z";

let ss: RunningSkyslopeSimulator;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;
let connectionId = "";
const logLines: string[] = [];

const post = (p: string, body: unknown = {}) =>
  fetch(`${ss.url}${p}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
const stats = () => ss.sim.stats;

async function settled(what: string, timeoutMs = 240_000) {
  await waitSettled(admin, stack.databaseUrl, accountId, SKYSLOPE_ENTITIES, what, timeoutMs).catch(
    async (e) => {
      const status = await admin.status(accountId).catch(() => null);
      throw new Error(`${e instanceof Error ? e.message : e}; status ${JSON.stringify(status)}`);
    },
  );
}

async function expectExact(what: string) {
  const truth = await skyslopeTruth(ss.url);
  expect(await compareSkyslope(stack.databaseUrl, accountId, truth), what).toEqual(cleanSkyslope());
  const failed = await query<{ entity: string; error_code: string; error_message: string }>(
    stack.databaseUrl,
    "select entity, error_code, error_message from failed_records where account_id = $1",
    [accountId],
  );
  expect(failed, `${what}: failed records`).toEqual([]);
  return truth;
}

/** The minute tick with this connection's reconcile slot due: its complete scans (no entity is countable). */
async function reconcileNow() {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    await client.query(
      `update connections set next_reconcile_at = now() - interval '1 second',
         next_delta_at = now() + interval '1 hour' where account_id = $1`,
      [accountId],
    );
  } finally {
    await client.end();
  }
  const ticked = new Date(Date.now() - 5_000).toISOString();
  const res = await fetch(`${stack.workerUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  expect(res.status).toBe(200);
  // Every entity gets a reconcile run (none is countable cheaply) and each must finish.
  await waitFor(
    "the reconciliation's complete scans to finish",
    async () => {
      const runs = await query<{ entity: string; status: string }>(
        stack.databaseUrl,
        `select entity, status from sync_runs where account_id = $1 and trigger = 'reconcile' and started_at >= $2`,
        [accountId, ticked],
      );
      return SKYSLOPE_ENTITIES.every((e) =>
        runs.some((r) => r.entity === e && r.status.startsWith("COMPLETED")),
      );
    },
    { timeoutMs: 240_000, intervalMs: 500 },
  );
}

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-skyslope-e2e-"));
  ss = await startSkyslopeSimulator(0, {
    seed: 1818,
    timeZone: ZONE,
    dataClockAt: DATA_CLOCK,
    counts: { sales: 420, listings: 180, users: 14, offices: 4 },
    auth: {
      partners: { [KEYS.accessKey]: KEYS.accessSecret },
      clients: { [KEYS.clientId]: KEYS.clientSecret },
    },
  });
  const workerPort = await freePort();
  stack = await startStack({
    mode: "test",
    workerPort,
    adminToken: "e2e-skyslope-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    // Every line is kept (the test reads them for secrets); SKYSLOPE_E2E_LOG=<file> keeps them for a failed run.
    log: (line: string) => {
      logLines.push(line);
      if (process.env.SKYSLOPE_E2E_LOG) appendFileSync(process.env.SKYSLOPE_E2E_LOG, `${line}\n`);
    },
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  await admin.createAccount(accountId, "E2E SkySlope");
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await ss?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("SkySlope end to end: signed login, onboarding, deltas and complete scans across a DST change", () => {
  it("onboards exactly while the session is dropped mid-run (one re-login), keeping records with control characters", {
    timeout: 300_000,
  }, async () => {
    // Three files carry raw control characters (U+0001, U+001A, U+0000) in a string: their pages must not fail.
    await post("/_sim/hostile", { count: 3 });
    await post("/_sim/faults", { controlChars: true });
    const res = await admin.ok<{ id: string }>("POST", `/admin/accounts/${accountId}/connections`, {
      provider: "skyslope",
      credentials: KEYS,
      baseUrl: ss.url,
      settings: { timeZone: ZONE },
    });
    connectionId = res.id;
    await admin.sync(accountId, { connectionId, mode: "onboarding" });
    await waitFor("onboarding under way", async () => stats().calls >= 2, {
      timeoutMs: 120_000,
      intervalMs: 20,
    });
    const before = { logins: stats().logins, unauthorized: stats().unauthorized };
    const dropped = (await post("/_sim/sessions/expire")) as { expired: number };
    expect(dropped.expired).toBe(1);
    await settled("SkySlope onboarding");
    console.log(`onboarding: ${JSON.stringify(stats())}`);
    expect(stats().refusedLogins).toBe(0);
    expect(before.logins).toBe(1);
    // One re-login after the drop, however many calls the dropped session refused.
    expect(stats().logins).toBe(2);
    expect(stats().unauthorized).toBeGreaterThan(before.unauthorized);
    const truth = await expectExact("after onboarding");
    expect(truth.transactions).toHaveLength(420);

    // Times read in the connection's zone: the seeds straddle the 2025 spring-forward (09:59:59Z / 10:00:00.12Z).
    const pinned = await query<{ id: string; raw_on: string; at: string }>(
      stack.databaseUrl,
      `select source_id as id, raw->>'modifiedOn' as raw_on,
              to_char(source_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
         from skyslope_transactions where account_id = $1 and raw->>'modifiedOn' like '2025-03-09T0%' order by 3`,
      [accountId],
    );
    expect(pinned.map((p) => [p.raw_on, p.at])).toEqual([
      ["2025-03-09T01:59:59", "2025-03-09T09:59:59.000000"],
      ["2025-03-09T03:00:00.12", "2025-03-09T10:00:00.120000"],
    ]);

    // The seeds' mirror columns, derived from the entity keys.
    const cols = await query<{ column_name: string }>(
      stack.databaseUrl,
      `select column_name from information_schema.columns where table_name = 'skyslope_onboarding_jobs'`,
    );
    const names = cols.map((c) => c.column_name);
    for (const e of ["transaction", "listing", "account_users"])
      for (const suffix of ["status", "last_started_at", "last_finished_at"])
        expect(names).toContain(`${e}_${suffix}`);
    expect(names).toContain("updated_at");
    const [job] = await query<Record<string, unknown>>(
      stack.databaseUrl,
      `select transaction_status, listing_status, account_users_status, transaction_last_finished_at,
              listing_last_finished_at, account_users_last_finished_at
         from skyslope_onboarding_jobs where account_id = $1`,
      [accountId],
    );
    expect(job, "the onboarding job's mirror row").toBeDefined();
    for (const [k, v] of Object.entries(job ?? {})) expect(v, k).not.toBeNull();
  });

  it("live changes either side of a spring-forward: a delta catches creates, modifications and user/office removals", {
    timeout: 240_000,
  }, async () => {
    await post("/_sim/faults", {});
    await post("/_sim/clock", { at: "2026-03-08T09:59:30Z" }); // 01:59:30 PST
    const early = [
      await post("/_sim/mutate", { kind: "sale", creates: 2, updates: 3 }),
      await post("/_sim/mutate", { kind: "listing", creates: 1, updates: 2 }),
    ];
    await post("/_sim/clock", { at: "2026-03-08T10:00:30Z" }); // 03:00:30 PDT
    const late = [
      await post("/_sim/mutate", { kind: "sale", creates: 1, updates: 2 }),
      await post("/_sim/mutate", { kind: "listing", updates: 1 }),
      await post("/_sim/mutate", { kind: "user", creates: 1, updates: 1, deletes: 1 }),
      await post("/_sim/mutate", { kind: "office", creates: 1, updates: 1, deletes: 1 }),
    ];
    // Files removed too: nothing signals it, so no delta can see it.
    const removed = (await post("/_sim/mutate", { kind: "sale", deletes: 2 })) as { deleted: string[] };
    const removedListing = (await post("/_sim/mutate", { kind: "listing", deletes: 1 })) as {
      deleted: string[];
    };
    expect([...early, ...late].every((m) => m && typeof m === "object")).toBe(true);

    await admin.sync(accountId, { connectionId, mode: "delta" });
    await settled("delta after the spring-forward");
    const truth = await skyslopeTruth(ss.url);
    const report = await compareSkyslope(stack.databaseUrl, accountId, truth);
    const gone = [...removed.deleted, ...removedListing.deleted].sort();
    // Everything exact but the removed files, still live here until a complete scan.
    expect(
      report.map((r) => ({
        ...r,
        extra: r.what.endsWith("transactions") || r.what.endsWith("listings") ? [] : r.extra,
      })),
    ).toEqual(cleanSkyslope());
    const extras = report
      .filter((r) => ["skyslope_transactions", "skyslope_listings"].includes(r.what))
      .flatMap((r) => r.extra);
    expect(extras.sort()).toEqual(gone);

    // The instants either side of the change: 01:59:30 PST and 03:00:30 PDT are 61 s apart.
    const times = await query<{ raw_on: string; at: string }>(
      stack.databaseUrl,
      `select distinct raw->>'modifiedOn' as raw_on,
              to_char(source_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as at
         from skyslope_transactions where account_id = $1 and raw->>'modifiedOn' like '2026-03-08%' order by 2`,
      [accountId],
    );
    expect(times.map((t) => [t.raw_on.slice(0, 19), t.at])).toEqual([
      ["2026-03-08T01:59:30", "2026-03-08T09:59:30"],
      ["2026-03-08T03:00:30", "2026-03-08T10:00:30"],
    ]);
  });

  it("the reconciliation's complete scans retire the removed files; brought back, the next scans revive them (through a 429)", {
    timeout: 300_000,
  }, async () => {
    await reconcileNow();
    await settled("reconciliation scans");
    await expectExact("after the complete scans");
    const retired = await query<{ n: number }>(
      stack.databaseUrl,
      "select count(*)::int as n from skyslope_transactions where account_id = $1 and deleted_at is not null",
      [accountId],
    );
    expect(retired[0]?.n).toBe(2);

    // Back, unchanged (same modifiedOn): no delta can see them, the next complete scan does.
    const back = (await post("/_sim/mutate", { kind: "sale", restores: 2 })) as { restored: string[] };
    expect(back.restored).toHaveLength(2);
    // And a 429 on the way, without any header (none are published): the budget pauses, the scans finish.
    await post("/_sim/faults", { rate429: 1 });
    await reconcileNow();
    await settled("reconciliation scans after the restore");
    await expectExact("after the files came back");
    expect(stats().throttled).toBe(1);
    console.log(`final: ${JSON.stringify(stats())}`);
    // Neither the signature, the secrets nor a session reached the worker's output.
    expect(logLines.length).toBeGreaterThan(0);
    const leaks = logLines.filter(
      (l) =>
        l.includes(KEYS.accessSecret) ||
        l.includes(KEYS.clientSecret) ||
        /SS e2e-access-key:/.test(l) ||
        /sess-\d+-/.test(l),
    );
    expect(leaks).toEqual([]);
  });
});

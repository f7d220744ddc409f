import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELTA_CRON } from "../../src/sync/cron";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";
import type { Account } from "../../tools/simulator-zhl/app";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-zhl/main";
import { query, waitDrained } from "./dotloop-support";
import { CLEAN, compareRoster, expectedRouting, ZHL_ENTITIES } from "./zhl-support";

// Zillow Home Loans end to end over real HTTP: wrangler dev, Postgres and the seeds-derived ZHL simulator.
// The roster (loan officers, territory maps) onboards exactly and follows changes; the transfer job, run by
// the scheduler's minute tick when its 30-minute slot comes, routes referrals by territory, falls back when a
// primary is on leave, has an invalid NMLS id or refuses, survives a lost answer and two crashed runs
// without transferring anything twice, does nothing when run again, and logs every step.

const ACCOUNT = "acc_e2e_zhl";
const KEY = "zhl-e2e-key-4d7b1e90";
const T = ["WA-SEATTLE", "CA-SAN-DIEGO", "TX-AUSTIN", "AZ-PHOENIX"];

let zhl: RunningSimulator;
let sim: Account;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;
let connectionId: string;
const workerLog: string[] = [];

const db = <R>(text: string, params: unknown[] = []) => query<R>(stack.databaseUrl, text, params);

/** A run that parked records it could not store finishes as well (COMPLETED_WITH_ERRORS). */
const FINISHED = ["COMPLETED", "COMPLETED_WITH_ERRORS"];

type EntityState = { entity: string; status: string; runId: string | null };
async function states(): Promise<EntityState[]> {
  const s = await admin.status<{ connections: { entities: EntityState[] }[] }>(ACCOUNT);
  return s.connections.flatMap((c) => c.entities);
}

async function sync(mode: "onboarding" | "delta") {
  const before = new Set((await states()).map((e) => e.runId).filter(Boolean));
  await admin.sync(ACCOUNT, { mode });
  await waitFor(
    `${mode} runs finished`,
    async () => {
      const s = await states();
      const failed = s.find((e) => e.status === "ERROR");
      if (failed) throw new Error(JSON.stringify(failed));
      return ZHL_ENTITIES.every((n) => {
        const e = s.find((x) => x.entity === n);
        return e?.runId && !before.has(e.runId) && FINISHED.includes(e.status);
      });
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  await waitDrained(stack.databaseUrl, ACCOUNT);
}

/** Makes the transfer job's slot come, runs one scheduler tick and waits for the job's run to end. */
async function tick() {
  const job = () =>
    db<{ started: number; last_outcome: string | null }>(
      `select started, last_outcome from connection_jobs where connection_id = $1 and job = 'transfers'`,
      [connectionId],
    );
  const before = (await job())[0]?.started ?? 0;
  await db(`update connection_jobs set next_run_at = now() where connection_id = $1 and job = 'transfers'`, [
    connectionId,
  ]);
  const res = await fetch(`${stack.workerUrl}/__scheduled?cron=${encodeURIComponent(DELTA_CRON)}`);
  expect(res.status).toBe(200);
  await res.body?.cancel();
  await waitFor(
    "transfer job run finished",
    async () => {
      const [j] = await job();
      return j && j.started > before && j.last_outcome !== "running";
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

type Row = {
  referral_id: string;
  status: string;
  loan_officer_id: string | null;
  fallback: number;
  attempts: number;
  last_error: string | null;
};
const transfers = () =>
  db<Row>(
    `select referral_id, status, loan_officer_id, fallback, attempts, last_error from zhl_transfers
     where account_id = $1 order by referral_id`,
    [ACCOUNT],
  );
const changelog = () =>
  db<{
    referral_id: string;
    step: string;
    loan_officer_id: string | null;
    to_status: string | null;
    detail: Record<string, unknown> | null;
  }>(
    `select referral_id, step, loan_officer_id, to_status, detail from zhl_status_changelog
     where account_id = $1 order by at, id`,
    [ACCOUNT],
  );
const postTransfers = () => zhl.sim.requests.get("main")?.["POST /v1/transfers"] ?? 0;

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-zhl-e2e-"));
  zhl = await startSimulator(0, { accounts: { main: { apiKey: KEY, territories: 4, referrals: 12 } } });
  sim = zhl.sim.account("main");
  // Territory 2's primary is on leave, territory 3's has an invalid NMLS id, territory 1's refuses transfers.
  sim.touchOfficer("LO-1201", { status: "ON_LEAVE" });
  sim.touchOfficer("LO-1301", { nmlsId: "0123" });
  sim.refusing.add("LO-1101");
  sim.addReferrals(1, { noContact: true });
  sim.addReferrals(1, { territory: "ZZ-NOWHERE" });
  stack = await startStack({
    mode: "test",
    workerPort: await freePort(),
    adminToken: "e2e-zhl-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    log: (line: string) => workerLog.push(line),
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  await admin.createAccount(ACCOUNT, "E2E ZHL");
  ({ id: connectionId } = await admin.createConnection(ACCOUNT, {
    provider: "zhl",
    credentials: { apiKey: KEY },
    baseUrl: `${zhl.url}/v1`,
    // The transfers' own bound (five attempts, then parked) is under test here, not the breaker, which would
    // hold the calls of a provider failing this often before the bound is reached.
    settings: { breaker: { minCalls: 1_000_000 } },
  }));
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await zhl?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("ZHL end to end: roster sync and the loan-officer transfer workflow", () => {
  it("onboards loan officers and territory maps exactly", { timeout: 180_000 }, async () => {
    await sync("onboarding");
    expect(await compareRoster(stack.databaseUrl, ACCOUNT, zhl.sim.truth("main"))).toEqual(CLEAN);
    const [n] = await db<{ officers: number; maps: number }>(
      `select (select count(*)::int from zhl_loan_officers where account_id = $1 and deleted_at is null) as officers,
              (select count(*)::int from zhl_dedicated_loan_officer_map where account_id = $1 and deleted_at is null) as maps`,
      [ACCOUNT],
    );
    expect(n).toEqual({ officers: 12, maps: 8 });
  });

  it("transfers by territory with fallbacks, once each across a lost answer, two crashed runs and repeats", {
    timeout: 240_000,
  }, async () => {
    // A run that crashed after claiming, before calling the provider...
    const [crashedBeforeCall] = sim.addReferrals(1, { territory: T[0] });
    // ...and one that crashed after the provider executed the transfer, before recording it.
    const [crashedAfterCall] = sim.addReferrals(1, { territory: T[0] });
    const a = crashedBeforeCall?.id as string;
    const b = crashedAfterCall?.id as string;
    for (const id of [a, b])
      await db(
        `insert into zhl_transfers (account_id, connection_id, idempotency_key, referral_id, territory, status,
           claimed_by, claimed_at) values ($1, $2, $3, $4, $5, 'claimed', 'run-that-crashed', now() - interval '1 hour')`,
        [ACCOUNT, connectionId, `zhl:${connectionId}:${id}`, id, T[0]],
      );
    const officer = sim.officers.get("LO-1001");
    const direct = await fetch(`${zhl.url}/v1/transfers`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${KEY}`,
        "Content-Type": "application/json",
        "Idempotency-Key": `zhl:${connectionId}:${b}:LO-1001`,
      },
      body: JSON.stringify({ referralId: b, loanOfficerId: "LO-1001", nmlsId: officer?.nmlsId }),
    });
    expect(direct.status).toBe(201);
    // The first transfer this run makes is executed and its answer lost.
    sim.faults.loseAnswers = 1;

    await tick();
    let rows = await transfers();
    const failed = rows.filter((r) => r.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempts: 1, last_error: "transfer_http_502" });
    expect(
      rows
        .filter((r) => r.status === "ineligible")
        .map((r) => r.last_error)
        .sort(),
    ).toEqual(["contact_missing", "territory_unmapped"]);

    await tick();
    const truth = zhl.sim.truth("main");
    const expected = expectedRouting(truth, sim.refusing);
    rows = await transfers();
    const byId = new Map(rows.map((r) => [r.referral_id, r]));
    expect(rows).toHaveLength(truth.referrals.length);
    let fallbacks = 0;
    for (const [id, want] of expected) {
      const row = byId.get(id);
      if (!want) {
        expect(row?.status, id).toBe("ineligible");
        continue;
      }
      expect(row, id).toMatchObject({
        status: "notified",
        loan_officer_id: want.officer,
        fallback: want.fallback ? 1 : 0,
      });
      if (want.fallback) fallbacks++;
    }
    // Territories 1, 2 and 3 fell back (refusal, leave, NMLS id); territory 0 did not.
    expect(fallbacks).toBe(9);
    // Once each at the provider: one execution and one notification per transfer, none for the ineligible.
    const eligible = [...expected.values()].filter(Boolean).length;
    expect(truth.transfers).toHaveLength(eligible);
    for (const t of truth.transfers) {
      expect(t.executions, t.referralId).toBe(1);
      expect(t.notifications, t.referralId).toBe(1);
      expect(t.loanOfficerId).toBe(expected.get(t.referralId)?.officer);
    }

    // Run again (twice): nothing new is claimed, called or logged.
    const logged = (await changelog()).length;
    const posts = postTransfers();
    await tick();
    await tick();
    expect((await changelog()).length).toBe(logged);
    expect(postTransfers()).toBe(posts);
    expect(zhl.sim.truth("main").transfers.every((t) => t.executions === 1 && t.notifications === 1)).toBe(
      true,
    );

    const [job] = await db<Record<string, number>>(
      `select started, completed, failed, accounts_processed from connection_jobs
       where connection_id = $1 and job = 'transfers'`,
      [connectionId],
    );
    expect(job).toEqual({ started: 4, completed: 4, failed: 0, accounts_processed: 4 });
  });

  it("logs every step of every transfer in order", { timeout: 60_000 }, async () => {
    const log = await changelog();
    const truth = zhl.sim.truth("main");
    const expected = expectedRouting(truth, sim.refusing);
    for (const [id, want] of expected) {
      const steps = log.filter((l) => l.referral_id === id);
      const names = steps.map((s) => s.step);
      expect(["claimed", "reclaimed"], id).toContain(names[0]);
      if (!want) {
        expect(names.at(-1), id).toBe("ineligible");
        continue;
      }
      const order = [
        "validated",
        want.fallback ? "fallback_assigned" : "assigned",
        "transferred",
        "notified",
      ];
      const at = order.map((s) => names.lastIndexOf(s));
      expect(
        at.every((i) => i >= 0),
        `${id}: ${names.join(",")}`,
      ).toBe(true);
      expect(
        [...at].sort((x, y) => x - y),
        `${id}: ${names.join(",")}`,
      ).toEqual(at);
      expect(names.at(-1)).toBe("notified");
      expect(steps.find((s) => s.step === "transferred")?.loan_officer_id).toBe(want.officer);
      if (want.fallback) {
        const primary = steps.find((s) => s.step === "officer_skipped" || s.step === "transfer_refused");
        expect(primary, `${id}: ${names.join(",")}`).toBeDefined();
        expect(names.indexOf(primary?.step as string)).toBeLessThan(names.lastIndexOf("fallback_assigned"));
      }
    }
    const reasons = log
      .filter((l) => l.step === "officer_skipped" || l.step === "transfer_refused")
      .map((l) => `${l.loan_officer_id}:${l.detail?.reason ?? l.detail?.code}`);
    expect(new Set(reasons)).toEqual(
      new Set(["LO-1101:OFFICER_UNAVAILABLE", "LO-1201:officer_unavailable", "LO-1301:nmls_invalid"]),
    );
    expect(log.filter((l) => l.step === "reclaimed").length).toBeGreaterThanOrEqual(3);
    // No key, no contact detail in the worker's log.
    expect(workerLog.join("\n")).not.toContain(KEY);
  });

  it("parks what exhausts its attempts or finds no officer, visible in the status, and never retries it alone", {
    timeout: 180_000,
  }, async () => {
    // Territory 1's primary refuses already; its fallback now too: no officer accepts.
    sim.refusing.add("LO-1102");
    const [noOfficer] = sim.addReferrals(1, { territory: T[1] });
    // Claimed by a run that crashed, then transferred by someone else (another key) before we called.
    const [foreign] = sim.addReferrals(1, { territory: T[0] });
    await db(
      `insert into zhl_transfers (account_id, connection_id, idempotency_key, referral_id, territory, status,
         claimed_by, claimed_at) values ($1, $2, $3, $4, $5, 'claimed', 'run-that-crashed', now() - interval '1 hour')`,
      [ACCOUNT, connectionId, `zhl:${connectionId}:${foreign?.id}`, foreign?.id, T[0]],
    );
    const elsewhere = await fetch(`${zhl.url}/v1/transfers`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${KEY}`,
        "Content-Type": "application/json",
        "Idempotency-Key": "someone-else",
      },
      body: JSON.stringify({
        referralId: foreign?.id,
        loanOfficerId: "LO-1001",
        nmlsId: sim.officers.get("LO-1001")?.nmlsId,
      }),
    });
    expect(elsewhere.status).toBe(201);
    await tick();
    sim.refusing.delete("LO-1102");
    // Every transfer call of the next runs fails before anything happens.
    const [storm] = sim.addReferrals(1, { territory: T[0] });
    sim.faults.failTransfers = 1_000;
    const attempts: number[] = [];
    for (let run = 0; run < 6; run++) {
      await tick();
      const [r] = await db<Row>(`select * from zhl_transfers where account_id = $1 and referral_id = $2`, [
        ACCOUNT,
        storm?.id,
      ]);
      attempts.push(r?.attempts ?? -1);
    }
    sim.faults.failTransfers = 0;
    // Five attempts, then parked: the sixth run does not call for it.
    expect(attempts).toEqual([1, 2, 3, 4, 5, 5]);
    const byId = new Map((await transfers()).map((r) => [r.referral_id, r]));
    expect(byId.get(noOfficer?.id as string)).toMatchObject({
      status: "parked",
      last_error: "no_officer_accepted",
    });
    expect(byId.get(storm?.id as string)).toMatchObject({
      status: "parked",
      last_error: "transfer_http_503",
    });
    expect(byId.get(foreign?.id as string)).toMatchObject({
      status: "parked",
      last_error: "referral_already_transferred",
    });
    expect(zhl.sim.truth("main").transfers.find((t) => t.referralId === foreign?.id)?.executions).toBe(1);
    await tick();
    expect(zhl.sim.truth("main").transfers.find((t) => t.referralId === storm?.id)).toBeUndefined();
    const status = await admin.status<{
      connections: {
        id: string;
        periodicJobs: { job: string; parked: number; itemErrors: number; lastOutcome: string }[];
      }[];
    }>(ACCOUNT);
    const job = status.connections
      .find((c) => c.id === connectionId)
      ?.periodicJobs.find((j) => j.job === "transfers");
    expect(job).toMatchObject({ parked: 3, lastOutcome: "completed" });
    expect(job?.itemErrors).toBeGreaterThanOrEqual(7);
  });

  it("follows roster changes exactly: a status change, a new assignment and a removed one", {
    timeout: 180_000,
  }, async () => {
    sim.touchOfficer("LO-1003", { status: "INACTIVE" });
    sim.maps.delete("DLM-42");
    sim.maps.set("DLM-43", {
      id: "DLM-43",
      territory: T[3] as string,
      accountRef: "partner-17",
      loanOfficerId: "LO-1303",
      role: "FALLBACK",
      priority: 3,
      createdAt: "2026-11-30T10:30:00-08:00",
      updatedAt: "2026-11-30T10:30:00-08:00",
    });
    await sync("delta");
    expect(await compareRoster(stack.databaseUrl, ACCOUNT, zhl.sim.truth("main"))).toEqual(CLEAN);
    const [gone] = await db<{ deleted: boolean }>(
      `select deleted_at is not null as deleted from zhl_dedicated_loan_officer_map
       where account_id = $1 and source_id = 'DLM-42'`,
      [ACCOUNT],
    );
    expect(gone).toEqual({ deleted: true });
  });

  it("hostile data: unstorable roster records parked with their reason, the rest lands, referrals transferred or parked", {
    timeout: 60_000,
  }, async () => {
    const officers = sim.addHostile("officers", ["nul", "emoji"]);
    const maps = sim.addHostile("maps", ["surrogate", "long"]);
    const referrals = [
      ...sim.addHostile("referrals", ["nul"], "sender.name"),
      ...sim.addHostile("referrals", ["long"], "details"),
      ...sim.addHostile("referrals", ["surrogate"], "territory"),
      ...sim.addHostile("referrals", ["nul"], "id"),
    ];
    await sync("delta");
    const failed = await db<{ source_id: string; error_code: string; error_message: string }>(
      "select source_id, error_code, error_message from failed_records where account_id = $1",
      [ACCOUNT],
    );
    const reason = new Map(failed.map((f) => [f.source_id, f]));
    expect(reason.get(officers[0]?.id as string)).toMatchObject({
      error_code: "unstorable_value",
      error_message: "zhl_loan_officers.last_name holds a NUL character",
    });
    expect(reason.get(maps[0]?.id as string)?.error_code).toBe("unstorable_value");
    expect(failed).toHaveLength(2);
    // Their page-mates, and the records listed after them, land whole.
    const landed = await db<{ id: string; len: number }>(
      `select source_id as id, length(coalesce(last_name, '')) as len from zhl_loan_officers where account_id = $1
       union all select source_id, length(coalesce(account_ref, '')) from zhl_dedicated_loan_officer_map
       where account_id = $1`,
      [ACCOUNT],
    );
    const ids = new Map(landed.map((r) => [r.id, r.len]));
    expect(ids.get(officers[1]?.id as string)).toBeGreaterThan(0);
    expect(ids.get(maps[1]?.id as string)).toBeGreaterThan(800_000);
    const s = await admin.status<{
      connections: { entities: { entity: string; status: string; failedRecords: number }[] }[];
    }>(ACCOUNT);
    const entities = s.connections.flatMap((c) => c.entities);
    for (const name of ZHL_ENTITIES) {
      const e = entities.find((x) => x.entity === name);
      expect(e?.status, name).toBe("COMPLETED_WITH_ERRORS");
      expect(e?.failedRecords, name).toBe(1);
    }
    // One run of the job finishes every hostile referral: handed over as sent, refused or parked with a reason.
    await tick();
    const byId = new Map((await transfers()).map((r) => [r.referral_id, r]));
    expect(byId.get(referrals[0]?.id as string)?.status).toBe("notified");
    expect(byId.get(referrals[1]?.id as string)?.status).toBe("notified");
    expect(byId.get(referrals[2]?.id as string)).toMatchObject({
      status: "ineligible",
      last_error: "territory_invalid",
    });
    expect([...byId.values()].filter((r) => r.last_error === "referral_id_invalid")).toHaveLength(1);
    const posts = postTransfers();
    await tick();
    expect(postTransfers()).toBe(posts);
  });
});

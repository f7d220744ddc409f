import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, settledTo } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-lofty/main";
import { query } from "./dotloop-support";
import { waitSettled } from "./fub-support";
import { compareLofty, drained, LOFTY_CLEAN, LOFTY_ENTITIES, loftyTruth } from "./lofty-support";

// Lofty end to end over real HTTP: wrangler dev and the Lofty simulator. A personal-key connection is created
// (its webhook subscriptions made per list through the API, each callback URL carrying the connection's
// secret), onboarded (lead ids above 2^53 included), kept current by batched unsigned webhooks resolved to
// fetches, rescanned while leads are created and trashed under the scan, and shown a forged delivery. After
// each phase Postgres equals the simulator's ground truth, table by table and in the unified tables.
const KEY = "e2e-lofty-key";
const accountId = "acc_e2e_lofty";
const connectionId = "con_e2e_lofty";
const TWO_53 = 9007199254740992n;

let lf: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;

async function expectExact(what: string) {
  await drained(stack.databaseUrl, accountId);
  const truth = await loftyTruth(lf);
  const diff = await settledTo(() => compareLofty(stack.databaseUrl, accountId, truth), LOFTY_CLEAN);
  expect(diff, what).toEqual(LOFTY_CLEAN);
  return truth;
}

const liveLead = async (id: string) =>
  (
    await query<{ n: number }>(
      stack.databaseUrl,
      "select count(*)::int as n from lofty_leads where account_id = $1 and source_id = $2::bigint and deleted_at is null",
      [accountId, id],
    )
  )[0]?.n === 1;

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-lofty-e2e-"));
  lf = await startSimulator(0, {
    seed: 1717,
    counts: { leads: 60, members: 30, transactions: 8 },
    keys: { [KEY]: 500 },
    // Deliveries are released by the test (Lofty: 1 to 5 minutes late); localhost callbacks are http.
    faults: { allowHttpCallbacks: true, webhookDelayMs: 3_600_000 },
  });
  const workerPort = await freePort();
  stack = await startStack({
    mode: "test",
    workerPort,
    adminToken: "e2e-lofty-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    ...(process.env.LOFTY_E2E_LOG
      ? { log: (line: string) => appendFileSync(process.env.LOFTY_E2E_LOG as string, `${line}\n`) }
      : {}),
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  await admin.createAccount(accountId, "E2E Lofty");
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await lf?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("Lofty end to end: key connection, onboarding, batched webhooks, scans under change, forgery", () => {
  it("subscribes per list on creation and onboards every entity exactly, ids above 2^53 included", {
    timeout: 300_000,
  }, async () => {
    await admin.createConnection(accountId, {
      id: connectionId,
      provider: "lofty",
      credentials: { apiKey: KEY },
      baseUrl: lf.url,
    });
    const subs = [...lf.sim.subscriptions.values()];
    expect(subs.map((s) => s.listId).sort((a, b) => a - b)).toEqual([2, 3, 6, 9]);
    for (const s of subs) {
      expect(s.callbackUrl.startsWith(`${stack.workerUrl}/webhooks/lofty/${connectionId}?secret=`)).toBe(
        true,
      );
      expect(s.credential).toBe(KEY);
    }
    await admin.sync(accountId, { connectionId, mode: "onboarding" });
    await waitSettled(admin, stack.databaseUrl, accountId, LOFTY_ENTITIES, "Lofty onboarding", 240_000);
    const truth = await expectExact("after onboarding");
    expect(truth.leads.length).toBe(60);
    expect(truth.leads.filter((l) => BigInt(l.leadId) > TWO_53).length).toBeGreaterThan(40);
    // The stored ids are the provider's digits, not a double's neighbours.
    const ids = await query<{ id: string }>(
      stack.databaseUrl,
      "select source_id::text as id from lofty_leads where account_id = $1",
      [accountId],
    );
    expect(new Set(ids.map((r) => r.id))).toEqual(new Set(truth.leads.map((l) => l.leadId)));
  });

  it("live creates, updates, notes and trash arrive by batched webhooks, as fetches", {
    timeout: 180_000,
  }, async () => {
    const created = [lf.sim.createLead(), lf.sim.createLead(), lf.sim.createLead()];
    const existing = lf.sim.store.liveLeads().slice(10, 14);
    for (const l of existing.slice(0, 2))
      lf.sim.updateLead(String(l.leadId), { firstName: "Renamed", stage: "Qualified" });
    lf.sim.updateLead(String(created[0]?.leadId), { city: "Boise" });
    lf.sim.addNote(String(existing[3]?.leadId));
    const trashed = [String(existing[2]?.leadId), String(created[1]?.leadId)];
    for (const id of trashed) lf.sim.trashLead(id);
    const before = lf.sim.stats.webhooksDelivered;
    await lf.sim.flushWebhooks();
    // One batch per list that had news: lead info (2) and notes (9).
    expect(lf.sim.stats.webhooksDelivered - before).toBe(2);
    await expectExact("after webhooks");
    for (const id of trashed) expect(await liveLead(id)).toBe(false);
  });

  it("a complete scan during which leads are created and trashed deletes none that were only moved", {
    timeout: 240_000,
  }, async () => {
    const order = lf.sim.store.liveLeads();
    // Page 1 is read; then two leads on it are trashed and one is created: everything after them moves up one
    // place, so page 2 starts one lead later and the lead that was first on page 2 slips past the scan.
    const victims = [String(order[3]?.leadId), String(order[4]?.leadId)];
    const shifted = String(order[25]?.leadId);
    // Slow pages, so the status can be read while the scan runs: it says when the scan will finish.
    type Progress = {
      status: string;
      progress: { records: number; total: number | null; etaAt: number | null };
    };
    let during: Promise<{ connections: { entities: ({ entity: string } & Progress)[] }[] }> | null = null;
    lf.sim.faults.leadsPageDelayMs = 1_500;
    lf.sim.faults.afterLeadsPage = (n) => {
      if (n === 2) during = admin.status(accountId);
      if (n !== 1) return;
      for (const id of victims) lf.sim.trashLead(id);
      lf.sim.createLead();
    };
    const ownUrl = `/v1.0/leads/${shifted}`;
    const checksBefore = lf.sim.stats.paths[ownUrl] ?? 0;
    const pagesBefore = lf.sim.stats.served;
    await admin.sync(accountId, { connectionId, entity: "leads", mode: "delta" });
    await waitSettled(admin, stack.databaseUrl, accountId, ["leads"], "leads rescan", 120_000);
    lf.sim.faults.afterLeadsPage = null;
    lf.sim.faults.leadsPageDelayMs = 0;
    const seen = (await (during as unknown as ReturnType<typeof admin.status>)) as {
      connections: { entities: ({ entity: string } & Progress)[] }[];
    };
    const scanning = seen.connections[0]?.entities.find((e) => e.entity === "leads");
    expect(scanning?.status).toBe("IN_PROGRESS");
    expect(scanning?.progress.records).toBeGreaterThanOrEqual(25);
    expect(scanning?.progress.total).toBeGreaterThanOrEqual(60);
    expect(scanning?.progress.etaAt).toBeGreaterThan(Date.now() - 60_000);
    await drained(stack.databaseUrl, accountId);
    expect(lf.sim.stats.served).toBeGreaterThan(pagesBefore);
    // The lead the shift hid was missed by the scan, checked at its own URL, and kept.
    expect(lf.sim.stats.paths[ownUrl] ?? 0).toBeGreaterThan(checksBefore);
    expect(await liveLead(shifted)).toBe(true);
    const absences = await query<{ id: string }>(
      stack.databaseUrl,
      `select source_id::text as id from core_tombstones
       where account_id = $1 and entity = 'leads' and kind = 'absence'`,
      [accountId],
    );
    expect(absences.map((r) => r.id).filter((id) => !victims.includes(id))).toEqual([]);
    // The trash and the create reach us by their webhooks (or the next scan), and then all is exact.
    await lf.sim.flushWebhooks();
    await expectExact("after the rescan and its webhooks");
    // The cadence follows the scans' cost: a few pages at 500 a minute keep the scheduler's 15 minutes.
    const cadence = await query<{ m: number }>(
      stack.databaseUrl,
      "select delta_interval_minutes as m from connections where id = $1",
      [connectionId],
    );
    expect(cadence[0]?.m).toBe(15);
  });

  it("tasks, which no subscribed list announces: a new, a finished and a removed one are caught by the next scan", {
    timeout: 120_000,
  }, async () => {
    const [first, second] = lf.sim.store.tasks.filter(
      (t) => lf.sim.store.leads.get(String(t.leadId))?.trashed === false,
    );
    if (!first || !second) throw new Error("the simulator has fewer than two live tasks");
    const added = lf.sim.addTask(String(lf.sim.store.liveLeads()[0]?.leadId));
    lf.sim.finishTask(first.id);
    lf.sim.removeTask(second.id);
    await admin.sync(accountId, { connectionId, entity: "tasks", mode: "delta" });
    await waitSettled(admin, stack.databaseUrl, accountId, ["tasks"], "tasks scan", 60_000);
    await expectExact("after the tasks scan");
    const rows = await query<{ id: string; finished: boolean | null; deleted: boolean }>(
      stack.databaseUrl,
      `select source_id::text as id, finished, deleted_at is not null as deleted from lofty_tasks
       where account_id = $1 and source_id::text = any($2::text[])`,
      [accountId, [String(added.id), String(first.id), String(second.id)]],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(String(added.id))).toMatchObject({ deleted: false, finished: false });
    expect(byId.get(String(first.id))).toMatchObject({ deleted: false, finished: true });
    expect(byId.get(String(second.id))).toMatchObject({ deleted: true });
  });

  it("a forged delivery is refused without the secret, and with it can only cause a fetch", {
    timeout: 120_000,
  }, async () => {
    const target = String(lf.sim.store.liveLeads()[0]?.leadId);
    const forged = JSON.stringify([{ teamId: 1, listId: 2, leadId: target, eventType: "deleted" }]).replace(
      `"${target}"`,
      target,
    );
    const post = (url: string) =>
      fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: forged });
    const hook = `${stack.workerUrl}/webhooks/lofty/${connectionId}`;
    expect((await post(hook)).status).toBe(401);
    expect((await post(`${hook}?secret=guessed`)).status).toBe(401);
    // Even with the real URL (a leaked secret), a "deleted" hint about a live lead is checked and ignored.
    const real = [...lf.sim.subscriptions.values()][0]?.callbackUrl as string;
    const accepted = await post(real);
    expect(accepted.status).toBe(202);
    await drained(stack.databaseUrl, accountId);
    expect(await liveLead(target)).toBe(true);
    await expectExact("exact again after the forgery");
  });
});

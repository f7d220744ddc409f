import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-rezen/main";
import { query, waitDrained } from "./dotloop-support";
import { waitSettled } from "./fub-support";
import { compareRezen, REZEN_CLEAN, REZEN_ENTITIES, REZEN_TABLES, rezenTruth } from "./rezen-support";

// reZEN end to end over real HTTP: wrangler dev and the (community-derived) reZEN simulator. A key connection
// is created (its Standard Webhooks callback registered through the API), onboarded across both hosts, kept
// current by signed webhooks resolved to detail fetches and by deltas (silent closes, downline joins, leaves
// and deactivations, new contributions). After each phase Postgres equals the simulator's ground truth.
const KEY = "e2e-rezen-key";
const accountId = "acc_e2e_rezen";
const connectionId = "con_e2e_rezen";

let rz: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;

async function expectExact(what: string, only?: string[]) {
  await waitDrained(stack.databaseUrl, accountId);
  const truth = rezenTruth(rz);
  const clean = only ? REZEN_CLEAN.filter((c) => only.includes(c.what)) : REZEN_CLEAN;
  expect(await compareRezen(stack.databaseUrl, accountId, truth, only), what).toEqual(clean);
  return truth;
}

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-rezen-e2e-"));
  rz = await startSimulator(0, { seed: 2020, keys: [KEY], counts: { transactions: 48, downline: 30 } });
  const workerPort = await freePort();
  stack = await startStack({
    mode: "test",
    workerPort,
    adminToken: "e2e-rezen-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    ...(process.env.REZEN_E2E_LOG
      ? { log: (line: string) => appendFileSync(process.env.REZEN_E2E_LOG as string, `${line}\n`) }
      : {}),
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  await admin.createAccount(accountId, "E2E reZEN");
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await rz?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("reZEN end to end: key connection, onboarding, webhooks, deltas", () => {
  it("registers its webhook on creation and onboards every entity exactly", {
    timeout: 300_000,
  }, async () => {
    await admin.createConnection(accountId, {
      id: connectionId,
      provider: "rezen",
      credentials: { apiKey: KEY },
      baseUrl: rz.url,
    });
    const regs = [...rz.sim.registrations.values()];
    expect(regs.length).toBe(1);
    expect(regs[0]?.url.startsWith(`${stack.workerUrl}/webhooks/rezen/${connectionId}`)).toBe(true);
    expect(regs[0]?.key).toBe(KEY);
    await admin.sync(accountId, { connectionId, mode: "onboarding" });
    await waitSettled(admin, stack.databaseUrl, accountId, REZEN_ENTITIES, "reZEN onboarding", 240_000);
    const truth = await expectExact("after onboarding");
    expect(truth.transactions.length).toBe(48);
    // Both hosts were used, and never with a Bearer header (none refused).
    expect(rz.sim.stats.byHost.arrakis).toBeGreaterThan(48);
    expect(rz.sim.stats.byHost.yenta).toBeGreaterThan(5);
    expect(rz.sim.stats.unauthorized).toBe(0);
  });

  it("new, updated and terminated transactions arrive by signed webhooks, as detail fetches", {
    timeout: 120_000,
  }, async () => {
    const created = rz.sim.createTransaction();
    const [first, second] = rz.sim.store.inGroup("OPEN").filter((t) => t.id !== created.id);
    if (!first || !second) throw new Error("too few open transactions");
    rz.sim.updateTransaction(first.id, { price: 777_000 });
    rz.sim.terminateTransaction(second.id);
    const detailsBefore = rz.sim.stats.paths[`/arrakis/api/v1/transactions/${second.id}`] ?? 0;
    expect(await rz.sim.flushWebhooks()).toBe(3);
    await expectExact("after webhooks", ["rezen_transactions", "transactions"]);
    expect(rz.sim.stats.paths[`/arrakis/api/v1/transactions/${second.id}`]).toBeGreaterThan(detailsBefore);
    const row = await query<{ state: string; deleted: boolean }>(
      stack.databaseUrl,
      "select lifecycle_state as state, deleted_at is not null as deleted from rezen_transactions where account_id = $1 and source_id = $2",
      [accountId, second.id],
    );
    expect(row).toEqual([{ state: "TERMINATED", deleted: false }]);
  });

  it("a delta catches what no webhook announced: closes, downline joins, leaves and deactivations, contributions", {
    timeout: 180_000,
  }, async () => {
    const open = rz.sim.store.inGroup("OPEN")[0];
    if (!open) throw new Error("no open transaction");
    rz.sim.silently.closeTransaction(open.id);
    rz.sim.silently.terminateTransaction(rz.sim.store.inGroup("CLOSED")[0]?.id as string);
    const joined = rz.sim.silently.addDownline(2);
    const tier1 = [...rz.sim.store.downline.values()].filter((d) => d.tier === 1);
    rz.sim.silently.removeDownline(tier1[0]?.id as string);
    rz.sim.silently.deactivateDownline(tier1[1]?.id as string);
    const contribution = rz.sim.silently.addContribution();
    rz.sim.silently.createListing("LISTING_ACTIVE");
    expect(rz.sim.pendingWebhooks()).toBe(0);
    const detailCalls = () =>
      Object.entries(rz.sim.stats.paths)
        .filter(([p]) => /^\/arrakis\/api\/v1\/transactions\/[0-9a-f-]{36}$/.test(p))
        .reduce((n, [, v]) => n + v, 0);
    await admin.sync(accountId, { connectionId, mode: "delta" });
    await waitSettled(admin, stack.databaseUrl, accountId, REZEN_ENTITIES, "reZEN delta", 180_000);
    await expectExact("after the delta");
    const ids = await query<{ id: string }>(
      stack.databaseUrl,
      "select source_id as id from rezen_network_downline where account_id = $1 and deleted_at is null",
      [accountId],
    );
    expect(ids.map((r) => r.id)).toContain(joined.id);
    expect(ids.map((r) => r.id)).not.toContain(tier1[0]?.id);
    const contributions = await query<{ id: string }>(
      stack.databaseUrl,
      "select source_id as id from rezen_contributions where account_id = $1 and deleted_at is null",
      [accountId],
    );
    expect(contributions.map((r) => r.id)).toContain(contribution.id);
    expect(REZEN_TABLES.length).toBe(14);
    // The next delta fetches the details of the changed list items only (the first one after an onboarding
    // takes every parent written since the onboarding began).
    rz.sim.silently.closeTransaction(rz.sim.store.inGroup("OPEN")[0]?.id as string);
    const before = detailCalls();
    await admin.sync(accountId, { connectionId, mode: "delta" });
    await waitSettled(admin, stack.databaseUrl, accountId, REZEN_ENTITIES, "reZEN second delta", 180_000);
    await expectExact("after the second delta");
    expect(detailCalls() - before).toBe(1);
  });
});

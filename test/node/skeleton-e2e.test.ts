import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { SimulatorClient } from "../../tools/lib/simulator-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import { compareWithTruth } from "../../tools/lib/truth-compare";

// The whole skeleton for real: simulator + Worker under wrangler dev (workerd) + Postgres via the Neon driver.
const PEOPLE = 2_345;
const API_KEY = "e2e-skeleton-key";
const SYSTEM_KEY = "e2e-system-key";
const FIELDS: [string, string][] = [
  ["firstName", "first_name"],
  ["lastName", "last_name"],
  ["stage", "stage"],
];

let stack: Stack;
let admin: AdminClient;
let sim: SimulatorClient;
let persistTo: string;

async function pendingStaged(databaseUrl: string, accountId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query(
      "select count(*)::int as n from stage_records where account_id = $1 and done_at is null",
      [accountId],
    );
    return r.rows[0].n;
  } finally {
    await client.end();
  }
}

type EntityState = { entity: string; status: string; recordsSynced: number; errorMessage: string | null };
type Status = { connections: { entities: EntityState[] }[] };

async function syncAndSettle(accountId: string, mode: "onboarding" | "delta") {
  await admin.sync(accountId, { entity: "people", mode });
  await waitFor(
    `${mode} run of people to complete and its pages to be transformed`,
    async () => {
      const status = await admin.status<Status>(accountId);
      const people = status.connections.flatMap((c) => c.entities).find((s) => s.entity === "people");
      if (people?.status === "ERROR") throw new Error(`sync failed: ${JSON.stringify(people)}`);
      return people?.status === "COMPLETED" && (await pendingStaged(stack.databaseUrl, accountId)) === 0;
    },
    { timeoutMs: 90_000 },
  );
}

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-e2e-"));
  stack = await startStack({
    mode: "test",
    adminToken: "e2e-admin-token",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  sim = new SimulatorClient(stack.simulatorUrl);
  await sim.putTenant(API_KEY, { seed: 7, systemKey: SYSTEM_KEY, counts: { people: PEOPLE } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(persistTo, { recursive: true, force: true });
});

describe("walking skeleton: FUB people from the simulator into Postgres", () => {
  const accountId = "acc_e2e_skeleton";
  let onboarded = 0;

  it("onboards every person exactly once, in its newest version", async () => {
    await admin.createAccount(accountId, "E2E skeleton");
    await admin.createConnection(accountId, {
      id: "con_e2e_fub",
      provider: "fub",
      credentials: { apiKey: API_KEY, systemKey: SYSTEM_KEY, system: "edge-etl-e2e" },
      baseUrl: stack.simulatorUrl,
    });
    await syncAndSettle(accountId, "onboarding");
    const cmp = await compareWithTruth({
      databaseUrl: stack.databaseUrl,
      sim,
      apiKey: API_KEY,
      accountId,
      entity: "people",
      table: "fub_people",
      fields: FIELDS,
    });
    expect({ missing: cmp.missing.length, extra: cmp.extra.length, stale: cmp.stale.length }).toEqual({
      missing: 0,
      extra: 0,
      stale: 0,
    });
    // The seed trashes a few people; FUB hides trashed people from lists, and so does the truth.
    expect(cmp.truth).toBeGreaterThan(PEOPLE * 0.9);
    expect(cmp.core).toBe(cmp.truth);
    onboarded = cmp.core;
  });

  it("a delta sync brings in creates and updates made after onboarding", async () => {
    await sim.mutate(API_KEY, { entity: "people", creates: 25, updates: 60 });
    await syncAndSettle(accountId, "delta");
    const cmp = await compareWithTruth({
      databaseUrl: stack.databaseUrl,
      sim,
      apiKey: API_KEY,
      accountId,
      entity: "people",
      table: "fub_people",
      fields: FIELDS,
    });
    expect({ missing: cmp.missing, extra: cmp.extra, stale: cmp.stale }).toEqual({
      missing: [],
      extra: [],
      stale: [],
    });
    expect(cmp.core).toBe(onboarded + 25);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { SimulatorClient } from "../../tools/lib/simulator-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import { CLEAN, compareEntity, pendingWork, problems, waitSettled } from "./fub-support";

// Done-when of issue 6: all nine FUB entities onboarded from the simulator, then live mutations delivered by
// signed webhooks, then a delta sync; after each phase Postgres equals the simulator's truth, deletes included.
const ENTITIES = [
  "users",
  "groups",
  "stages",
  "people",
  "deals",
  "events",
  "calls",
  "textMessages",
  "appointments",
] as const;
const COUNTS = {
  people: 1_234,
  deals: 150,
  events: 640,
  calls: 310,
  textMessages: 280,
  appointments: 120,
  users: 25,
  groups: 12,
  stages: 12,
};
const API_KEY = "e2e-fub-key";
const SYSTEM_KEY = "e2e-fub-system-key";
const SYSTEM = "edge-etl-e2e";
const accountId = "acc_e2e_fub";
const connectionId = "con_e2e_fub_all";

let stack: Stack;

async function inboxSummary() {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const r = await client.query(
      `select status, count(*)::int as n, max(last_error) as error from webhook_inbox
       where account_id = $1 group by status`,
      [accountId],
    );
    return r.rows;
  } finally {
    await client.end();
  }
}
let admin: AdminClient;
let sim: SimulatorClient;
let persistTo: string;

async function expectCoreEqualsTruth() {
  const reports = [];
  for (const entity of ENTITIES) {
    const r = await compareEntity({
      databaseUrl: stack.databaseUrl,
      sim,
      apiKey: API_KEY,
      accountId,
      entity,
    });
    reports.push(r);
    expect({ entity, ...problems(r) }).toEqual({ entity, ...CLEAN });
  }
  return reports;
}

/** FUB's own webhook API, with the tenant's key and our system identity (only systems may register). */
async function registerWebhook(event: string, url: string) {
  const res = await fetch(`${stack.simulatorUrl}/v1/webhooks`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${API_KEY}:`)}`,
      "X-System": SYSTEM,
      "X-System-Key": SYSTEM_KEY,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ event, url }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

type Mutation = {
  entity: string;
  created: number[];
  updated: number[];
  trashed: number[];
  deleted: number[];
};

async function mutateAll(scale: number): Promise<Mutation[]> {
  const out: Mutation[] = [];
  for (const entity of ENTITIES) {
    const small = entity === "users" || entity === "groups" || entity === "stages";
    const r = (await sim.mutate(API_KEY, {
      entity,
      creates: small ? 1 : 4 * scale,
      updates: small ? 2 : 6 * scale,
      deletes: small ? 1 : 2 * scale,
      ...(entity === "people" ? { trash: 2 * scale } : {}),
    })) as Mutation;
    out.push(r);
  }
  return out;
}

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-fub-e2e-"));
  stack = await startStack({
    mode: "test",
    adminToken: "e2e-admin-token",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  sim = new SimulatorClient(stack.simulatorUrl);
  await sim.putTenant(API_KEY, {
    seed: 606,
    systemKey: SYSTEM_KEY,
    counts: COUNTS,
    webhookRetryScale: 1 / 600,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("Follow Up Boss end to end: onboarding, webhooks, delta", () => {
  it("onboards all nine entities; every live record lands once, in its newest version and full content", async () => {
    await admin.createAccount(accountId, "E2E FUB");
    await admin.createConnection(accountId, {
      id: connectionId,
      provider: "fub",
      credentials: { apiKey: API_KEY, systemKey: SYSTEM_KEY, system: SYSTEM },
      baseUrl: stack.simulatorUrl,
    });
    await admin.sync(accountId, { connectionId, mode: "onboarding" });
    await waitSettled(admin, stack.databaseUrl, accountId, ENTITIES, "onboarding of all nine entities");
    const reports = await expectCoreEqualsTruth();
    const people = reports.find((r) => r.entity === "people");
    // The seed trashes about 1 in 97 people: onboarding saw them (includeTrash) and keeps them not live.
    expect(people?.truth).toBeLessThan(COUNTS.people);
    expect(people?.truth).toBeGreaterThan(COUNTS.people * 0.95);
  });

  it("live mutations arrive by signed webhooks: creates, updates, trash and deletes of every entity", {
    timeout: 180_000,
  }, async () => {
    const hookUrl = `${stack.workerUrl}/webhooks/fub/${connectionId}`;
    for (const entity of ENTITIES) {
      for (const action of ["Created", "Updated", "Deleted"])
        await registerWebhook(`${entity}${action}`, hookUrl);
    }
    const before = (await sim.tenant<{ webhooks: { acknowledged: number } }>(API_KEY)).webhooks.acknowledged;
    const processed = async () =>
      (await inboxSummary()).filter((r) => r.status === "processed").reduce((n, r) => n + Number(r.n), 0);
    const processedBefore = await processed();
    const mutations = await mutateAll(3);
    const deletes = mutations.reduce((n, m) => n + m.deleted.length, 0);
    expect(deletes).toBeGreaterThanOrEqual(ENTITIES.length);
    // One event per entity and kind with any ids: created, updated (+ trashed), deleted.
    const expectedEvents = mutations.reduce(
      (n, m) =>
        n + [m.created, [...m.updated, ...m.trashed], m.deleted].filter((ids) => ids.length > 0).length,
      0,
    );
    let last: unknown = null;
    // The object copies recorded events to Postgres in batches after the 2xx, so "nothing pending" alone could
    // be read before the copy: wait until every expected event is there and processed.
    await waitFor(
      "every webhook acknowledged and processed",
      async () => {
        const t = await sim.tenant<{ webhooks: { acknowledged: number } }>(API_KEY);
        const pending = await pendingWork(stack.databaseUrl, accountId);
        const done = (await processed()) - processedBefore;
        last = {
          expectedEvents,
          processed: done,
          webhooks: t.webhooks,
          pending,
          inbox: await inboxSummary(),
        };
        return (
          t.webhooks.acknowledged - before >= expectedEvents &&
          done >= expectedEvents &&
          pending.inbox === 0 &&
          pending.staged === 0
        );
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    ).catch((error) => {
      throw new Error(`${error instanceof Error ? error.message : error}; ${JSON.stringify(last)}`);
    });
    await expectCoreEqualsTruth();
  });

  it("a delta sync catches changes no webhook announced (registrations disabled), deletes aside", async () => {
    // Drop the registrations: what changes now reaches us only through the delta sync.
    const hooks = (await (
      await fetch(`${stack.simulatorUrl}/v1/webhooks`, {
        headers: {
          Authorization: `Basic ${btoa(`${API_KEY}:`)}`,
          "X-System": SYSTEM,
          "X-System-Key": SYSTEM_KEY,
        },
      })
    ).json()) as { webhooks: { id: number }[] };
    for (const h of hooks.webhooks) {
      const res = await fetch(`${stack.simulatorUrl}/v1/webhooks/${h.id}`, {
        method: "DELETE",
        headers: {
          Authorization: `Basic ${btoa(`${API_KEY}:`)}`,
          "X-System": SYSTEM,
          "X-System-Key": SYSTEM_KEY,
        },
      });
      expect(res.status).toBe(204);
    }
    const mutations: Mutation[] = [];
    for (const entity of ENTITIES) {
      mutations.push(
        (await sim.mutate(API_KEY, {
          entity,
          creates: 3,
          updates: 5,
          ...(entity === "people" ? { trash: 2 } : {}),
        })) as Mutation,
      );
    }
    await admin.sync(accountId, { connectionId, mode: "delta" });
    await waitSettled(admin, stack.databaseUrl, accountId, ENTITIES, "delta sync of all nine entities");
    const reports = await expectCoreEqualsTruth();
    const people = reports.find((r) => r.entity === "people");
    expect(people?.truth).toBe((await sim.summary(API_KEY, "people")).count);
  });
});

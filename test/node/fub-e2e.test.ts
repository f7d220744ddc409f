import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { SimulatorClient } from "../../tools/lib/simulator-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import {
  CLEAN,
  compareEntity,
  compareUnified,
  type EntityReport,
  openFailures,
  pendingWork,
  problems,
  UNIFIED_CLEAN,
  waitSettled,
} from "./fub-support";

// All nine FUB entities onboarded from a simulator that behaves as FUB publishes (texts listed per person, deals
// with createdAt/updatedAt, stages and groups without timestamps, silent cascades), then live mutations delivered
// by signed webhooks (hundreds in one second, trash and restore, cascading deletes, stage changes, hostile
// records and bodies), then a delta sync and the daily cron; after each phase Postgres equals the simulator's
// truth, deletes included, and the unified tables equal the FUB tables they come from.
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

/**
 * Hostile records the provider holds that we could not store: each must be an open failed record of its entity
 * (the only records allowed to be missing from core), and nothing else may be missing.
 */
const parked = new Map<string, Set<number>>();

async function expectCoreEqualsTruth() {
  const reports: EntityReport[] = [];
  const failures = await openFailures(stack.databaseUrl, accountId);
  for (const entity of ENTITIES) {
    const r = await compareEntity({
      databaseUrl: stack.databaseUrl,
      sim,
      apiKey: API_KEY,
      accountId,
      entity,
    });
    reports.push(r);
    const accounted = parked.get(entity) ?? new Set<number>();
    for (const id of accounted) {
      expect(failures.get(entity)?.has(String(id)), `${entity} ${id} is in failed_records`).toBe(true);
    }
    const missing = r.missing.filter((id) => !accounted.has(id));
    expect({
      entity,
      ...problems({ ...r, missing, truth: r.truth - (r.missing.length - missing.length) }),
    }).toEqual({
      entity,
      ...CLEAN,
    });
  }
  expect(await compareUnified(stack.databaseUrl, accountId)).toEqual(UNIFIED_CLEAN);
  return reports;
}

/** FUB's own webhook API, with the tenant's key and our system identity (only systems may register). */
async function registerWebhook(event: string, url: string) {
  // The registration shares the API key's 250 per 10 s with the platform, which may have just spent it to the
  // last request: a 429 is FUB's answer then, and its Retry-After says when to ask again (a few times at most).
  let res: Response | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    res = await fetch(`${stack.simulatorUrl}/v1/webhooks`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`${API_KEY}:`)}`,
        "X-System": SYSTEM,
        "X-System-Key": SYSTEM_KEY,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ event, url }),
    });
    if (res.status !== 429) break;
    const wait = Number(res.headers.get("Retry-After") ?? "1");
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, wait)) * 1000));
  }
  expect(res?.status, await res?.clone().text()).toBe(201);
}

type Mutation = {
  entity: string;
  created: number[];
  updated: number[];
  trashed: number[];
  archived?: number[];
  restored?: number[];
  deleted: number[];
  cascaded?: Record<string, number[]>;
  hostile?: { id: number; kind: string }[];
};

async function mutateAll(scale: number): Promise<Mutation[]> {
  const out: Mutation[] = [];
  for (const entity of ENTITIES) {
    // Groups change without webhooks (FUB has none for them): only a complete scan sees them.
    if (entity === "groups") continue;
    const small = entity === "users" || entity === "stages";
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

/** One event per entity and kind with any ids: created, updated (+ trashed, archived, restored), deleted. */
function expectedEvents(mutations: Mutation[]): number {
  return mutations.reduce(
    (n, m) =>
      n +
      [
        m.created,
        [...m.updated, ...m.trashed, ...(m.archived ?? []), ...(m.restored ?? [])],
        m.deleted,
      ].filter((ids) => ids.length > 0).length,
    0,
  );
}

async function processedEvents() {
  return (await inboxSummary()).filter((r) => r.status === "processed").reduce((n, r) => n + Number(r.n), 0);
}

async function webhookMark() {
  const t = await sim.tenant<{ webhooks: { acknowledged: number } }>(API_KEY);
  return { acknowledged: t.webhooks.acknowledged, processed: await processedEvents() };
}

/**
 * The object copies recorded events to Postgres in batches after the 2xx, so "nothing pending" alone could be read
 * before the copy: wait until every expected event is acknowledged and processed and nothing is staged.
 */
async function awaitWebhooks(mark: { acknowledged: number; processed: number }, expected: number) {
  let last: unknown = null;
  await waitFor(
    "every webhook acknowledged and processed",
    async () => {
      const t = await sim.tenant<{ webhooks: { acknowledged: number } }>(API_KEY);
      const pending = await pendingWork(stack.databaseUrl, accountId);
      const done = (await processedEvents()) - mark.processed;
      last = { expected, processed: done, webhooks: t.webhooks, pending, inbox: await inboxSummary() };
      return (
        t.webhooks.acknowledged - mark.acknowledged >= expected &&
        done >= expected &&
        pending.inbox === 0 &&
        pending.staged === 0
      );
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  ).catch((error) => {
    throw new Error(`${error instanceof Error ? error.message : error}; ${JSON.stringify(last)}`);
  });
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
  it("onboards all nine entities; every live record lands once, in its newest version and full content", {
    timeout: 300_000,
  }, async () => {
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
      // FUB names stage events in the singular and announces nothing for groups.
      if (entity === "groups") continue;
      const family = entity === "stages" ? "stage" : entity;
      for (const action of ["Created", "Updated", "Deleted"])
        await registerWebhook(`${family}${action}`, hookUrl);
    }
    const mark = await webhookMark();
    const mutations = await mutateAll(3);
    const deletes = mutations.reduce((n, m) => n + m.deleted.length, 0);
    expect(deletes).toBeGreaterThanOrEqual(ENTITIES.length - 1);
    await awaitWebhooks(mark, expectedEvents(mutations));
    await expectCoreEqualsTruth();
  });

  it("hundreds of updates in one second, trash and restore, cascading person deletes and stage changes", {
    timeout: 180_000,
  }, async () => {
    const mark = await webhookMark();
    // One mutate call stamps every change with the same second: ties are decided by fetch order.
    const people = (await sim.mutate(API_KEY, {
      entity: "people",
      updates: 300,
      trash: 4,
      restore: 3,
      deletes: 4,
    })) as Mutation;
    expect(people.updated.length).toBeGreaterThan(250);
    const cascaded = Object.values(people.cascaded ?? {}).reduce((n, ids) => n + ids.length, 0);
    // The seed gives a third of the people calls, texts and events; deleting four must take some with them.
    const deals = (await sim.mutate(API_KEY, {
      entity: "deals",
      updates: 40,
      trash: 2,
      restore: 1,
      archive: 2,
    })) as Mutation;
    const stages = (await sim.mutate(API_KEY, {
      entity: "stages",
      creates: 1,
      updates: 2,
      deletes: 1,
    })) as Mutation;
    await awaitWebhooks(mark, expectedEvents([people, deals, stages]));
    await expectCoreEqualsTruth();
    // Cascaded children have no webhook of their own: they are gone from core only through the parent's delete.
    if (cascaded > 0) {
      const client = new pg.Client({ connectionString: stack.databaseUrl });
      await client.connect();
      try {
        for (const [entity, ids] of Object.entries(people.cascaded ?? {})) {
          const table = { calls: "fub_calls", textMessages: "fub_text_messages", events: "fub_events" }[
            entity
          ];
          if (!table || ids.length === 0) continue;
          const live = await client.query(
            `select count(*)::int as n from ${table} where account_id = $1 and source_id = any($2::bigint[]) and deleted_at is null`,
            [accountId, ids],
          );
          expect(live.rows[0]?.n, `${entity} cascaded from deleted people`).toBe(0);
        }
      } finally {
        await client.end();
      }
    }
  });

  it("hostile records and bodies by signed webhook: each stored faithfully or parked, neighbours land, status tells", {
    timeout: 180_000,
  }, async () => {
    const mark = await webhookMark();
    const hostile: Mutation[] = [];
    for (const entity of ["people", "deals", "calls"] as const) {
      const m = (await sim.mutate(API_KEY, { entity, hostile: 8, creates: 2, updates: 3 })) as Mutation;
      expect(m.hostile?.length).toBe(8);
      hostile.push(m);
    }
    await awaitWebhooks(mark, expectedEvents(hostile));
    // Bodies no store can hold, signed like any delivery: never a 5xx, and the account's later events still flow.
    const sent = await sim.sendHostileWebhooks(API_KEY, {});
    const ids = new Set(sent.sent.map((x) => x.eventId));
    let deliveries: { eventId: string; status: number | null }[] = [];
    await waitFor("every hostile delivery answered", async () => {
      const res = await fetch(`${stack.simulatorUrl}/_sim/tenants/${API_KEY}/webhooks`);
      const all = ((await res.json()) as { deliveries: { eventId: string; status: number | null }[] })
        .deliveries;
      deliveries = all.filter((d) => ids.has(d.eventId));
      return deliveries.length >= ids.size;
    });
    expect(deliveries.filter((d) => d.status === null || d.status >= 500)).toEqual([]);
    const after = await webhookMark();
    const later = (await sim.mutate(API_KEY, { entity: "people", creates: 2, updates: 5 })) as Mutation;
    await awaitWebhooks(after, expectedEvents([later]));

    const failures = await openFailures(stack.databaseUrl, accountId);
    const outcome: Record<string, string> = {};
    for (const m of hostile) {
      const truthIds = new Set<number>();
      const listed = await sim.hostile(API_KEY, m.entity);
      for (const r of listed.records) truthIds.add(r.id);
      for (const h of m.hostile ?? []) {
        expect(truthIds.has(h.id)).toBe(true);
        const code = failures.get(m.entity)?.get(String(h.id));
        if (code) {
          const set = parked.get(m.entity) ?? new Set<number>();
          set.add(h.id);
          parked.set(m.entity, set);
        }
        outcome[`${m.entity}:${h.kind}`] = code ?? "stored";
      }
    }
    // What Postgres cannot hold is parked with its reason; everything else is stored as sent.
    for (const entity of ["people", "deals", "calls"]) {
      expect(outcome[`${entity}:nul`], entity).toBe("unstorable_value");
      expect(outcome[`${entity}:surrogate`], entity).toBe("unstorable_value");
      expect(outcome[`${entity}:bigId`], entity).toBe("validation_failed");
      for (const kind of ["control", "emoji", "long"])
        expect(outcome[`${entity}:${kind}`], kind).toBe("stored");
    }
    console.log(`hostile outcomes: ${JSON.stringify(outcome)}`);
    // expectCoreEqualsTruth checks the stored ones byte for byte (raw = the provider's record).
    await expectCoreEqualsTruth();
    const status = await admin.status<{
      connections: { entities: { entity: string; status: string; failedRecords: number }[] }[];
    }>(accountId);
    const entities = status.connections.flatMap((c) => c.entities);
    expect(entities.filter((e) => e.status === "ERROR")).toEqual([]);
    for (const entity of ["people", "deals", "calls"]) {
      const e = entities.find((x) => x.entity === entity);
      expect(e?.failedRecords, entity).toBeGreaterThanOrEqual(parked.get(entity)?.size ?? 0);
      expect(e?.status, entity).toBe("COMPLETED_WITH_ERRORS");
    }
  });

  it("a delta sync catches changes no webhook announced (registrations disabled), deletes aside", {
    timeout: 240_000,
  }, async () => {
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

  it("the daily reconciliation repairs drift no webhook or delta could see", {
    timeout: 240_000,
  }, async () => {
    // Groups changed without webhooks and a person deleted while webhooks were off: its cascade is silent too.
    await sim.mutate(API_KEY, { entity: "groups", creates: 1, updates: 1 });
    await sim.mutate(API_KEY, { entity: "people", deletes: 2 });
    // Each connection is reconciled once a day at its own slot by the minute tick. Both of its slots are due in
    // this tick (the hard case): the tick starts the delta runs first, so the catch-up scans the reconciliation
    // asks for find their entities busy and must start when those deltas end.
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `update connections set next_reconcile_at = now() - interval '1 second',
           next_delta_at = now() - interval '1 second' where account_id = $1`,
        [accountId],
      );
    } finally {
      await client.end();
    }
    const res = await fetch(`${stack.workerUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(res.status).toBe(200);
    // People drifted (two deleted in FUB): their complete scan is the reconciliation's, and it must finish.
    await waitFor(
      "people's complete scan started by the reconciliation to finish",
      async () => {
        type E = { entity: string; status: string; mode: string; origin: string | null };
        const status = await admin.status<{ connections: { entities: E[] }[] }>(accountId);
        const people = status.connections.flatMap((c) => c.entities).find((e) => e.entity === "people");
        return (
          people?.origin === "reconcile" && people.mode === "onboarding" && people.status !== "IN_PROGRESS"
        );
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    await waitSettled(admin, stack.databaseUrl, accountId, ENTITIES, "reconciliation scans", 240_000);
    await expectCoreEqualsTruth();
  });
});

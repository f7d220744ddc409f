import { sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import { afterAll, describe, expect, it } from "vitest";
import { fub } from "../../src/connectors/fub";
import { fubPersonSchema } from "../../src/connectors/fub/people";
import { resolveFubWebhook } from "../../src/connectors/fub/webhooks";
import { connectorFor } from "../../src/connectors/registry";
import type { EntityDef } from "../../src/connectors/types";
import { type Cursor, maxCursor } from "../../src/core/cursor";
import { applyTombstones } from "../../src/pipeline/run-completion";
import { upsertStatement } from "../../src/pipeline/upsert";
import { createSimulator, ENTITIES, type Rec } from "../../tools/simulator/app";
import { rows, uniqueId, withTestDb } from "../support/db";

// The real simulator, in-process: the connector's declared paging, auth and filters must work against FUB's
// real shapes, and every record it yields must validate, map and land in Postgres.
const BASE = "http://fub-sim.test";
const API_KEY = "connector-fub-key";
const SYSTEM_KEY = "connector-fub-system";
const CREDS = { apiKey: API_KEY, systemKey: SYSTEM_KEY, system: "edge-etl-test" };
const COUNTS = {
  people: 330,
  deals: 40,
  events: 150,
  calls: 60,
  textMessages: 60,
  appointments: 30,
  users: 12,
  groups: 9,
  stages: 12,
};

const sim = createSimulator({ baseUrl: BASE, fetch: async () => new Response(null, { status: 204 }) });
sim.putTenant(API_KEY, { seed: 42, systemKey: SYSTEM_KEY, counts: COUNTS });
afterAll(() => sim.close());

const fetchSim = (url: string) => sim.fetch(new Request(url, { headers: fub.authHeaders(CREDS) }));

function entityOf(name: string): EntityDef {
  const e = fub.entities[name];
  if (!e) throw new Error(`no entity ${name}`);
  return e;
}

/** Pulls one entity the way the sync runner does: first page, then nextUrl until null. */
async function pull(name: string, since: string | null) {
  const entity = entityOf(name);
  if (entity.parent) return pullPerParent(entity, since);
  const records: unknown[] = [];
  let url: string | null = fub.firstPageUrl({
    baseUrl: BASE,
    entity,
    mode: since ? "delta" : "onboarding",
    since,
  });
  let pages = 0;
  while (url) {
    const res = await fetchSim(url);
    expect(res.status, `${url}`).toBe(200);
    const page = fub.parsePage(await res.json(), entity, url);
    records.push(...page.records);
    url = page.nextUrl;
    pages++;
  }
  return { records, pages };
}

/**
 * An entity listed per parent (texts per person), as the runner's fan-out lists it: every parent's children
 * from the parent's first page to its last, with no time filter. The parents are those the truth's records
 * name; a delta keeps what changed after the cursor, as the delta pull of other entities does.
 */
async function pullPerParent(entity: EntityDef, since: string | null) {
  const spec = entity.parent;
  if (!spec) throw new Error("not a per-parent entity");
  const param = spec.param;
  if (!param) throw new Error("not listed by a parent parameter");
  const t = sim.getTenant(API_KEY);
  if (!t) throw new Error("no tenant");
  const parents = new Set<string>();
  for (const x of t.stores[entity.name as (typeof ENTITIES)[number]].walk()) {
    const parent = x.record?.[param];
    if (parent !== null && parent !== undefined) parents.add(String(parent));
  }
  const records: unknown[] = [];
  let pages = 0;
  for (const parentId of [...parents].sort((a, b) => Number(a) - Number(b))) {
    let url: string | null = fub.firstPageUrl({
      baseUrl: BASE,
      entity,
      mode: "onboarding",
      since: null,
      parentId,
    });
    expect(new URL(url).searchParams.get(param)).toBe(parentId);
    while (url) {
      const res = await fetchSim(url);
      expect(res.status, `${url}`).toBe(200);
      const page = fub.parsePage(await res.json(), entity, url);
      // A simulator that ignores the filter answers with every parent's children; FUB answers with this one's.
      records.push(...page.records.filter((r) => String((r as Rec)[param]) === parentId));
      url = page.nextUrl;
      pages++;
    }
  }
  const changed = since ? records.filter((r) => String(entity.cursorOf(r)?.updated ?? "") > since) : records;
  return { records: changed, pages };
}

/** Fetch order for landed rows: each landing is a later fetch than the one before. */
let fetchSeq = 0;

async function land(accountId: string, name: string, records: unknown[]) {
  const entity = entityOf(name);
  const byTable = new Map<
    unknown,
    { table: Parameters<typeof upsertStatement>[0]; rows: Record<string, unknown>[] }
  >();
  for (const raw of records) {
    const parsed = entity.schema.safeParse(raw);
    if (!parsed.success) throw new Error(`${name} ${JSON.stringify(raw)}: ${parsed.error.message}`);
    for (const w of entity.toCore(parsed.data, { accountId, connectionId: "con_fub" })) {
      const slot = byTable.get(w.table) ?? { table: w.table, rows: [] };
      slot.rows.push({ ...w.row, fetch_seq: ++fetchSeq });
      byTable.set(w.table, slot);
    }
  }
  await withTestDb(async (db) => {
    for (const { table, rows: list } of byTable.values())
      await db.execute(upsertStatement(table, list, { versioning: entity.versioning ?? "updated" }));
  });
}

function tableOf(name: string): string {
  return getTableConfig(entityOf(name).coreTable).name;
}

const byContent = (name: string) => entityOf(name).versioning === "contentHash";

/** A row's version: its `updated` time, or its name for entities versioned by content (no time published). */
async function liveRows(accountId: string, name: string) {
  return rows<{ id: string; updated: string }>(
    sql`select source_id::text as id,
               ${byContent(name) ? sql`raw->>'name'` : sql`to_char(source_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`} as updated
        from ${sql.raw(tableOf(name))} where account_id = ${accountId} and deleted_at is null order by source_id`,
  );
}

function truth(name: string): Map<string, string> {
  const out = new Map<string, string>();
  const t = sim.getTenant(API_KEY);
  if (!t) throw new Error("no tenant");
  for (const x of t.stores[name as (typeof ENTITIES)[number]].walk()) {
    // Deals publish updatedAt, the others updated.
    if (x.record && !x.trashed)
      out.set(
        String(x.id),
        String(byContent(name) ? x.record.name : (x.record.updated ?? x.record.updatedAt)),
      );
  }
  return out;
}

async function expectCoreEqualsTruth(accountId: string, name: string) {
  const core = new Map((await liveRows(accountId, name)).map((r) => [r.id, r.updated]));
  expect(core, `${name} live rows vs simulator truth`).toEqual(truth(name));
}

describe("FUB record schemas", () => {
  it("accept every entity's simulator records, extra fields included", () => {
    const t = sim.getTenant(API_KEY);
    if (!t) throw new Error("no tenant");
    for (const name of ENTITIES) {
      const entity = entityOf(name);
      const page = t.stores[name].list({
        filter: { includeTrash: true },
        sort: { key: "id", desc: false },
        offset: 0,
        limit: 100,
      });
      expect(page.records.length, name).toBeGreaterThan(0);
      for (const r of page.records) {
        const parsed = entity.schema.safeParse({ ...r, someFutureField: { x: 1 } });
        expect(parsed.success, `${name} ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      }
    }
  });

  it("reject the malformations the simulator injects and other broken ids and times", () => {
    // The engine validates with the entity's schema: the record's own shape plus an update time under either
    // published name.
    const schema = entityOf("people").schema;
    const good = { id: 7, updated: "2024-05-01T10:00:00Z", firstName: "A" };
    expect(schema.safeParse(good).success).toBe(true);
    expect(
      schema.safeParse({ id: 7, updatedAt: "2024-05-01T10:00:00Z", createdAt: "2024-05-01T09:00:00Z" })
        .success,
    ).toBe(true);
    for (const bad of [
      { ...good, id: "fub-7" },
      { ...good, id: 7.5 },
      { ...good, id: -1 },
      { ...good, id: 2 ** 40 },
      { id: 7 },
      { ...good, updated: "0000-00-00 00:00:00" },
      { ...good, updated: "1" },
      { ...good, updated: "yesterday" },
      { ...good, emails: [{ type: "home" }] },
      { ...good, assignedUserId: "3" },
    ]) {
      expect(schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    // Served through the simulator's fault layer: every malformed record is refused, the rest pass.
    const t = sim.getTenant(API_KEY);
    if (!t) throw new Error("no tenant");
    t.faults.set({ malformedRate: 0.3 });
    try {
      let malformed = 0;
      for (let id = 1; id <= 200; id++) {
        const got = t.stores.calls.get(id);
        if (!got) continue;
        const served = t.faults.serve("calls", got.record);
        const isBad = t.faults.malformKind("calls", id) !== null;
        if (isBad) malformed++;
        expect(entityOf("calls").schema.safeParse(served).success, `call ${id}`).toBe(!isBad);
        if (isBad) expect(entityOf("calls").cursorOf(served)).toBeNull();
      }
      expect(malformed).toBeGreaterThan(5);
    } finally {
      t.faults.set({});
    }
  });
});

describe("FUB mappings", () => {
  const source = { accountId: "acc_x", connectionId: "con_x" };

  it("people become a fub_people row and a unified contact; trashed people are marked and not live", () => {
    const p = fubPersonSchema.parse({
      id: 12,
      created: "2024-01-01T00:00:00Z",
      updated: "2024-02-01T00:00:00Z",
      firstName: "Ann",
      lastName: "Lee",
      stage: "Trash",
      stageId: 12,
      contacted: 1,
      emails: [
        { value: "b@x.test", isPrimary: 0 },
        { value: "a@x.test", isPrimary: 1 },
      ],
    });
    const writes = entityOf("people").toCore(p, source);
    expect(writes.map((w) => getTableConfig(w.table).name)).toEqual(["fub_people", "contacts"]);
    const own = writes[0]?.row ?? {};
    expect(own).toMatchObject({
      account_id: "acc_x",
      connection_id: "con_x",
      source_id: 12,
      source_updated_at: "2024-02-01T00:00:00.000Z",
      trashed: true,
      deleted_at: "2024-02-01T00:00:00.000Z",
      contacted: true,
      primary_email: "a@x.test",
    });
    expect(writes[1]?.row.deleted_at).toBe("2024-02-01T00:00:00.000Z");
    const live = entityOf("people").toCore({ ...p, stage: "Lead", stageId: 1 }, source)[0]?.row;
    expect(live).toMatchObject({ trashed: false, deleted_at: null });
  });

  it("activity entities feed the unified activities table with kind-prefixed ids, and deletes reach both", () => {
    for (const [name, kind] of [
      ["calls", "call"],
      ["textMessages", "text"],
      ["events", "event"],
      ["appointments", "appointment"],
    ] as const) {
      const e = entityOf(name);
      const writes = e.toCore(e.schema.parse({ id: 5, updated: "2024-01-01T00:00:00Z" }), source);
      expect(writes.map((w) => getTableConfig(w.table).name)).toEqual([tableOf(name), "activities"]);
      expect(writes[1]?.row.source_id).toBe(`${kind}:5`);
      expect(e.deleteTargets("5").map((t) => [getTableConfig(t.table).name, t.sourceId])).toEqual([
        [tableOf(name), "5"],
        ["activities", `${kind}:5`],
      ]);
    }
    expect(
      entityOf("stages")
        .deleteTargets("3")
        .map((t) => getTableConfig(t.table).name),
    ).toEqual(["fub_stages"]);
  });
});

describe("FUB webhooks", () => {
  it("resolve thin payloads to an entity and ids; *Deleted to tombstones; unsynced resources to nothing", () => {
    expect(
      resolveFubWebhook({
        eventId: "e1",
        eventCreated: "2025-01-02T03:04:05+00:00",
        event: "peopleStageUpdated",
        resourceIds: [3, 1, 3],
        uri: `${BASE}/v1/people?id=1,3`,
      }),
    ).toEqual({
      eventId: "e1",
      event: "peopleStageUpdated",
      entity: "people",
      ids: ["3", "1"],
      uri: `${BASE}/v1/people?id=1,3`,
      deleted: false,
      occurredAt: "2025-01-02T03:04:05.000Z",
    });
    expect(
      resolveFubWebhook({ eventId: "e2", event: "textMessagesDeleted", resourceIds: [9], uri: null }),
    ).toMatchObject({ entity: "textMessages", ids: ["9"], deleted: true });
    expect(
      resolveFubWebhook({ eventId: "e3", event: "notesCreated", resourceIds: [1], uri: "x" }),
    ).toBeNull();
    expect(() => resolveFubWebhook({ event: "peopleCreated" })).toThrow(/eventId/);
    expect(fub.webhooks?.verification.name).toBe("fub");
    expect(fub.webhooks?.events).toContain("dealsDeleted");
  });
});

describe("FUB connector against the simulator", () => {
  const accountId = uniqueId("acc");
  const cursors = new Map<string, Cursor | null>();

  it("declares auth, limits and the entity set the engine relies on", () => {
    expect(connectorFor("fub")).toBe(fub);
    expect(Object.keys(fub.entities).sort()).toEqual([...ENTITIES].sort());
    expect(fub.authHeaders(CREDS)).toEqual({
      Authorization: `Basic ${btoa(`${API_KEY}:`)}`,
      "X-System": "edge-etl-test",
      "X-System-Key": SYSTEM_KEY,
    });
    expect(fub.rateLimit(CREDS)).toMatchObject({ limit: 250, windowMs: 10_000 });
    expect(fub.rateLimit({ apiKey: API_KEY }).limit).toBe(125);
    const first = new URL(
      fub.firstPageUrl({
        baseUrl: BASE,
        entity: entityOf("people"),
        mode: "delta",
        since: "2024-01-01T00:00:00.000Z",
      }),
    );
    expect(Object.fromEntries(first.searchParams)).toEqual({
      includeTrash: "true",
      sort: "updated",
      updatedAfter: "2024-01-01T00:00:00.000Z",
      limit: "100",
    });
  });

  it("onboards all nine entities through keyset paging; core equals the truth, trashed people not live", async () => {
    for (const name of ENTITIES) {
      const { records, pages } = await pull(name, null);
      const count = COUNTS[name];
      // people lists include the Trash, so every base record comes through exactly once
      expect(records.length, name).toBe(count);
      expect(new Set(records.map((r) => (r as Rec).id)).size, name).toBe(count);
      // Per-parent lists take at least a page per parent.
      if (!entityOf(name).parent) expect(pages, name).toBe(Math.max(1, Math.ceil(count / 100)));
      await land(accountId, name, records);
      let c: Cursor | null = null;
      for (const r of records) c = maxCursor(c, entityOf(name).cursorOf(r));
      cursors.set(name, c);
      await expectCoreEqualsTruth(accountId, name);
    }
    const trashed = await rows<{ n: number }>(
      sql`select count(*)::int as n from fub_people where account_id = ${accountId} and trashed and deleted_at is not null`,
    );
    expect(trashed[0]?.n).toBeGreaterThan(0);
  });

  it("a delta pull plus webhook resolution brings in creates, updates, trash and deletes for every entity", async () => {
    sim.clockOffsetMs += 60_000; // mutations are stamped after the base timeline
    const deletedByEntity = new Map<string, string[]>();
    for (const name of ENTITIES) {
      const result = sim.mutate(API_KEY, {
        entity: name,
        creates: 3,
        updates: 4,
        deletes: 2,
        ...(name === "people" ? { trash: 3 } : {}),
      });
      expect(result.deleted).toHaveLength(2);
      const deletes = result.webhooks.map((w) => resolveFubWebhook(w)).filter((r) => r?.deleted);
      // FUB announces no group changes: their deletes show only as absence from a complete scan.
      deletedByEntity.set(
        name,
        name === "groups" ? result.deleted.map(String) : deletes.flatMap((r) => r?.ids ?? []),
      );
    }
    for (const name of ENTITIES) {
      const since = cursors.get(name)?.updated ?? null;
      const { records } = await pull(name, since);
      // Only what changed after the cursor (creates, updates, trash), never the whole set again.
      // An entity versioned by content has no cursor: every run lists all of it (a complete scan).
      expect(records.length, name).toBe(byContent(name) ? truth(name).size : name === "people" ? 10 : 7);
      await land(accountId, name, records);
      const ids = deletedByEntity.get(name) ?? [];
      expect(ids, name).toHaveLength(2);
      // Deletes apply as run completion applies them: by fetch order, with FUB's silent cascades (a deleted
      // person's calls, texts and events go with it).
      fetchSeq++;
      await withTestDb((db) =>
        applyTombstones(
          db,
          { accountId, connectionId: "con_fub", provider: "fub", entity: name, runId: `deletes-${name}` },
          ids.map((sourceId) => ({ sourceId, deletedAt: new Date().toISOString(), deletedSeq: fetchSeq })),
        ),
      );
      await expectCoreEqualsTruth(accountId, name);
    }
  });

  it("webhook-named records are fetched back by id in one list page, trashed ones included", async () => {
    const t = sim.getTenant(API_KEY);
    if (!t) throw new Error("no tenant");
    const trashedId = t.stores.people.summary().trashedIds[0];
    expect(trashedId).toBeDefined();
    const ids = ["1", "2", String(trashedId)];
    const urls = fub.recordsUrls({ baseUrl: BASE, entity: entityOf("people"), ids }) ?? [];
    expect(urls).toHaveLength(1);
    const url = urls[0] ?? "";
    const page = fub.parsePage(await (await fetchSim(url)).json(), entityOf("people"), url);
    expect(page.records.map((r) => String((r as Rec).id)).sort()).toEqual([...ids].sort());
    expect(page.nextUrl).toBeNull();
  });
});

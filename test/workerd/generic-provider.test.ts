import { sql } from "drizzle-orm";
import { pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { mirrorSyncState } from "../../durable-objects/sync-state";
import { defineConnector, fieldOf } from "../../src/connectors/define";
import { connectorFor, registerConnector } from "../../src/connectors/registry";
import type { EntityDef } from "../../src/connectors/types";
import { parseJsonExact } from "../../src/core/exact-json";
import { coreColumns } from "../../src/db/schema/columns";
import { transformPages } from "../../src/pipeline/consumer";
import { applyTombstones } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { mirrorDdl } from "../../src/sync/mirrors";
import { recordCounts } from "../../src/sync/reconcile";
import { rows, uniqueId, withTestDb } from "../support/db";

// A provider that exists only in this file: its mirrors come from the same generic code as every registered
// provider's, and its ids are the two kinds the engine must carry exactly (64-bit integers and UUIDs).
const PROVIDER = "acmetest";
const BIG_ID = "9007199254740993"; // 2^53 + 1: a double rounds it to ...992
const UUID = "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

const widgetsTable = pgTable(`${PROVIDER}_widgets`, { ...coreColumns("int64"), name: text("name") }, (t) => [
  primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
]);
const gadgetsTable = pgTable(
  `${PROVIDER}_gadget_parts`,
  { ...coreColumns("text"), name: text("name") },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

type Item = { id: string | number; name: string; updated: string };
const itemSchema = z.object({
  id: z.union([z.string(), z.number()]),
  name: z.string(),
  updated: z.string(),
}) as z.ZodType<Item>;

function entity(name: string, table: typeof widgetsTable | typeof gadgetsTable): EntityDef<Item> {
  return {
    name,
    listPath: `/${name}`,
    collectionKey: name,
    idField: "id",
    incremental: { param: "since", cursorField: "updated" },
    schema: itemSchema,
    coreTable: table,
    deleteTargets: (sourceId) => [{ table, sourceId }],
    sourceIdOf: (raw) => {
      const id = fieldOf(raw, "id");
      return typeof id === "string" || typeof id === "number" ? String(id) : null;
    },
    cursorOf: () => null,
    toCore: (r, s) => [
      {
        table,
        row: {
          account_id: s.accountId,
          connection_id: s.connectionId,
          source_id: String(r.id),
          source_created_at: null,
          source_updated_at: r.updated,
          raw: r,
          deleted_at: null,
          name: r.name,
        },
      },
    ],
  };
}

const acme = defineConnector({
  provider: PROVIDER,
  displayName: "Acme Test",
  defaultBaseUrl: "https://api.acme.test",
  auth: { kind: "bearer", tokenField: "accessToken" },
  paging: {
    style: "offset",
    pageSize: 100,
    limitParam: "limit",
    offsetParam: "offset",
    totalPath: "meta.total",
  },
  rateLimit: { limit: 10, windowMs: 1000, headers: { limit: "x-limit", remaining: "x-remaining" } },
  webhooks: null,
  byIds: null,
  entities: {
    widgets: entity("widgets", widgetsTable),
    gadgetParts: entity("gadgetParts", gadgetsTable),
  } as Record<string, EntityDef>,
});

let unregister = () => {};

beforeAll(async () => {
  unregister = registerConnector(acme);
  await withTestDb(async (db) => {
    for (const name of [`${PROVIDER}_widgets`, `${PROVIDER}_gadget_parts`]) {
      const idType = name.endsWith("widgets") ? "bigint" : "text";
      await db.execute(
        sql.raw(`create table if not exists "${name}" (
          account_id text not null, connection_id text not null, source_id ${idType} not null,
          source_created_at timestamptz, source_updated_at timestamptz, raw jsonb not null, deleted_at timestamptz,
          fetch_seq bigint not null default 0, deleted_seq bigint, content_hash text,
          synced_at timestamptz not null default now(), name text,
          primary key (account_id, connection_id, source_id))`),
      );
    }
    // What the migration tooling runs for every registered provider.
    for (const statement of mirrorDdl(PROVIDER, Object.keys(connectorFor(PROVIDER).entities)))
      await db.execute(sql.raw(statement));
  });
});

afterAll(() => unregister());

/** Raw HTTP body → exact parse → the connector's page → staging → transform: what a sync step does. */
async function syncPage(
  accountId: string,
  connectionId: string,
  entityName: string,
  body: string,
  runId: string,
) {
  const def = acme.entities[entityName] as EntityDef;
  const url = acme.firstPageUrl({
    baseUrl: acme.defaultBaseUrl,
    entity: def,
    mode: "onboarding",
    since: null,
  });
  const page = acme.parsePage(parseJsonExact(body), def, url);
  const key = { accountId, connectionId, provider: PROVIDER, entity: entityName, runId, pageNo: 0 };
  await withTestDb((db) =>
    stagePage(
      db,
      key,
      page.records.map((payload) => ({ sourceId: def.sourceIdOf(payload), op: "upsert" as const, payload })),
    ),
  );
  const result = await withTestDb((db) =>
    transformPages(db, [{ v: 1, ...key, records: page.records.length }], connectorFor),
  );
  return { page, result };
}

describe("a provider added to the registry", () => {
  it("keeps a 64-bit id beyond 2^53 exact from the raw body to the core row and its delete", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    // The id is a bare JSON number, as the provider sends it.
    const body = `{"widgets":[{"id":${BIG_ID},"name":"big","updated":"2026-01-01T00:00:00Z"},{"id":9007199254740992,"name":"neighbour","updated":"2026-01-01T00:00:00Z"}],"meta":{"total":2}}`;
    const { page, result } = await syncPage(account, conn, "widgets", body, "run1");
    expect(page.records.map((r) => acme.entities.widgets?.sourceIdOf(r))).toEqual([
      BIG_ID,
      "9007199254740992",
    ]);
    expect(result.failed).toBe(0);
    const staged = await rows<{ source_id: string }>(
      sql`select source_id from stage_records where connection_id = ${conn} order by source_id`,
    );
    expect(staged.map((r) => r.source_id)).toEqual(["9007199254740992", BIG_ID]);
    const core = await rows<{ id: string; name: string; raw_id: string }>(
      sql`select source_id::text as id, name, raw->>'id' as raw_id from ${sql.raw(`"${PROVIDER}_widgets"`)}
          where connection_id = ${conn} order by source_id`,
    );
    expect(core).toEqual([
      { id: "9007199254740992", name: "neighbour", raw_id: "9007199254740992" },
      { id: BIG_ID, name: "big", raw_id: BIG_ID },
    ]);

    await withTestDb((db) =>
      applyTombstones(
        db,
        { accountId: account, connectionId: conn, provider: PROVIDER, entity: "widgets", runId: "del" },
        [{ sourceId: BIG_ID, deletedAt: "2026-02-01T00:00:00Z", kind: "event" }],
      ),
    );
    const after = await rows<{ id: string; deleted: boolean }>(
      sql`select source_id::text as id, deleted_at is not null as deleted from ${sql.raw(`"${PROVIDER}_widgets"`)}
          where connection_id = ${conn} order by source_id`,
    );
    // Only the record with exactly that id is deleted, not its neighbour a double would confuse it with.
    expect(after).toEqual([
      { id: "9007199254740992", deleted: false },
      { id: BIG_ID, deleted: true },
    ]);
  });

  it("keeps a UUID id as text from the raw body to the core row and its delete", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const body = `{"gadgetParts":[{"id":"${UUID}","name":"g","updated":"2026-01-01T00:00:00Z"}],"meta":{"total":1}}`;
    const { result } = await syncPage(account, conn, "gadgetParts", body, "run1");
    expect(result.failed).toBe(0);
    const table = sql.raw(`"${PROVIDER}_gadget_parts"`);
    expect(await rows(sql`select source_id, name from ${table} where connection_id = ${conn}`)).toEqual([
      { source_id: UUID, name: "g" },
    ]);
    await withTestDb((db) =>
      applyTombstones(
        db,
        { accountId: account, connectionId: conn, provider: PROVIDER, entity: "gadgetParts", runId: "del" },
        [{ sourceId: UUID, deletedAt: "2026-02-01T00:00:00Z", kind: "event" }],
      ),
    );
    expect(
      await rows(sql`select deleted_at is not null as deleted from ${table} where connection_id = ${conn}`),
    ).toEqual([{ deleted: true }]);
  });

  it("gets its sync-state and job mirrors, with the seeds' names and columns, from its entity list", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const started = Date.parse("2026-03-01T00:00:00Z");
    for (const entityName of ["widgets", "gadgetParts"]) {
      await withTestDb((db) =>
        mirrorSyncState(db, account, {
          connectionId: conn,
          provider: PROVIDER,
          entity: entityName,
          mode: "onboarding",
          status: "IN_PROGRESS",
          runId: null,
          nextUrl: null,
          cursor: null,
          lastSyncAt: null,
          lastStartedAt: started,
          lastFinishedAt: null,
          recordsSynced: 3,
          pageNo: 2,
          runRecords: 3,
          runTotal: 7,
          errorMessage: null,
        }),
      );
    }
    await withTestDb((db) =>
      recordCounts(db, PROVIDER, account, conn, [
        { entity: "widgets", provider: 7, ours: 3, mismatch: true, catchUp: false },
      ]),
    );
    expect(
      await rows(sql`select entity, status, records_synced::int as n from ${sql.raw(`"${PROVIDER}_sync_state"`)}
                     where connection_id = ${conn} order by entity`),
    ).toEqual([
      { entity: "gadgetParts", status: "IN_PROGRESS", n: 3 },
      { entity: "widgets", status: "IN_PROGRESS", n: 3 },
    ]);
    const [jobs] = await rows<Record<string, unknown>>(
      sql`select * from ${sql.raw(`"${PROVIDER}_sync_jobs"`)} where connection_id = ${conn}`,
    );
    expect(jobs).toMatchObject({
      account_id: account,
      widgets_status: "IN_PROGRESS",
      gadget_parts_status: "IN_PROGRESS",
      [`widgets_${PROVIDER}`]: "7",
      widgets_ad: "3",
    });
    expect(new Date(String(jobs?.widgets_last_started_at)).getTime()).toBe(started);
    expect(Object.keys(jobs ?? {})).toEqual(
      expect.arrayContaining([
        `gadget_parts_${PROVIDER}`,
        "gadget_parts_ad",
        "gadget_parts_last_finished_at",
      ]),
    );
    expect(
      await rows(sql`select widgets_status, widgets_pages, widgets_records::int as r, gadget_parts_total::int as t
                     from ${sql.raw(`"${PROVIDER}_onboarding_jobs"`)} where connection_id = ${conn}`),
    ).toEqual([{ widgets_status: "IN_PROGRESS", widgets_pages: 2, r: 3, t: 7 }]);
    // The tenant policy holds the mirrors like every account table.
    expect(await rows(sql`select * from etl_rls_gaps() where table_name like ${`${PROVIDER}_%`}`)).toEqual(
      [],
    );
  });
});

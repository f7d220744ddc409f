import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { transformPages } from "../../src/pipeline/consumer";
import type { TransformMessage } from "../../src/pipeline/messages";
import { completeRun } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";

// Unchanged rows write nothing: no new tuple (xmin and synced_at stay) in the entity's own table and in the
// unified table it feeds, whatever the entity's versioning. Other test files share this Postgres, so every
// assertion reads this file's own rows (xmin), never database-wide counters.

type Ctx = { account: string; conn: string };
const fresh = (): Ctx => ({ account: uniqueId("acc"), conn: uniqueId("con") });

const T = "2024-02-01T00:00:00Z";
const T2 = "2024-02-02T00:00:00Z";

const person = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated: T,
  firstName: `P${id}`,
  lastName: "Doe",
  emails: [{ value: `p${id}@example.com`, isPrimary: 1 }],
  tags: ["buyer"],
  ...extra,
});

const call = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  created: T,
  updated: T,
  personId: 1,
  note: `call ${id}`,
  ...extra,
});

async function stage(
  ctx: Ctx,
  entity: string,
  runId: string,
  records: ({ id: number } & Record<string, unknown>)[],
  op: "upsert" | "delete" = "upsert",
): Promise<TransformMessage> {
  await withTestDb((db) =>
    stagePage(
      db,
      { accountId: ctx.account, connectionId: ctx.conn, provider: "fub", entity, runId, pageNo: 0 },
      records.map((payload) => ({ sourceId: String(payload.id), op, payload })),
    ),
  );
  return {
    v: 1,
    accountId: ctx.account,
    connectionId: ctx.conn,
    provider: "fub",
    entity,
    runId,
    pageNo: 0,
    records: records.length,
  };
}

const transform = (msgs: TransformMessage[]) => withTestDb((db) => transformPages(db, msgs, connectorFor));

const fetchAndTransform = async (
  ctx: Ctx,
  entity: string,
  runId: string,
  records: ({ id: number } & Record<string, unknown>)[],
) => transform([await stage(ctx, entity, runId, records)]);

type Tuple = { id: string; xmin: string; synced_at: string; hash: string | null; live: boolean };

/** Each row's tuple identity: a write of any kind (even of equal values) gives the row a new xmin. */
const tuples = (table: string, ctx: Ctx) =>
  rows<Tuple>(sql`select source_id::text as id, xmin::text as xmin, synced_at::text as synced_at,
                         md5((to_jsonb(t) - 'synced_at' - 'fetch_seq' - 'deleted_at' - 'deleted_seq'
                              - 'content_hash')::text) as hash, deleted_at is null as live
                  from ${sql.raw(table)} t where account_id = ${ctx.account} order by source_id`);

const byId = (list: Tuple[]) => new Map(list.map((t) => [t.id, t]));

describe("unchanged rows write nothing", () => {
  it("an unchanged re-fetch writes no tuple in the own table or the unified one; a changed one does", async () => {
    const ctx = fresh();
    const all = [1, 2, 3, 4].map((id) => person(id));
    expect(await fetchAndTransform(ctx, "people", "r1", all)).toMatchObject({ staged: 4, written: 8 });
    const people1 = await tuples("fub_people", ctx);
    const contacts1 = await tuples("contacts", ctx);
    expect(people1.map((t) => t.id)).toEqual(["1", "2", "3", "4"]);
    expect(contacts1.map((t) => t.id)).toEqual(["1", "2", "3", "4"]);

    // The overlap window of the next delta, a duplicate inside one page, keys in another order: all later
    // fetches of the same content.
    const reordered = all.map((p) => Object.fromEntries(Object.entries(p).reverse()) as typeof p);
    expect(await fetchAndTransform(ctx, "people", "r2", [...reordered, person(2)])).toMatchObject({
      staged: 5,
      written: 0,
    });
    expect(await tuples("fub_people", ctx)).toEqual(people1);
    expect(await tuples("contacts", ctx)).toEqual(contacts1);
    // What the unchanged fetches saw keeps its place in the order: each row's fetch mark is the newest fetch.
    const marks = await rows<{ t: string; id: string; newer: boolean }>(sql`
      select m.table_name as t, m.source_id as id, m.fetch_seq > p.fetch_seq as newer
      from core_fetch_marks m join fub_people p on p.account_id = m.account_id and p.source_id::text = m.source_id
      where m.account_id = ${ctx.account} order by 1, 2`);
    expect(marks).toEqual(
      ["contacts", "fub_people"].flatMap((t) => ["1", "2", "3", "4"].map((id) => ({ t, id, newer: true }))),
    );

    // 1 changed at the same source time (the later fetch wins the tie), 2 newer with a change only the raw
    // record shows, 3 changed in a field the contact maps: each writes its own row; the contact only where
    // its mapped columns changed. 4 is unchanged.
    const changed = [
      person(1, { firstName: "Renamed" }),
      person(2, { updated: T2, background: "met at an open house" }),
      person(3, { emails: [{ value: "new3@example.com", isPrimary: 1 }] }),
      person(4),
    ];
    const result = await fetchAndTransform(ctx, "people", "r3", changed);
    const people3 = byId(await tuples("fub_people", ctx));
    const contacts3 = byId(await tuples("contacts", ctx));
    const before = { people: byId(people1), contacts: byId(contacts1) };
    for (const id of ["1", "2", "3"]) {
      expect(people3.get(id)?.xmin, `fub_people ${id}`).not.toBe(before.people.get(id)?.xmin);
      expect(people3.get(id)?.hash, `fub_people ${id}`).not.toBe(before.people.get(id)?.hash);
    }
    expect(people3.get("4")).toEqual(before.people.get("4"));
    // The contact's columns include the source time, so 2's newer `updated` is a change there too.
    for (const id of ["1", "2", "3"]) {
      expect(contacts3.get(id)?.xmin, `contacts ${id}`).not.toBe(before.contacts.get(id)?.xmin);
    }
    expect(contacts3.get("4")).toEqual(before.contacts.get("4"));
    expect(result).toMatchObject({ staged: 4, written: 6 });
    expect(
      await rows(sql`select source_id, first_name, primary_email from contacts
                     where account_id = ${ctx.account} and source_id in ('1', '3') order by source_id`),
    ).toEqual([
      { source_id: "1", first_name: "Renamed", primary_email: "p1@example.com" },
      { source_id: "3", first_name: "P3", primary_email: "new3@example.com" },
    ]);

    // An older version delivered late still loses, and writes nothing.
    expect(await fetchAndTransform(ctx, "people", "late", [person(2)])).toMatchObject({ written: 0 });
    expect(byId(await tuples("fub_people", ctx)).get("2")).toEqual(people3.get("2"));
  });

  it("unchanged calls write nothing in fub_calls and activities", async () => {
    const ctx = fresh();
    await fetchAndTransform(ctx, "calls", "c1", [call(10), call(11)]);
    const calls1 = await tuples("fub_calls", ctx);
    const activities1 = await tuples("activities", ctx);
    expect(activities1.map((t) => t.id)).toEqual(["call:10", "call:11"]);
    expect(await fetchAndTransform(ctx, "calls", "c2", [call(10), call(11)])).toMatchObject({ written: 0 });
    expect(await tuples("fub_calls", ctx)).toEqual(calls1);
    expect(await tuples("activities", ctx)).toEqual(activities1);

    await fetchAndTransform(ctx, "calls", "c3", [call(10), call(11, { updated: T2, note: "changed" })]);
    const calls3 = byId(await tuples("fub_calls", ctx));
    const activities3 = byId(await tuples("activities", ctx));
    expect(calls3.get("10")).toEqual(byId(calls1).get("10"));
    expect(activities3.get("call:10")).toEqual(byId(activities1).get("call:10"));
    expect(calls3.get("11")?.xmin).not.toBe(byId(calls1).get("11")?.xmin);
    expect(activities3.get("call:11")?.xmin).not.toBe(byId(activities1).get("call:11")?.xmin);
  });

  it("a deleted row re-fetched unchanged revives; one fetched before the delete stays deleted, unwritten", async () => {
    const ctx = fresh();
    await fetchAndTransform(ctx, "people", "seed", [person(1), person(2)]);
    // 1's version fetched before its delete is observed, delivered after the delete applied.
    const early = await stage(ctx, "people", "early", [person(1)]);
    await stage(ctx, "people", "webhook:d", [{ id: 1 }, { id: 2 }], "delete");
    expect(
      await withTestDb((db) =>
        completeRun(
          db,
          {
            accountId: ctx.account,
            connectionId: ctx.conn,
            provider: "fub",
            entity: "people",
            runId: "webhook:d",
            mode: "webhook",
          },
          { maxDeleteShare: 1 },
        ),
      ),
    ).toEqual({ status: "applied", deletes: 2 });
    const deleted = byId(await tuples("fub_people", ctx));
    const deletedContacts = byId(await tuples("contacts", ctx));
    expect([...deleted.values()].map((t) => t.live)).toEqual([false, false]);

    // Same content, fetched before the delete: the delete state after the merge is the stored one.
    expect(await transform([early])).toMatchObject({ written: 0 });
    expect(byId(await tuples("fub_people", ctx))).toEqual(deleted);
    expect(byId(await tuples("contacts", ctx))).toEqual(deletedContacts);

    // Same content, fetched after the delete: the delete state changes, so both rows are written, live.
    expect(await fetchAndTransform(ctx, "people", "again", [person(2)])).toMatchObject({ written: 2 });
    const revived = byId(await tuples("fub_people", ctx));
    const revivedContacts = byId(await tuples("contacts", ctx));
    expect(revived.get("2")?.live).toBe(true);
    expect(revived.get("2")?.xmin).not.toBe(deleted.get("2")?.xmin);
    expect(revived.get("2")?.hash).toBe(deleted.get("2")?.hash);
    expect(revivedContacts.get("2")?.live).toBe(true);
    expect(revived.get("1")).toEqual(deleted.get("1"));
    expect(
      await rows(sql`select deleted_seq from fub_people where account_id = ${ctx.account} and source_id = 2`),
    ).toEqual([{ deleted_seq: null }]);

    // And fetched once more, unchanged and live: nothing.
    expect(await fetchAndTransform(ctx, "people", "more", [person(2)])).toMatchObject({ written: 0 });
    expect(byId(await tuples("fub_people", ctx))).toEqual(revived);
    expect(byId(await tuples("contacts", ctx))).toEqual(revivedContacts);
  });

  it("a complete scan of unchanged data writes nothing and deletes only what it did not see", async () => {
    const ctx = fresh();
    const scan = (runId: string, ids: number[]) =>
      fetchAndTransform(
        ctx,
        "people",
        runId,
        ids.map((id) => person(id)),
      );
    const complete = (runId: string) =>
      withTestDb((db) =>
        completeRun(db, {
          accountId: ctx.account,
          connectionId: ctx.conn,
          provider: "fub",
          entity: "people",
          runId,
          mode: "onboarding",
        }),
      );
    await scan("s1", [1, 2, 3, 4, 5]);
    expect(await complete("s1")).toEqual({ status: "applied", deletes: 0 });
    const before = byId(await tuples("fub_people", ctx));

    // The rescan sees all five unchanged: no deletes, no core writes.
    expect(await scan("s2", [1, 2, 3, 4, 5])).toMatchObject({ written: 0 });
    expect(await complete("s2")).toEqual({ status: "applied", deletes: 0 });
    expect(byId(await tuples("fub_people", ctx))).toEqual(before);

    // The next scan misses 4 and 5; a webhook fetched 4, unchanged, after the scan began: only 5 goes,
    // though 4's core row was not written since (its staged fetch counts).
    await scan("s3", [1, 2, 3]);
    expect(await fetchAndTransform(ctx, "people", "webhook:e4", [person(4)])).toMatchObject({ written: 0 });
    expect(await complete("s3")).toEqual({ status: "applied", deletes: 1 });
    expect(
      [...byId(await tuples("fub_people", ctx)).values()].filter((t) => !t.live).map((t) => t.id),
    ).toEqual(["5"]);
  });
  it("what an unchanged fetch saw keeps its place: a late older version or an earlier delete does not beat it", async () => {
    const ctx = fresh();
    await fetchAndTransform(ctx, "people", "seed", [person(1), person(2)]);
    const seeded = byId(await tuples("fub_people", ctx));
    // Fetched in this order, all with the same source time: 1 changed to B (and its delete observed for 2),
    // then both unchanged again. The later unchanged fetches are transformed first, and write nothing.
    const changedB = await stage(ctx, "people", "late", [person(1, { lastName: "B" })]);
    await stage(ctx, "people", "webhook:d2", [{ id: 2 }], "delete");
    expect(await fetchAndTransform(ctx, "people", "again", [person(1), person(2)])).toMatchObject({
      written: 0,
    });

    // The tie goes to the later fetch, which saw the stored content: the late B writes nothing.
    expect(await transform([changedB])).toMatchObject({ written: 0 });
    // The delete was observed before 2's unchanged fetch, which found the record still there: its tombstone is
    // kept, but it reaches no row.
    expect(
      await withTestDb((db) =>
        completeRun(
          db,
          {
            accountId: ctx.account,
            connectionId: ctx.conn,
            provider: "fub",
            entity: "people",
            runId: "webhook:d2",
            mode: "webhook",
          },
          { maxDeleteShare: 1 },
        ),
      ),
    ).toMatchObject({ status: "applied" });
    expect(byId(await tuples("fub_people", ctx))).toEqual(seeded);

    // A change fetched after the marks still writes.
    expect(await fetchAndTransform(ctx, "people", "newer", [person(1, { lastName: "C" })])).toMatchObject({
      written: 2,
    });
  });
});

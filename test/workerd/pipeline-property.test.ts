import { sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import type { Db } from "../../src/db/client";
import { transformBatch } from "../../src/pipeline/batch";
import type { TransformMessage } from "../../src/pipeline/messages";
import { completeRun } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { uniqueId, withTestDb } from "../support/db";

const BASE = Date.parse("2024-01-01T00:00:00Z");
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();

const version = (id: number, v: number) => ({
  id,
  created: at(0),
  updated: at(v * 10),
  firstName: `r${id}v${v}`,
  lastName: "Prop",
  emails: [{ value: `r${id}v${v}@example.com`, isPrimary: true }],
});

type Page = { pageNo: number; records: { id: number; v: number }[] };

const pageArb = fc.array(
  fc.record({ id: fc.integer({ min: 1, max: 6 }), v: fc.integer({ min: 1, max: 8 }) }),
  { minLength: 1, maxLength: 4 },
);

/**
 * A delivery schedule: every staged page at least once, at least 30% of deliveries duplicates (some of them
 * the page fetched and staged again), in a random order, in random batch sizes, with batches running two
 * at a time as concurrent queue consumers would.
 */
const scheduleArb = fc.array(pageArb, { minLength: 2, maxLength: 10 }).chain((pages) => {
  const n = pages.length;
  const minDup = Math.ceil((0.3 / 0.7) * n);
  return fc.record({
    pages: fc.constant(pages.map((records, pageNo) => ({ pageNo, records }))),
    dups: fc.array(fc.record({ page: fc.nat({ max: n - 1 }), restage: fc.boolean() }), {
      minLength: minDup,
      maxLength: minDup + 6,
    }),
    order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
      minLength: n + minDup + 6,
      maxLength: n + minDup + 6,
    }),
    batchSizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 30, maxLength: 30 }),
  });
});

async function stage(
  db: Db,
  account: string,
  conn: string,
  runId: string,
  page: Page,
): Promise<TransformMessage> {
  await stagePage(
    db,
    { accountId: account, connectionId: conn, provider: "fub", entity: "people", runId, pageNo: page.pageNo },
    page.records.map((r) => ({ sourceId: String(r.id), op: "upsert", payload: version(r.id, r.v) })),
  );
  return {
    v: 1,
    accountId: account,
    connectionId: conn,
    provider: "fub",
    entity: "people",
    runId,
    pageNo: page.pageNo,
    records: page.records.length,
  };
}

/** Delivers like a queue: failed messages come back later until they succeed. */
async function deliver(db: Db, batches: TransformMessage[][]): Promise<void> {
  let pending = batches;
  for (let round = 0; pending.length > 0 && round < 10; round++) {
    const retry: TransformMessage[] = [];
    for (let i = 0; i < pending.length; i += 2) {
      const pair = pending.slice(i, i + 2);
      const outcomes = await Promise.all(pair.map((b) => transformBatch(db, b, connectorFor)));
      pair.forEach((b, j) => {
        b.forEach((m, k) => {
          if (!outcomes[j]?.[k]?.ok) retry.push(m);
        });
      });
    }
    pending = retry.length > 0 ? [retry] : [];
  }
  expect(pending).toEqual([]);
}

async function core(db: Db, account: string) {
  const people = (
    await db.execute(sql`select source_id::int as id, first_name, deleted_at is not null as deleted
      from fub_people where account_id = ${account} order by source_id`)
  ).rows as { id: number; first_name: string; deleted: boolean }[];
  const contacts = (
    await db.execute(sql`select source_id::int as id, first_name, primary_email, deleted_at is not null as deleted
      from contacts where account_id = ${account} and provider = 'fub' order by source_id::int`)
  ).rows as { id: number; first_name: string; primary_email: string; deleted: boolean }[];
  return { people, contacts };
}

describe("transform pipeline properties (real Postgres)", () => {
  it("core equals the newest version of every record under duplicated, reordered and late delivery", async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async ({ pages, dups, order, batchSizes }) => {
        const account = uniqueId("acc");
        const conn = uniqueId("con");
        const runId = uniqueId("run");
        await withTestDb(async (db) => {
          const deliveries: { page: Page; restage: boolean }[] = [
            ...pages.map((page) => ({ page, restage: false })),
            ...dups.map((d) => ({ page: pages[d.page] as Page, restage: d.restage })),
          ];
          // Everything is staged before its first delivery, as the sync engine does before enqueueing.
          const messages = new Map<number, TransformMessage>();
          for (const page of pages) messages.set(page.pageNo, await stage(db, account, conn, runId, page));
          const shuffled = deliveries
            .map((d, i) => ({ d, key: order[i] ?? 0 }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.d);
          const batches: TransformMessage[][] = [];
          let cursor = 0;
          for (const size of batchSizes) {
            if (cursor >= shuffled.length) break;
            const slice = shuffled.slice(cursor, cursor + size);
            cursor += size;
            // A page fetched again (crash before the cursor moved) is staged again before its message.
            for (const d of slice) if (d.restage) await stage(db, account, conn, runId, d.page);
            batches.push(slice.map((d) => messages.get(d.page.pageNo) as TransformMessage));
          }
          await deliver(db, batches);

          const newest = new Map<number, number>();
          for (const p of pages)
            for (const r of p.records) newest.set(r.id, Math.max(newest.get(r.id) ?? 0, r.v));
          const ids = [...newest.keys()].sort((a, b) => a - b);
          const state = await core(db, account);
          expect(state.people).toEqual(
            ids.map((id) => ({ id, first_name: `r${id}v${newest.get(id)}`, deleted: false })),
          );
          expect(state.contacts).toEqual(
            ids.map((id) => ({
              id,
              first_name: `r${id}v${newest.get(id)}`,
              primary_email: `r${id}v${newest.get(id)}@example.com`,
              deleted: false,
            })),
          );
          const pending = await db.execute(
            sql`select count(*)::int as n from stage_records where account_id = ${account} and done_at is null`,
          );
          expect(pending.rows[0]).toEqual({ n: 0 });
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it("deletes observed at T hide exactly the versions not newer than T, whatever the order", async () => {
    // Events: versions of records and webhook deletes (at a time between versions), in a random order.
    const eventArb = fc.oneof(
      fc.record({
        kind: fc.constant("upsert" as const),
        id: fc.integer({ min: 1, max: 4 }),
        v: fc.integer({ min: 1, max: 6 }),
      }),
      fc.record({
        kind: fc.constant("delete" as const),
        id: fc.integer({ min: 1, max: 4 }),
        v: fc.integer({ min: 0, max: 6 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 14 }),
        fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
        async (events, duplicate) => {
          const account = uniqueId("acc");
          const conn = uniqueId("con");
          await withTestDb(async (db) => {
            let n = 0;
            for (const [i, e] of events.entries()) {
              const times = duplicate[i] ? 2 : 1;
              for (let t = 0; t < times; t++) {
                const runId = `r${n++}`;
                if (e.kind === "upsert") {
                  const msg = await stage(db, account, conn, runId, {
                    pageNo: 0,
                    records: [{ id: e.id, v: e.v }],
                  });
                  await deliver(db, [[msg]]);
                } else {
                  // A delete observed between version v and v+1.
                  await stagePage(
                    db,
                    {
                      accountId: account,
                      connectionId: conn,
                      provider: "fub",
                      entity: "people",
                      runId: `webhook:${runId}`,
                      pageNo: 0,
                    },
                    [
                      {
                        sourceId: String(e.id),
                        op: "delete",
                        payload: { id: e.id, deletedAt: at(e.v * 10 + 5) },
                      },
                    ],
                  );
                  const done = await completeRun(db, {
                    accountId: account,
                    connectionId: conn,
                    provider: "fub",
                    entity: "people",
                    runId: `webhook:${runId}`,
                    mode: "webhook",
                  });
                  expect(done.status).toBe("applied");
                }
              }
            }
            const newest = new Map<number, number>();
            const deletedAt = new Map<number, number>();
            for (const e of events) {
              if (e.kind === "upsert") newest.set(e.id, Math.max(newest.get(e.id) ?? 0, e.v));
              else deletedAt.set(e.id, Math.max(deletedAt.get(e.id) ?? -1, e.v));
            }
            const ids = [...newest.keys()].sort((a, b) => a - b);
            const expected = ids.map((id) => ({
              id,
              first_name: `r${id}v${newest.get(id)}`,
              deleted: (deletedAt.get(id) ?? -1) >= (newest.get(id) ?? 0),
            }));
            const state = await core(db, account);
            expect(state.people).toEqual(expected);
            expect(
              state.contacts.map(({ id, first_name, deleted }) => ({ id, first_name, deleted })),
            ).toEqual(expected);
          });
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);
});

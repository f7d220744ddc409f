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

  it("core = last version by (updated, fetch order), deletes by fetch order, under ties, duplicates and late delivery", async () => {
    // A fetch timeline: pages of versions (few distinct `updated` values, so ties are the rule), webhook
    // deletes, and pages fetched again. Every staged message is delivered at a random later point, at least
    // 30% of deliveries again, and a version can arrive after a delete that was observed after it.
    const opArb = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("page" as const),
          records: fc.array(
            fc.record({ id: fc.integer({ min: 1, max: 4 }), u: fc.integer({ min: 0, max: 2 }) }),
            {
              minLength: 1,
              maxLength: 3,
            },
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant("delete" as const), id: fc.integer({ min: 1, max: 4 }) }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("refetch" as const), page: fc.nat() }) },
    );
    const timelineArb = fc.array(opArb, { minLength: 2, maxLength: 10 }).chain((ops) =>
      fc.record({
        ops: fc.constant(ops),
        when: fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 40, maxLength: 40 }),
        dups: fc.array(fc.nat({ max: 39 }), {
          minLength: Math.ceil((0.3 / 0.7) * ops.length),
          maxLength: 12,
        }),
      }),
    );
    type Delivery = { at: number; run: () => Promise<void> };
    await fc.assert(
      fc.asyncProperty(timelineArb, async ({ ops, when, dups }) => {
        const account = uniqueId("acc");
        const conn = uniqueId("con");
        await withTestDb(async (db) => {
          const pages: { pageNo: number; records: { id: number; u: number; name: string }[] }[] = [];
          const fetches: { id: number; u: number; pos: [number, number]; name: string }[] = [];
          const deletes: { id: number; pos: number }[] = [];
          const deliveries: Delivery[] = [];
          const schedule = (created: number, run: () => Promise<void>) => {
            const r = when[deliveries.length % when.length] ?? 0;
            deliveries.push({ at: created + r * (ops.length - created), run });
          };
          const transform = (msg: TransformMessage) => () => deliver(db, [[msg]]);
          let delivered = 0;
          const sorted = () => [...deliveries].sort((a, b) => a.at - b.at);
          for (const [i, op] of ops.entries()) {
            if (op.kind === "page") {
              const records = op.records.map((r, k) => ({ ...r, name: `i${r.id}u${r.u}o${i}k${k}` }));
              const page = { pageNo: pages.length, records };
              pages.push(page);
              records.forEach((r, k) => {
                fetches.push({ id: r.id, u: r.u, pos: [i, k], name: r.name });
              });
              schedule(i, transform(await stageTimed(db, account, conn, "scan", page)));
            } else if (op.kind === "refetch" && pages.length > 0) {
              const page = pages[op.page % pages.length] as (typeof pages)[number];
              page.records.forEach((r, k) => {
                fetches.push({ id: r.id, u: r.u, pos: [i, k], name: r.name });
              });
              schedule(i, transform(await stageTimed(db, account, conn, "scan", page)));
            } else if (op.kind === "delete") {
              const runId = `webhook:d${i}`;
              deletes.push({ id: op.id, pos: i });
              await stagePage(
                db,
                {
                  accountId: account,
                  connectionId: conn,
                  provider: "fub",
                  entity: "people",
                  runId,
                  pageNo: 0,
                },
                // No time at all: a delete is ordered by when it was observed, never by its time.
                [{ sourceId: String(op.id), op: "delete", payload: { id: op.id } }],
              );
              schedule(i, async () => {
                const done = await completeRun(db, {
                  accountId: account,
                  connectionId: conn,
                  provider: "fub",
                  entity: "people",
                  runId,
                  mode: "webhook",
                });
                expect(done.status).toBe("applied");
              });
            }
            // Deliveries due by now, in their random order; a duplicate is the same message again.
            const due = sorted().filter((d) => d.at < i + 1);
            for (const d of due.slice(delivered)) await d.run();
            delivered = due.length;
          }
          const all = sorted();
          for (const d of all.slice(delivered)) await d.run();
          for (const k of dups) await all[k % all.length]?.run();

          // The model: the winning version is the greatest (updated, fetch position); a delete observed at
          // a later fetch position than the winner's fetch hides it.
          const later = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];
          const ids = [...new Set(fetches.map((f) => f.id))].sort((a, b) => a - b);
          const expected = ids.map((id) => {
            const winner = fetches
              .filter((f) => f.id === id)
              .reduce((best, f) => ((f.u - best.u || later(f.pos, best.pos)) > 0 ? f : best));
            const deletedAfter = deletes.some((d) => d.id === id && d.pos > winner.pos[0]);
            return { id, first_name: winner.name, deleted: deletedAfter };
          });
          const state = await core(db, account);
          expect(state.people).toEqual(expected);
          expect(state.contacts.map(({ id, first_name, deleted }) => ({ id, first_name, deleted }))).toEqual(
            expected,
          );
        });
      }),
      { numRuns: 40 },
    );
  }, 240_000);
});

/** Stages a page of versions with the given `updated` steps (u); staging order is fetch order. */
async function stageTimed(
  db: Db,
  account: string,
  conn: string,
  runId: string,
  page: { pageNo: number; records: { id: number; u: number; name: string }[] },
): Promise<TransformMessage> {
  await stagePage(
    db,
    { accountId: account, connectionId: conn, provider: "fub", entity: "people", runId, pageNo: page.pageNo },
    page.records.map((r) => ({
      sourceId: String(r.id),
      op: "upsert",
      payload: { ...version(r.id, 1), updated: at(r.u * 10), firstName: r.name },
    })),
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

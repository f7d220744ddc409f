import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { transformPages } from "../../src/pipeline/consumer";
import type { TransformMessage } from "../../src/pipeline/messages";
import { pruneStaging } from "../../src/pipeline/retention";
import { type CompletedRun, completeRun } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";

type Ctx = { account: string; conn: string };

const fresh = (): Ctx => ({ account: uniqueId("acc"), conn: uniqueId("con") });

const T = "2024-02-01T00:00:00Z";

const person = (id: number, name = `P${id}`, updated = T) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName: name,
  lastName: "Doe",
});

async function stage(
  ctx: Ctx,
  entity: string,
  runId: string,
  pageNo: number,
  records: ({ id: number } & Record<string, unknown>)[],
  op: "upsert" | "delete" = "upsert",
): Promise<TransformMessage> {
  await withTestDb((db) =>
    stagePage(
      db,
      { accountId: ctx.account, connectionId: ctx.conn, provider: "fub", entity, runId, pageNo },
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
    pageNo,
    records: records.length,
  };
}

const transform = (msgs: TransformMessage[]) => withTestDb((db) => transformPages(db, msgs, connectorFor));

const complete = (ctx: Ctx, entity: string, runId: string, mode: CompletedRun["mode"], fullScan?: boolean) =>
  withTestDb((db) =>
    completeRun(db, {
      accountId: ctx.account,
      connectionId: ctx.conn,
      provider: "fub",
      entity,
      runId,
      mode,
      ...(fullScan === undefined ? {} : { fullScan }),
    }),
  );

const deletedIds = async (table: string, ctx: Ctx) =>
  (
    await rows<{ id: number }>(
      sql`select source_id::int as id from ${sql.raw(table)}
          where account_id = ${ctx.account} and deleted_at is not null order by source_id`,
    )
  ).map((r) => r.id);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("reversible full-scan deletes", () => {
  it("a record missing from one complete scan is deleted, and the next complete scan heals it", async () => {
    const ctx = fresh();
    await transform([
      await stage(
        ctx,
        "people",
        "scan1",
        0,
        range(1, 10).map((id) => person(id)),
      ),
    ]);
    expect(await complete(ctx, "people", "scan1", "onboarding")).toEqual({ status: "applied", deletes: 0 });

    // scan2 misses 3 (a false absence) and 5; 5 is fetched by a webhook after scan2 began: not deleted.
    await transform([
      await stage(
        ctx,
        "people",
        "scan2",
        0,
        [1, 2, 4].map((id) => person(id)),
      ),
    ]);
    await transform([await stage(ctx, "people", "webhook:e5", 0, [person(5)])]);
    await transform([
      await stage(
        ctx,
        "people",
        "scan2",
        1,
        range(6, 10).map((id) => person(id)),
      ),
    ]);
    expect(await complete(ctx, "people", "scan2", "onboarding")).toEqual({ status: "applied", deletes: 1 });
    expect(await deletedIds("fub_people", ctx)).toEqual([3]);
    expect(await deletedIds("contacts", ctx)).toEqual([3]);
    expect(
      await rows(sql`select source_id, kind, deleted_seq = (select min(fetch_seq) from stage_records
                       where connection_id = ${ctx.conn} and run_id = 'scan2') as at_run_start
                     from core_tombstones where connection_id = ${ctx.conn}`),
    ).toEqual([{ source_id: "3", kind: "absence", at_run_start: true }]);

    // The next complete scan sees 3 again, unchanged (same `updated`): the later fetch makes it live.
    await transform([
      await stage(
        ctx,
        "people",
        "scan3",
        0,
        range(1, 10).map((id) => person(id)),
      ),
    ]);
    expect(await complete(ctx, "people", "scan3", "onboarding")).toEqual({ status: "applied", deletes: 0 });
    expect(await deletedIds("fub_people", ctx)).toEqual([]);
    expect(await deletedIds("contacts", ctx)).toEqual([]);
  });

  it("a re-staged page does not make its run forget records it saw", async () => {
    const ctx = fresh();
    await transform([
      await stage(
        ctx,
        "people",
        "seed",
        0,
        range(1, 10).map((id) => person(id)),
      ),
    ]);
    await transform([
      await stage(
        ctx,
        "people",
        "scan",
        0,
        range(1, 5).map((id) => person(id)),
      ),
    ]);
    await transform([
      await stage(
        ctx,
        "people",
        "scan",
        1,
        range(6, 10).map((id) => person(id)),
      ),
    ]);
    // Page 1 fetched again after a crash; 10 has moved on (it would be on a later page): the staged rows that
    // named it are replaced, but its core row was written by this run's earlier fetch.
    await transform([
      await stage(
        ctx,
        "people",
        "scan",
        1,
        range(6, 9).map((id) => person(id)),
      ),
    ]);
    expect(await complete(ctx, "people", "scan", "onboarding")).toEqual({ status: "applied", deletes: 0 });
    expect(await deletedIds("fub_people", ctx)).toEqual([]);
  });
});

describe("content-hash versions (FUB stages)", () => {
  const stageRecord = (id: number, name: string) => ({ id, name, orderWeight: id * 10 });
  const table = () =>
    rows<{ id: number; name: string; synced_at: string; updated: string | null; hash: string | null }>(
      sql`select source_id::int as id, name, synced_at::text, source_updated_at::text as updated,
                 content_hash as hash
          from fub_stages where connection_id = ${ctxOf.conn} order by source_id`,
    );
  const ctxOf = fresh();

  it("unchanged writes nothing, changed replaces, absent is deleted, back is live", async () => {
    const ctx = ctxOf;
    expect(connectorFor("fub").entities.stages?.versioning).toBe("contentHash");
    expect(connectorFor("fub").entities.stages?.cursorOf(stageRecord(1, "Lead"))).toBeNull();
    const all = range(1, 6).map((id) => stageRecord(id, `S${id}`));
    expect(await transform([await stage(ctx, "stages", "r1", 0, all)])).toMatchObject({
      staged: 6,
      written: 6,
    });
    expect(await complete(ctx, "stages", "r1", "delta", true)).toEqual({ status: "applied", deletes: 0 });
    const first = await table();
    expect(first.map((r) => r.updated)).toEqual(Array(6).fill(null));
    expect(first.every((r) => /^[0-9a-f]{32}$/.test(r.hash ?? ""))).toBe(true);

    // The same records again, keys in another order: nothing written, synced_at unchanged.
    const reordered = all.map((r) => ({ orderWeight: r.orderWeight, name: r.name, id: r.id }));
    expect(await transform([await stage(ctx, "stages", "r2", 0, reordered)])).toMatchObject({
      staged: 6,
      written: 0,
    });
    expect(await complete(ctx, "stages", "r2", "delta", true)).toEqual({ status: "applied", deletes: 0 });
    expect(await table()).toEqual(first);

    // 1 renamed, 3 gone: 1 replaced, 3 deleted by the complete scan.
    const changed = all.filter((r) => r.id !== 3).map((r) => (r.id === 1 ? { ...r, name: "Renamed" } : r));
    expect(await transform([await stage(ctx, "stages", "r3", 0, changed)])).toMatchObject({ written: 1 });
    expect(await complete(ctx, "stages", "r3", "delta", true)).toEqual({ status: "applied", deletes: 1 });
    const third = await table();
    expect(third.map((r) => r.name)).toEqual(["Renamed", "S2", "S3", "S4", "S5", "S6"]);
    expect(third[0]?.hash).not.toBe(first[0]?.hash);
    expect(await deletedIds("fub_stages", ctx)).toEqual([3]);

    // 3 is back, unchanged: live again (the only row written).
    expect(
      await transform([await stage(ctx, "stages", "r4", 0, changed.concat(stageRecord(3, "S3")))]),
    ).toMatchObject({ written: 1 });
    expect(await complete(ctx, "stages", "r4", "delta", true)).toEqual({ status: "applied", deletes: 0 });
    expect(await deletedIds("fub_stages", ctx)).toEqual([]);
    const fourth = await table();
    expect(fourth.filter((r) => r.id !== 3)).toEqual(third.filter((r) => r.id !== 3));
  });

  it("groups validate without any timestamp", async () => {
    const ctx = fresh();
    const result = await transform([
      await stage(ctx, "groups", "g1", 0, [
        { id: 1, name: "Buyers", type: "Agent", users: [{ id: 7, name: "A" }] },
      ]),
    ]);
    expect(result).toMatchObject({ staged: 1, written: 1, failed: 0 });
    expect(
      await rows(
        sql`select name, user_ids, source_updated_at from fub_groups where connection_id = ${ctx.conn}`,
      ),
    ).toEqual([{ name: "Buyers", user_ids: [7], source_updated_at: null }]);
  });
});

describe("cascades", () => {
  it("a person's delete soft-deletes their calls, texts and events, own and unified rows", async () => {
    const ctx = fresh();
    const child = (id: number, personId: number) => ({ id, created: T, updated: T, personId });
    await transform([
      await stage(
        ctx,
        "people",
        "p",
        0,
        range(1, 20).map((id) => person(id)),
      ),
    ]);
    await transform([await stage(ctx, "calls", "c", 0, [child(10, 1), child(11, 1), child(12, 2)])]);
    await transform([await stage(ctx, "textMessages", "t", 0, [child(20, 1)])]);
    await transform([await stage(ctx, "events", "e", 0, [child(30, 1), child(31, 2)])]);
    // A call fetched before the delete, delivered after it.
    const lateCall = await stage(ctx, "calls", "c2", 0, [child(13, 1)]);

    await stage(ctx, "people", "webhook:d1", 0, [{ id: 1 }], "delete");
    expect(await complete(ctx, "people", "webhook:d1", "webhook")).toEqual({ status: "applied", deletes: 1 });
    await transform([lateCall]);

    expect(await deletedIds("fub_people", ctx)).toEqual([1]);
    // 13 had not reached core when the person went; fetched before the delete, it lands deleted too.
    expect(await deletedIds("fub_calls", ctx)).toEqual([10, 11, 13]);
    expect(await deletedIds("fub_text_messages", ctx)).toEqual([20]);
    expect(await deletedIds("fub_events", ctx)).toEqual([30]);
    expect(
      await rows(sql`select source_id from activities where account_id = ${ctx.account}
                     and deleted_at is not null order by source_id`),
    ).toEqual([
      { source_id: "call:10" },
      { source_id: "call:11" },
      { source_id: "call:13" },
      { source_id: "event:30" },
      { source_id: "text:20" },
    ]);
    expect(
      await rows(sql`select t.entity, t.source_id, t.kind, t.deleted_seq = p.deleted_seq as parent_seq
                     from core_tombstones t
                     join core_tombstones p on p.connection_id = t.connection_id and p.entity = 'people'
                      and p.source_id = '1'
                     where t.connection_id = ${ctx.conn} order by t.entity, t.source_id`),
    ).toEqual([
      { entity: "calls", source_id: "10", kind: "cascade", parent_seq: true },
      { entity: "calls", source_id: "11", kind: "cascade", parent_seq: true },
      { entity: "events", source_id: "30", kind: "cascade", parent_seq: true },
      { entity: "people", source_id: "1", kind: "event", parent_seq: true },
      { entity: "textMessages", source_id: "20", kind: "cascade", parent_seq: true },
    ]);
    // A call the provider serves after the person's delete exists: live again.
    await transform([await stage(ctx, "calls", "c3", 0, [child(10, 1)])]);
    expect(await deletedIds("fub_calls", ctx)).toEqual([11, 13]);
  });
});

describe("staging retention keeps open runs", () => {
  it("prunes a finished run's old rows, never an open run's", async () => {
    const ctx = fresh();
    const age = (runId: string, pageNo?: number) =>
      withTestDb((db) =>
        db.execute(sql`update stage_records
          set staged_at = now() - interval '101 hours', done_at = now() - interval '100 hours'
          where connection_id = ${ctx.conn} and run_id = ${runId} ${pageNo === undefined ? sql`` : sql`and page_no = ${pageNo}`}`),
      );
    for (const runId of ["closed", "fetching", "idle", "waiting"]) {
      await transform([await stage(ctx, "people", runId, 0, [person(1)])]);
    }
    await age("closed");
    // Still fetching: its first page is old, its latest one recent.
    await age("fetching", 0);
    await transform([await stage(ctx, "people", "fetching", 1, [person(2)])]);
    // Idle past the retention but marked in progress.
    await age("idle");
    await withTestDb((db) =>
      db.execute(sql`insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, status)
                     values (${ctx.account}, ${ctx.conn}, 'fub', 'people', 'idle', 'onboarding', 'IN_PROGRESS')
                     on conflict (connection_id, entity, run_id) do update set status = 'IN_PROGRESS'`),
    );
    // Old pages done, but a later page not transformed yet.
    await age("waiting");
    await stage(ctx, "people", "waiting", 1, [person(3)]);

    // Other test files share this Postgres: only this connection's rows are asserted.
    const result = await withTestDb((db) => pruneStaging(db, 72, { chunk: 2, maxChunks: 500 }));
    expect(result.more).toBe(false);
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(
      await rows(sql`select run_id, page_no from stage_records where connection_id = ${ctx.conn}
                     order by run_id, page_no`),
    ).toEqual([
      { run_id: "fetching", page_no: 0 },
      { run_id: "fetching", page_no: 1 },
      { run_id: "idle", page_no: 0 },
      { run_id: "waiting", page_no: 0 },
      { run_id: "waiting", page_no: 1 },
    ]);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { PARENT_WAIT_MS, runSyncStep, type StepOutcome } from "../../durable-objects/sync-runner";
import { getSyncState, putSyncState, type SyncState } from "../../durable-objects/sync-state";
import { fub } from "../../src/connectors/fub";
import type { TransformMessage } from "../../src/pipeline/messages";
import { rows, withTestDb } from "../support/db";
import { freshRun, fubAccount, stepDeps, stubFor } from "./account-sync-fixtures";

// The runner's fan-out over parents against a provider stub that behaves like FUB for text messages: an
// unfiltered list answers 400, `personId` lists one person's texts, two per page. Parents are written to
// fub_people directly, so the fan-out reads exactly the parent rows each test sets up.

const TEXTS = "/v1/textMessages";
const PAGE = 2;

/** Texts of person p: p % 4 of them (0 to 3, so some people need two pages and some have none). */
const textIdsOf = (p: number) => Array.from({ length: p % 4 }, (_, j) => p * 100 + j);

type Stub = {
  fetch: typeof fetch;
  /** personId of every texts request, in order ("" for an unfiltered one). */
  texts: string[];
  /** Texts requests without a filter (each answered 400). */
  unfiltered: number;
  /** Fail (HTTP 500) the nth texts request from now on (1-based), once. */
  failAt(n: number): void;
};

function providerStub(): Stub {
  let failIn = 0;
  const stub: Stub = {
    texts: [],
    unfiltered: 0,
    failAt(n) {
      failIn = n;
    },
    fetch: async (input, init) => {
      const req = new Request(input, init);
      const url = new URL(req.url);
      if (url.pathname !== TEXTS) return fetch(req);
      const personId = url.searchParams.get("personId");
      const ids = url.searchParams.get("id");
      stub.texts.push(personId ?? "");
      if (failIn > 0 && --failIn === 0) return Response.json({ errorMessage: "boom" }, { status: 500 });
      if (!personId && !ids && !url.searchParams.get("toNumber") && !url.searchParams.get("fromNumber")) {
        stub.unfiltered++;
        return Response.json(
          { errorMessage: "personId, toNumber or fromNumber is required" },
          { status: 400 },
        );
      }
      const all = personId ? textIdsOf(Number(personId)) : (ids ?? "").split(",").map(Number);
      const offset = Number(url.searchParams.get("next") ?? 0);
      const page = all.slice(offset, offset + PAGE);
      const next = offset + PAGE < all.length ? String(offset + PAGE) : null;
      return Response.json({
        _metadata: { collection: "textMessages", offset, limit: PAGE, total: all.length, next },
        textMessages: page.map((id) => ({
          id,
          created: "2025-01-01T00:00:00Z",
          updated: "2025-01-02T00:00:00Z",
          personId: Math.floor(id / 100),
          userId: 1,
          message: "hello",
          isIncoming: false,
          fromNumber: "(555) 000-0000",
          toNumber: "(555) 000-0001",
          status: "Delivered",
        })),
      });
    },
  };
  return stub;
}

/** Queue stand-in: the transforms are not under test here, only what is staged and announced. */
function captureQueue() {
  const sent: TransformMessage[] = [];
  const queue = {
    send: async (body: TransformMessage) => {
      sent.push(body);
    },
    sendBatch: async (batch: Iterable<{ body: TransformMessage }>) => {
      for (const m of batch) sent.push(m.body);
    },
  } as unknown as Queue<TransformMessage>;
  return { queue, sent };
}

/** Parent rows as the pipeline leaves them: `synced_at` an hour ago unless said otherwise. */
async function seedPeople(
  accountId: string,
  connectionId: string,
  ids: number[],
  opts: { trashed?: number[]; tombstoned?: number[] } = {},
) {
  await withTestDb(async (db) => {
    for (const id of ids) {
      const trashed = opts.trashed?.includes(id) ?? false;
      await db.execute(sql`
        insert into fub_people (account_id, connection_id, source_id, raw, trashed, deleted_at, synced_at)
        values (${accountId}, ${connectionId}, ${id}, ${JSON.stringify({ id })}::jsonb, ${trashed},
                ${trashed ? new Date().toISOString() : null}, now() - interval '1 hour')`);
    }
    for (const id of opts.tombstoned ?? []) {
      await db.execute(sql`
        update fub_people set deleted_at = now() where connection_id = ${connectionId} and source_id = ${id}`);
      await db.execute(sql`
        insert into core_tombstones (account_id, connection_id, provider, entity, source_id, deleted_at, run_id)
        values (${accountId}, ${connectionId}, 'fub', 'people', ${String(id)}, now(), 'webhooks')`);
    }
  });
}

function run(connectionId: string, mode: "onboarding" | "delta", before?: SyncState | null): SyncState {
  return freshRun(connectionId, {
    entity: "textMessages",
    mode,
    fanOut: null,
    parentWatermark: before?.parentWatermark ?? null,
  });
}

/** Steps run directly in the object with the stub and a capturing queue; the state is set first when given. */
async function steps(
  accountId: string,
  connectionId: string,
  stub: Stub,
  opts: { start?: SyncState; max?: number; pagesPerStep?: number; overlapMs?: number } = {},
) {
  const { queue, sent } = captureQueue();
  let completed = 0;
  return runInDurableObject(stubFor(accountId), async (_i, ctx) => {
    if (opts.start) putSyncState(ctx.storage.sql, opts.start);
    const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
      fetch: stub.fetch,
      queue,
      pagesPerStep: opts.pagesPerStep ?? 4,
      ...(opts.overlapMs === undefined ? {} : { overlapMs: opts.overlapMs }),
      onComplete: async () => {
        completed++;
      },
    });
    try {
      const outcomes: StepOutcome[] = [];
      for (let i = 0; i < (opts.max ?? 100); i++) {
        const o = await runSyncStep(deps, "textMessages");
        outcomes.push(o);
        if (o.kind !== "continue") break;
      }
      return {
        outcomes,
        state: getSyncState(ctx.storage.sql, connectionId, "textMessages"),
        sent,
        completed,
      };
    } finally {
      await close();
    }
  });
}

/** source_id → number of staged rows of the run. */
async function staged(connectionId: string, runId: string) {
  const r = await rows<{ source_id: string; n: number }>(sql`
    select source_id, count(*)::int as n from stage_records
    where connection_id = ${connectionId} and entity = 'textMessages' and run_id = ${runId}
    group by source_id`);
  return new Map(r.map((x) => [Number(x.source_id), x.n]));
}

const expectedTexts = (people: number[]) => people.flatMap(textIdsOf).sort((a, b) => a - b);

describe("first page of an entity listed per parent", () => {
  it("carries the parent filter, and can't be built without a parent", () => {
    const texts = fub.entities.textMessages;
    if (!texts) throw new Error("no textMessages");
    expect(texts.parent).toEqual({ entity: "people", param: "personId" });
    const url = new URL(
      fub.firstPageUrl({
        baseUrl: "http://x.test",
        entity: texts,
        mode: "onboarding",
        since: null,
        parentId: "42",
      }),
    );
    expect(url.pathname).toBe(TEXTS);
    expect(url.searchParams.get("personId")).toBe("42");
    expect(url.searchParams.get("limit")).toBe("100");
    expect(() =>
      fub.firstPageUrl({ baseUrl: "http://x.test", entity: texts, mode: "delta", since: null }),
    ).toThrow(/per people/);
  });
});

describe("fan-out over parents", () => {
  it("lists every parent's children in one run, never unfiltered, skipping tombstoned parents only", async () => {
    const { accountId, connectionId } = await fubAccount();
    const people = Array.from({ length: 12 }, (_, i) => i + 1);
    // 6 is trashed (still a person at the provider), 7 was deleted (a tombstone): only 7 is left out.
    await seedPeople(accountId, connectionId, people, { trashed: [6], tombstoned: [7] });
    const listed = people.filter((p) => p !== 7);
    const stub = providerStub();
    const start = run(connectionId, "onboarding");
    const r = await steps(accountId, connectionId, stub, { start });

    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    expect(r.completed).toBe(1);
    expect(stub.unfiltered).toBe(0);
    // Parents in id order, each once per page of its children (an empty parent still costs its one page).
    const pagesOf = (p: number) => Math.max(1, Math.ceil(textIdsOf(p).length / PAGE));
    expect(stub.texts).toEqual(listed.flatMap((p) => Array(pagesOf(p)).fill(String(p))));
    const got = await staged(connectionId, start.runId ?? "");
    expect([...got.keys()].sort((a, b) => a - b)).toEqual(expectedTexts(listed));
    expect([...got.values()].every((n) => n === 1)).toBe(true);
    // One run: page numbers continue across parents; every non-empty page announced once.
    const pages = listed.reduce((n, p) => n + pagesOf(p), 0);
    expect(r.state).toMatchObject({
      status: "COMPLETED",
      runId: start.runId,
      pageNo: pages,
      runRecords: expectedTexts(listed).length,
      runTotal: null,
      fanOut: { current: null, done: "12", parentsDone: 11, parentsTotal: 11, since: null },
    });
    expect(r.state?.parentWatermark).toBe(r.state?.fanOut?.startedAt);
    expect(new Set(r.sent.map((m) => m.pageNo)).size).toBe(r.sent.length);
    expect(r.sent.every((m) => m.runId === start.runId && m.entity === "textMessages")).toBe(true);

    // Progress in the status: parents done of parents counted.
    const status = await stubFor(accountId).status([connectionId]);
    const texts = status.connections[0]?.entities.find((e) => e.entity === "textMessages");
    expect(texts?.progress.parents).toEqual({ done: 11, total: 11 });
  });

  it("a parent parked because Postgres could not hold it is still a parent; other parked ones are not", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedPeople(accountId, connectionId, [1, 2, 3, 12]);
    // 13: parked unstorable (a NUL in a name), a person at the provider all the same: listed, in numeric order
    // after 12. 14: refused by validation (its id may be no id). 15: unstorable but resolved since. 16:
    // unstorable, then deleted. 3: a newer version parked beside its stored row: listed once. "stage:9": a
    // record staged without an id.
    const park = (sourceId: string, code: string, resolved = false) =>
      withTestDb((db) =>
        db.execute(sql`
          insert into failed_records (account_id, connection_id, provider, entity, source_id, error_code, error_message, resolved_at)
          values (${accountId}, ${connectionId}, 'fub', 'people', ${sourceId}, ${code}, 'x',
                  ${resolved ? new Date().toISOString() : null})`),
      );
    await park("13", "unstorable_value");
    await park("14", "validation_failed");
    await park("15", "unstorable_value", true);
    await park("16", "unstorable_value");
    await park("3", "unstorable_value");
    await park("stage:9", "unstorable_value");
    await withTestDb((db) =>
      db.execute(sql`
        insert into core_tombstones (account_id, connection_id, provider, entity, source_id, deleted_at, run_id)
        values (${accountId}, ${connectionId}, 'fub', 'people', '16', now(), 'webhooks')`),
    );
    const stub = providerStub();
    const start = run(connectionId, "onboarding");
    const r = await steps(accountId, connectionId, stub, { start });
    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    const listed = [1, 2, 3, 12, 13];
    const pagesOf = (p: number) => Math.max(1, Math.ceil(textIdsOf(p).length / PAGE));
    expect(stub.texts).toEqual(listed.flatMap((p) => Array(pagesOf(p)).fill(String(p))));
    expect(r.state?.fanOut).toMatchObject({ parentsDone: 5, parentsTotal: 5 });
    const got = await staged(connectionId, start.runId ?? "");
    expect([...got.keys()].sort((a, b) => a - b)).toEqual(expectedTexts(listed));
  });

  it("resumes at the right parent and page after a cut between steps and after a failed request", async () => {
    const { accountId, connectionId } = await fubAccount();
    const people = Array.from({ length: 10 }, (_, i) => i + 1);
    await seedPeople(accountId, connectionId, people);
    const stub = providerStub();
    const start = run(connectionId, "onboarding");

    // One step of 4 pages: persons 1 (1 page), 2 (1) and 3 (2); the position moves to person 4.
    const first = await steps(accountId, connectionId, stub, { start, max: 1, pagesPerStep: 4 });
    expect(first.outcomes.map((o) => o.kind)).toEqual(["continue"]);
    expect(first.state?.fanOut).toMatchObject({ done: "3", current: "4", parentsDone: 3, parentsTotal: 10 });
    expect(first.state?.nextUrl).toContain("personId=4");
    const afterFirst = stub.texts.length;

    // Cut inside a parent: persons 4 (no texts), 5, 6, then the first of person 7's two pages.
    const second = await steps(accountId, connectionId, stub, { max: 1, pagesPerStep: 4 });
    expect(stub.texts.slice(afterFirst)).toEqual(["4", "5", "6", "7"]);
    expect(second.state?.fanOut).toMatchObject({ done: "6", current: "7", parentsDone: 6 });
    expect(new URL(second.state?.nextUrl ?? "").searchParams.get("next")).toBe("2");

    // The next request fails: the step ends failed with nothing committed past the last good page.
    stub.failAt(1);
    const before = stub.texts.length;
    const failed = await steps(accountId, connectionId, stub, { max: 1 });
    expect(failed.outcomes.map((o) => o.kind)).toEqual(["failed"]);
    expect(failed.state?.fanOut).toMatchObject({ current: "7" });
    expect(failed.state?.nextUrl).toBe(second.state?.nextUrl);

    // Resumed: person 7's second page again, then the rest, to completion.
    const rest = await steps(accountId, connectionId, stub, {});
    expect(rest.outcomes.at(-1)?.kind).toBe("completed");
    expect(stub.texts.slice(before)).toEqual(["7", "7", "8", "9", "10"]);
    expect(stub.unfiltered).toBe(0);
    const got = await staged(connectionId, start.runId ?? "");
    expect([...got.keys()].sort((a, b) => a - b)).toEqual(expectedTexts(people));
    expect([...got.values()].every((n) => n === 1)).toBe(true);
    expect(rest.state).toMatchObject({
      status: "COMPLETED",
      runRecords: expectedTexts(people).length,
      fanOut: { parentsDone: 10, parentsTotal: 10 },
    });
  });

  it("an onboarding fan-out waits while the parent entity runs or has fresh untransformed pages", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedPeople(accountId, connectionId, [1, 2, 3]);
    const stub = providerStub();
    const start = run(connectionId, "onboarding");
    const parentRun: SyncState = {
      ...run(connectionId, "onboarding"),
      entity: "people",
    };
    await runInDurableObject(stubFor(accountId), async (_i, ctx) => putSyncState(ctx.storage.sql, parentRun));

    const t0 = Date.now();
    const running = await steps(accountId, connectionId, stub, { start });
    const wait = running.outcomes[0];
    expect(wait?.kind).toBe("waiting");
    if (wait?.kind === "waiting") {
      expect(wait.reason).toMatch(/people/);
      expect(wait.retryAt).toBeGreaterThanOrEqual(t0 + PARENT_WAIT_MS);
    }
    expect(running.state).toMatchObject({ status: "IN_PROGRESS", fanOut: null });
    expect(running.state?.errorMessage).toMatch(/waiting for the onboarding run of people/);

    // The parent's run is over but one of its pages is still on its way to core.
    await runInDurableObject(stubFor(accountId), async (_i, ctx) =>
      putSyncState(ctx.storage.sql, { ...parentRun, status: "COMPLETED" }),
    );
    // A marker alone says where to look (it outlives its page's transform); the page is pending while one of its
    // staged records is not done.
    const pending = (age: string) =>
      withTestDb(async (db) => {
        await db.execute(sql`
          insert into stage_pending_pages (account_id, connection_id, provider, entity, run_id, page_no, records, staged_at)
          values (${accountId}, ${connectionId}, 'fub', 'people', ${parentRun.runId}, 0, 3, now() - ${age}::interval)
          on conflict (connection_id, entity, run_id, page_no) do update set staged_at = excluded.staged_at`);
        await db.execute(sql`
          insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id, op, payload)
          values (${accountId}, ${connectionId}, 'fub', 'people', ${parentRun.runId}, 0, 0, '3', 'upsert', '{"id":3}')
          on conflict (connection_id, entity, run_id, page_no, seq) do nothing`);
      });
    await pending("1 second");
    const transforming = await steps(accountId, connectionId, stub, {});
    expect(transforming.outcomes.map((o) => o.kind)).toEqual(["waiting"]);
    expect(transforming.state?.errorMessage).toMatch(/staged pages of people/);
    expect(stub.texts).toEqual([]);

    // A page untransformed for longer than the stale bound is stuck, not landing: the fan-out goes on.
    await pending("2 hours");
    const done = await steps(accountId, connectionId, stub, {});
    expect(done.outcomes.at(-1)?.kind).toBe("completed");
    expect(stub.texts).toEqual(["1", "2", "3", "3"]);
    expect(done.state?.errorMessage).toBeNull();
  });

  it("a delta fan-out waits for the parent's delta (a parent new in it gets its children now), never for its backfill", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedPeople(accountId, connectionId, [1, 2, 3]);
    const stub = providerStub();
    const parentRun = (mode: "onboarding" | "delta"): SyncState => ({
      ...run(connectionId, mode),
      entity: "people",
    });
    await runInDurableObject(stubFor(accountId), async (_i, ctx) =>
      putSyncState(ctx.storage.sql, parentRun("delta")),
    );
    const waiting = await steps(accountId, connectionId, stub, { start: run(connectionId, "delta") });
    expect(waiting.outcomes.map((o) => o.kind)).toEqual(["waiting"]);
    expect(waiting.state?.errorMessage).toMatch(/waiting for the delta run of people/);
    expect(stub.texts).toEqual([]);

    // The parent's delta brought person 4; once it is in core the child's delta lists it in the same run.
    await seedPeople(accountId, connectionId, [4]);
    await runInDurableObject(stubFor(accountId), async (_i, ctx) =>
      putSyncState(ctx.storage.sql, { ...parentRun("delta"), status: "COMPLETED" }),
    );
    const done = await steps(accountId, connectionId, stub, {});
    expect(done.outcomes.at(-1)?.kind).toBe("completed");
    expect(stub.texts).toContain("4");

    // A parent backfill in progress holds no delta of its children.
    await runInDurableObject(stubFor(accountId), async (_i, ctx) =>
      putSyncState(ctx.storage.sql, parentRun("onboarding")),
    );
    const again = await steps(accountId, connectionId, stub, {
      start: run(connectionId, "delta", done.state),
    });
    expect(again.outcomes.map((o) => o.kind)).not.toContain("waiting");
    expect(again.outcomes.at(-1)?.kind).toBe("completed");
  });

  it("a delta run lists only the parents written since the previous run began", async () => {
    const { accountId, connectionId } = await fubAccount();
    const people = Array.from({ length: 8 }, (_, i) => i + 1);
    await seedPeople(accountId, connectionId, people);
    const stub = providerStub();
    // No overlap: the seeded rows are an hour old and the rewritten ones newer than each run's start.
    const onboarding = await steps(accountId, connectionId, stub, {
      start: run(connectionId, "onboarding"),
      overlapMs: 0,
    });
    expect(onboarding.state?.status).toBe("COMPLETED");
    const watermark = onboarding.state?.parentWatermark;
    expect(watermark).toBeTruthy();

    // Persons 3 and 7 rewritten by the pipeline after the run began; person 9 is new.
    await withTestDb(async (db) => {
      await db.execute(
        sql`update fub_people set synced_at = now() where connection_id = ${connectionId} and source_id in (3, 7)`,
      );
    });
    await seedPeople(accountId, connectionId, [9]);
    await withTestDb((db) =>
      db.execute(
        sql`update fub_people set synced_at = now() where connection_id = ${connectionId} and source_id = 9`,
      ),
    );
    const before = stub.texts.length;
    const delta = await steps(accountId, connectionId, stub, {
      start: run(connectionId, "delta", onboarding.state),
      overlapMs: 0,
    });
    expect(delta.outcomes.at(-1)?.kind).toBe("completed");
    expect(stub.texts.slice(before)).toEqual(["3", "3", "7", "7", "9"]);
    expect(delta.state).toMatchObject({
      mode: "delta",
      fanOut: { parentsDone: 3, parentsTotal: 3, since: watermark },
    });
    // The next delta starts from this run's beginning: nothing written since, nothing listed.
    expect(delta.state?.parentWatermark).not.toBe(watermark);
    const again = await steps(accountId, connectionId, stub, {
      start: run(connectionId, "delta", delta.state),
      overlapMs: 0,
    });
    expect(again.outcomes.map((o) => o.kind)).toEqual(["completed"]);
    expect(stub.texts.length).toBe(before + 5);
    expect(stub.unfiltered).toBe(0);
  });
});

// The pipelined sync step: the next page is fetched while the current one is staged, the Postgres mirror rides
// in the next page's staging transaction, and a step may be bounded by wall time. None of it may move a cursor
// past a page that isn't staged and enqueued, or let a crash skip a page.
import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { runSyncStep, type StepOutcome } from "../../durable-objects/sync-runner";
import {
  getSyncState,
  mirrorSyncState,
  putSyncState,
  type SyncState,
} from "../../durable-objects/sync-state";
import type { TransformMessage } from "../../src/pipeline/messages";
import { rows } from "../support/db";
import { freshRun, fubAccount, simSummary, stepDeps, stubFor } from "./account-sync-fixtures";

function onboarding(connectionId: string): SyncState {
  return freshRun(connectionId);
}

const stagedPages = (runId: string) =>
  rows<{ page_no: number; n: number }>(
    sql`select page_no, count(*)::int as n from stage_records where run_id = ${runId} group by page_no order by page_no`,
  );

const stagedIds = (runId: string) =>
  rows<{ source_id: string }>(sql`select distinct source_id from stage_records where run_id = ${runId}`).then(
    (r) => r.map((x) => Number(x.source_id)).sort((a, b) => a - b),
  );

/** A queue that records, for every page it is asked to enqueue, whether it is staged and the committed page. */
function observingQueue(sqlStorage: SqlStorage, connectionId: string, runId: string, failOnSend?: number) {
  const seen: { pageNo: number; staged: number; committedPageNo: number }[] = [];
  let sends = 0;
  const queue = {
    send: async () => {},
    sendBatch: async (msgs: Iterable<MessageSendRequest<TransformMessage>>) => {
      sends++;
      if (sends === failOnSend) throw new Error("simulated crash");
      const committedPageNo = getSyncState(sqlStorage, connectionId, "people")?.pageNo ?? -1;
      const staged = new Map((await stagedPages(runId)).map((p) => [p.page_no, p.n]));
      for (const m of msgs) {
        seen.push({ pageNo: m.body.pageNo, staged: staged.get(m.body.pageNo) ?? 0, committedPageNo });
      }
      await env.TRANSFORMS.sendBatch(msgs);
    },
  } as unknown as Queue<TransformMessage>;
  return { queue, seen };
}

describe("pipelined sync step", () => {
  it("commits pages strictly in order, each only after it was staged and enqueued", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 730 } } });
    const run = onboarding(connectionId);
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      const { queue, seen } = observingQueue(ctx.storage.sql, connectionId, run.runId ?? "");
      const mirrored: number[] = [];
      const onState: number[] = [];
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
        queue,
        pagesPerStep: 100,
        mirrorIn: async (db, s) => {
          mirrored.push(s.pageNo);
          await mirrorSyncState(db, accountId, s);
        },
        onState: async (s) => {
          onState.push(s.pageNo);
        },
      });
      try {
        const outcome = await runSyncStep(deps, "people");
        return {
          outcome,
          seen,
          mirrored,
          onState,
          state: getSyncState(ctx.storage.sql, connectionId, "people"),
        };
      } finally {
        await close();
      }
    });
    expect(out.outcome.kind).toBe("completed");
    expect(out.state).toMatchObject({ pageNo: 8, runRecords: 730, status: "COMPLETED" });
    // Every page is enqueued once, in order, already staged, while the cursor is still before it.
    expect(out.seen.map((s) => s.pageNo)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const s of out.seen) {
      expect(s.staged).toBe(s.pageNo === 7 ? 30 : 100);
      expect(s.committedPageNo).toBeLessThanOrEqual(s.pageNo);
    }
    // Each write mirrors the state committed before it (never ahead of the cursor), in order; the step's last
    // state is mirrored on its own.
    expect(out.mirrored.length).toBeGreaterThan(0);
    expect(out.mirrored).toEqual([...out.mirrored].sort((a, b) => a - b));
    expect(new Set(out.mirrored).size).toBe(out.mirrored.length);
    expect(Math.max(...out.mirrored)).toBeLessThan(8);
    expect(out.onState).toEqual([8]);
    expect(await stagedIds(run.runId ?? "")).toHaveLength(730);
  });

  it("stages the pages fetched while a write was in flight together: one transaction and one send for several", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 730 } } });
    const run = onboarding(connectionId);
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      const { queue, seen } = observingQueue(ctx.storage.sql, connectionId, run.runId ?? "");
      let transactions = 0;
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, { queue, pagesPerStep: 100 });
      try {
        const outcome = await runSyncStep(
          {
            ...deps,
            // A slow database: the fetch chain runs ahead while each write is in flight.
            tenantDb: (fn) =>
              deps.tenantDb(async (db) => {
                transactions++;
                await new Promise((r) => setTimeout(r, 500));
                return fn(db);
              }),
          },
          "people",
        );
        return { outcome, seen, transactions, state: getSyncState(ctx.storage.sql, connectionId, "people") };
      } finally {
        await close();
      }
    });
    expect(out.outcome.kind).toBe("completed");
    expect(out.state).toMatchObject({ pageNo: 8, runRecords: 730 });
    expect(out.transactions).toBeGreaterThanOrEqual(2);
    expect(out.transactions).toBeLessThanOrEqual(3);
    expect(out.seen.map((s) => s.pageNo)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await stagedIds(run.runId ?? "")).toHaveLength(730);
  });

  it("a crash while the next page is being prefetched leaves the cursor on the last staged page; the next step re-fetches", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 450 } } });
    const run = onboarding(connectionId);
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      // Page 2's enqueue dies; page 3 is in flight (read ahead, one page at a time here) at that moment.
      const { queue } = observingQueue(ctx.storage.sql, connectionId, run.runId ?? "", 3);
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
        queue,
        pagesPerStep: 100,
        readAhead: 1,
      });
      try {
        const error = await runSyncStep(deps, "people").then(
          () => null,
          (e: Error) => e.message,
        );
        const crashed = getSyncState(ctx.storage.sql, connectionId, "people");
        const pagesAfterCrash = await stagedPages(run.runId ?? "");
        const resumed = await runSyncStep({ ...deps, queue: env.TRANSFORMS }, "people");
        return {
          error,
          crashed,
          pagesAfterCrash,
          resumed,
          state: getSyncState(ctx.storage.sql, connectionId, "people"),
        };
      } finally {
        await close();
      }
    });
    expect(out.error).toBe("simulated crash");
    expect(out.crashed).toMatchObject({ pageNo: 2, runRecords: 200, status: "IN_PROGRESS" });
    // Page 2 is staged (not enqueued, not committed); page 3 was fetched but never staged.
    expect(out.pagesAfterCrash).toEqual([
      { page_no: 0, n: 100 },
      { page_no: 1, n: 100 },
      { page_no: 2, n: 100 },
    ]);
    expect(out.resumed.kind).toBe("completed");
    expect(out.state).toMatchObject({ pageNo: 5, runRecords: 450, status: "COMPLETED" });
    const ids = await stagedIds(run.runId ?? "");
    expect(ids).toHaveLength(450);
    expect(ids).toEqual([...new Set(ids)]);
    // 0, 1, 2, 3 (prefetched, dropped), then 2, 3, 4 again.
    expect((await simSummary(apiKey)).requests.served).toBe(7);
  });

  it("a prefetch that fails stops the step after the page before it is committed; nothing is skipped", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 350 } } });
    const run = onboarding(connectionId);
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      let calls = 0;
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
        pagesPerStep: 100,
        fetch: (input, init) => {
          calls++;
          // The third request (page 2, prefetched while page 1 is staged) never gets an answer.
          if (calls === 3) return Promise.reject(new Error("connection reset"));
          return fetch(input, init);
        },
      });
      try {
        const outcomes: StepOutcome[] = [await runSyncStep(deps, "people")];
        const afterFailure = getSyncState(ctx.storage.sql, connectionId, "people");
        outcomes.push(await runSyncStep(deps, "people"));
        return { outcomes, afterFailure, state: getSyncState(ctx.storage.sql, connectionId, "people") };
      } finally {
        await close();
      }
    });
    expect(out.outcomes[0]).toMatchObject({ kind: "failed" });
    expect(out.afterFailure).toMatchObject({ pageNo: 2, runRecords: 200 });
    expect(out.outcomes[1]?.kind).toBe("completed");
    expect(out.state).toMatchObject({ pageNo: 4, runRecords: 350, status: "COMPLETED" });
    expect(await stagedIds(run.runId ?? "")).toHaveLength(350);
  });

  it("a step bounded by wall time starts no page after its budget and prefetches none it won't commit", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 900 } } });
    const run = onboarding(connectionId);
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      let clock = 1_000_000;
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
        pagesPerStep: 100,
        stepMs: 250,
        // Every look at the clock is 100 ms later: the budget runs out after a few pages.
        now: () => (clock += 100),
      });
      try {
        const outcome = await runSyncStep(deps, "people");
        return { outcome, state: getSyncState(ctx.storage.sql, connectionId, "people") };
      } finally {
        await close();
      }
    });
    expect(out.outcome.kind).toBe("continue");
    const pages = out.state?.pageNo ?? 0;
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThan(9);
    expect((await simSummary(apiKey)).requests.served).toBe(pages);
  });

  it("a failing mirror write doesn't fail the page: staging commits, and the state is mirrored at the step's end", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 300 } } });
    const run = onboarding(connectionId);
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      const ended: number[] = [];
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
        pagesPerStep: 100,
        mirrorIn: async (db) => {
          // A statement error inside the staging transaction: only the savepoint is rolled back.
          await db.execute(sql`select 1 / 0`);
        },
        onState: async (s) => {
          ended.push(s.pageNo);
        },
      });
      try {
        const outcome = await runSyncStep(deps, "people");
        return { outcome, ended, state: getSyncState(ctx.storage.sql, connectionId, "people") };
      } finally {
        await close();
      }
    });
    expect(out.outcome.kind).toBe("completed");
    expect(out.state).toMatchObject({ pageNo: 3, runRecords: 300 });
    expect(out.ended).toEqual([3]);
    expect(await stagedIds(run.runId ?? "")).toHaveLength(300);
  });
});

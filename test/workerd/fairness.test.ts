// Fairness between accounts: a backfill keeps a bounded number of pages waiting in the shared transform queue,
// so another account's delta (or webhook) page never queues behind more than that bound of the backfill's.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runSyncStep } from "../../durable-objects/sync-runner";
import { getSyncState, putSyncState, type SyncState } from "../../durable-objects/sync-state";
import { connectorFor } from "../../src/connectors/registry";
import { pendingTransformPages } from "../../src/pipeline/backlog";
import { transformBatch } from "../../src/pipeline/batch";
import type { TransformMessage } from "../../src/pipeline/messages";
import { withTestDb } from "../support/db";
import { freshRun, fubAccount, stepDeps, stubFor } from "./account-sync-fixtures";

/** The shared queue, in send order; nothing is delivered until the test transforms it. */
function fifo() {
  const messages: TransformMessage[] = [];
  const queue = {
    send: async (body: TransformMessage) => {
      messages.push(body);
    },
    sendBatch: async (batch: Iterable<MessageSendRequest<TransformMessage>>) => {
      for (const m of batch) messages.push(m.body);
    },
  } as unknown as Queue<TransformMessage>;
  return { queue, messages };
}

const LIMIT = 3;

describe("fairness between accounts", () => {
  it("a backfill holds at most its limit of pages in the shared queue; another account's delta goes ahead of the rest", async () => {
    const big = await fubAccount({ tenant: { counts: { people: 2_000 } } });
    const small = await fubAccount({ tenant: { counts: { people: 30 } } });
    const shared = fifo();
    // The run's state between steps (each step is a fresh look into the object).
    let bigState: SyncState = freshRun(big.connectionId);
    const stepBig = () =>
      runInDurableObject(stubFor(big.accountId), async (_i, ctx) => {
        putSyncState(ctx.storage.sql, bigState);
        const { deps, close } = await stepDeps(ctx, big.accountId, big.connectionId, {
          queue: shared.queue,
          pagesPerStep: 10,
          backlog: {
            limit: LIMIT,
            pending: () => deps.tenantDb((db) => pendingTransformPages(db, big.accountId, LIMIT + 1)),
          },
        });
        try {
          const outcome = await runSyncStep(deps, "people");
          bigState = getSyncState(ctx.storage.sql, big.connectionId, "people") ?? bigState;
          return outcome;
        } finally {
          await close();
        }
      });

    // The first step fetches only what fits in the backlog, though its step allows 10 pages.
    expect((await stepBig()).kind).toBe("continue");
    expect(shared.messages).toHaveLength(LIMIT);
    // Nothing transformed yet: the next step fetches nothing and waits a moment.
    const held = await stepBig();
    expect(held).toMatchObject({ kind: "waiting", reason: "transform backlog" });
    expect(shared.messages).toHaveLength(LIMIT);
    expect(await withTestDb((db) => pendingTransformPages(db, big.accountId, 100))).toBe(LIMIT);

    // The small account's delta is not held back by another account's backlog, and lands behind only LIMIT pages.
    const smallOutcome = await runInDurableObject(stubFor(small.accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, freshRun(small.connectionId, { mode: "delta" }));
      const { deps, close } = await stepDeps(ctx, small.accountId, small.connectionId, {
        queue: shared.queue,
        backlog: {
          limit: LIMIT,
          pending: () => deps.tenantDb((db) => pendingTransformPages(db, small.accountId, LIMIT + 1)),
        },
      });
      try {
        return await runSyncStep(deps, "people");
      } finally {
        await close();
      }
    });
    expect(smallOutcome.kind).toBe("completed");
    const ahead = shared.messages.findIndex((m) => m.accountId === small.accountId);
    expect(ahead).toBe(LIMIT);

    // The consumer takes the queue in order: the small account's page is in core after LIMIT of the big one's.
    const batch = shared.messages.splice(0, shared.messages.length);
    const outcomes = await withTestDb((db) => transformBatch(db, batch, connectorFor));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(await withTestDb((db) => pendingTransformPages(db, big.accountId, 100))).toBe(0);
    // With the backlog drained, the backfill goes on with room for LIMIT more.
    expect((await stepBig()).kind).toBe("continue");
    expect(shared.messages).toHaveLength(LIMIT);
    expect(shared.messages.every((m) => m.accountId === big.accountId && m.pageNo >= LIMIT)).toBe(true);
  });

  it("a delta run is never held back by its own account's backlog", async () => {
    const acc = await fubAccount({ tenant: { counts: { people: 450 } } });
    const shared = fifo();
    const outcome = await runInDurableObject(stubFor(acc.accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, freshRun(acc.connectionId, { mode: "delta" }));
      const { deps, close } = await stepDeps(ctx, acc.accountId, acc.connectionId, {
        queue: shared.queue,
        pagesPerStep: 10,
        backlog: { limit: 1, pending: async () => 1_000 },
      });
      try {
        return await runSyncStep(deps, "people");
      } finally {
        await close();
      }
    });
    expect(outcome.kind).toBe("completed");
    expect(shared.messages).toHaveLength(5);
  });
});

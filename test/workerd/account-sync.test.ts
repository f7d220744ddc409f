import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { acquireLease, listLeases, releaseLease, renewLease } from "../../durable-objects/lease";
import { runSyncStep, type StepOutcome } from "../../durable-objects/sync-runner";
import { getSyncState, putSyncState, type SyncState } from "../../durable-objects/sync-state";
import type { Cursor } from "../../src/core/cursor";
import type { TransformMessage } from "../../src/pipeline/messages";
import { rows } from "../support/db";
import {
  admin,
  entityState,
  freshRun,
  fubAccount,
  simPost,
  simPut,
  simSummary,
  stepDeps,
  stubFor,
  waitFor,
} from "./account-sync-fixtures";

function inProgress(
  connectionId: string,
  mode: "onboarding" | "delta",
  cursor: Cursor | null = null,
): SyncState {
  return freshRun(connectionId, { mode, cursor });
}

/** Runs steps directly in the object until the run completes (no alarm involved). */
async function runToCompletion(accountId: string, connectionId: string, state: SyncState) {
  return runInDurableObject(stubFor(accountId), async (_i, ctx) => {
    putSyncState(ctx.storage.sql, state);
    const { deps, close } = await stepDeps(ctx, accountId, connectionId);
    try {
      const outcomes: StepOutcome["kind"][] = [];
      for (let i = 0; i < 50; i++) {
        const o = await runSyncStep(deps, "people");
        outcomes.push(o.kind);
        if (o.kind !== "continue") break;
      }
      return { outcomes, state: getSyncState(ctx.storage.sql, connectionId, "people") };
    } finally {
      await close();
    }
  });
}

const stagedIds = (connectionId: string, runId: string) =>
  rows<{ source_id: string }>(
    sql`select distinct source_id from stage_records where connection_id = ${connectionId} and run_id = ${runId}`,
  ).then((r) => new Set(r.map((x) => Number(x.source_id))));

describe("onboarding through the admin API and the alarm", () => {
  it("backfills every record across several alarm steps, with progress and Postgres mirrors", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 730 } } });
    const res = await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "people",
      mode: "onboarding",
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      runs: [{ connectionId, started: ["people"], alreadyRunning: [] }],
    });

    const done = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      // The lease is held until completion work (deferred deletes) is done.
      return s?.status === "COMPLETED" && s.lease === null ? s : undefined;
    });
    // 8 pages of at most 100 with SYNC_PAGES_PER_STEP=5: the run needed a continuation through the alarm.
    expect(done.progress).toMatchObject({ pages: 8, records: 730, total: 730, etaMs: 0 });
    expect(done.recordsSynced).toBe(730);
    expect(done.lease).toBeNull();
    expect((await stagedIds(connectionId, done.runId ?? "")).size).toBe(730);

    const [state] = await rows(
      sql`select status, records_synced::int as n from fub_sync_state where connection_id = ${connectionId}`,
    );
    expect(state).toEqual({ status: "COMPLETED", n: 730 });
    const [job] = await rows(
      sql`select people_status, people_last_started_at is not null as started, people_last_finished_at is not null as finished
          from fub_sync_jobs where connection_id = ${connectionId}`,
    );
    expect(job).toEqual({ people_status: "COMPLETED", started: true, finished: true });
    const [onboarding] = await rows(
      sql`select people_status, people_pages, people_records::int as records, people_total::int as total
          from fub_onboarding_jobs where connection_id = ${connectionId}`,
    );
    expect(onboarding).toEqual({ people_status: "COMPLETED", people_pages: 8, records: 730, total: 730 });

    // Each alarm invocation counts what it sent out; a step of at most 5 pages stays at 5 provider fetches.
    const status = (await (await admin("GET", `/accounts/${accountId}/status`)).json()) as {
      invocations: {
        invocations: number;
        subrequests: number;
        max: { fetch: number; queue: number; database: number; total: number };
      };
    };
    const inv = status.invocations;
    expect(inv.invocations).toBeGreaterThanOrEqual(2);
    expect(inv.max.fetch).toBeGreaterThanOrEqual(1);
    expect(inv.max.fetch).toBeLessThanOrEqual(5);
    expect(inv.max.queue).toBeGreaterThanOrEqual(1);
    expect(inv.max.database).toBeGreaterThanOrEqual(1);
    expect(inv.max.total).toBe(inv.max.fetch + inv.max.queue + inv.max.database);
    // 8 pages fetched in all, each staged and announced; plus Postgres connections.
    expect(inv.subrequests).toBeGreaterThanOrEqual(8 + 2 + 2);

    // The transform queue lands them in the core table.
    await waitFor(async () => {
      const [c] = await rows<{ n: number }>(
        sql`select count(*)::int as n from fub_people where connection_id = ${connectionId}`,
      );
      return c?.n === 730;
    });
  });
});

/** A stale holder's release must not remove the new holder's lease. */
function releaseThenList(s: SqlStorage) {
  releaseLease(s, "sync:c:people", "A");
  return listLeases(s, 1_950);
}

describe("lease", () => {
  it("two concurrent triggers for the same entity produce one run", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 120 } } });
    const req = {
      accountId,
      connectionId,
      provider: "fub",
      entities: ["people"],
      mode: "onboarding" as const,
    };
    const [a, b] = await Promise.all([stubFor(accountId).startSync(req), stubFor(accountId).startSync(req)]);
    expect([...a.started, ...b.started]).toEqual(["people"]);
    expect([...a.alreadyRunning, ...b.alreadyRunning]).toEqual(["people"]);
    await waitFor(async () => (await entityState(accountId, connectionId, "people"))?.status === "COMPLETED");
    const runs = await rows(
      sql`select distinct run_id from stage_records where connection_id = ${connectionId}`,
    );
    expect(runs).toHaveLength(1);
  });

  it("two concurrent steps never both hold it: the second is told busy while the first awaits the provider", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 150 } } });
    await simPut(apiKey, "faults", { latencyMs: 300 });
    const result = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, inProgress(connectionId, "onboarding"));
      const a = await stepDeps(ctx, accountId, connectionId, { holder: "step-a", pagesPerStep: 1 });
      const b = await stepDeps(ctx, accountId, connectionId, { holder: "step-b", pagesPerStep: 1 });
      const started = runSyncStep(a.deps, "people");
      // While a awaits its fetch the object runs other work; the lease row is what keeps b out.
      const leasesDuring = listLeases(ctx.storage.sql, Date.now());
      const second = await runSyncStep(b.deps, "people");
      const first = await started;
      await a.close();
      await b.close();
      return { first, second, leasesDuring, state: getSyncState(ctx.storage.sql, connectionId, "people") };
    });
    expect(result.first.kind).toBe("continue");
    expect(result.second.kind).toBe("busy");
    expect(result.leasesDuring.map((l) => l.holder)).toEqual(["step-a"]);
    expect(result.state?.pageNo).toBe(1);
    expect((await simSummary(apiKey)).requests.served).toBe(1);
  });

  it("is renewed by its holder, stolen only after expiry, and the old holder then loses it", async () => {
    const { accountId } = await fubAccount();
    const out = await runInDurableObject(stubFor(accountId), (_i, ctx) => {
      const s = ctx.storage.sql;
      return {
        aTakes: acquireLease(s, "sync:c:people", "A", 1_000, 500),
        bRefused: acquireLease(s, "sync:c:people", "B", 1_200, 500),
        aRenews: renewLease(s, "sync:c:people", "A", 1_400, 500), // now expires at 1_900
        bStillRefused: acquireLease(s, "sync:c:people", "B", 1_800, 500),
        bSteals: acquireLease(s, "sync:c:people", "B", 1_900, 500),
        aCannotRenew: renewLease(s, "sync:c:people", "A", 1_950, 500),
        aReleaseIsNoop: releaseThenList(s),
      };
    });
    expect(out).toMatchObject({
      aTakes: true,
      bRefused: false,
      aRenews: true,
      bStillRefused: false,
      bSteals: true,
    });
    expect(out.aCannotRenew).toBe(false);
    expect(out.aReleaseIsNoop).toEqual([
      { name: "sync:c:people", holder: "B", expiresAt: 2_400, expired: false },
    ]);
  });
});

describe("cursor commits", () => {
  it("a run killed between the staging write and the cursor commit re-fetches the page instead of skipping it", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 250 } } });
    const run = inProgress(connectionId, "onboarding");
    const crashed = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      let sends = 0;
      const dying = {
        send: async () => {},
        sendBatch: async (msgs: Iterable<MessageSendRequest<TransformMessage>>) => {
          sends++;
          // Page 1 is staged, then the process dies before its transform is enqueued and the cursor moves.
          if (sends === 2) throw new Error("simulated crash");
          await env.TRANSFORMS.sendBatch(msgs);
        },
      } as unknown as Queue<TransformMessage>;
      // One page read ahead at a time, so exactly page 2 is in flight when page 1's enqueue dies.
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, { queue: dying, readAhead: 1 });
      const error = await runSyncStep(deps, "people").then(
        () => null,
        (e: Error) => e.message,
      );
      await close();
      return {
        error,
        state: getSyncState(ctx.storage.sql, connectionId, "people"),
        leases: listLeases(ctx.storage.sql, Date.now()),
      };
    });
    expect(crashed.error).toBe("simulated crash");
    expect(crashed.state).toMatchObject({ pageNo: 1, runRecords: 100, status: "IN_PROGRESS" });
    expect(crashed.leases).toEqual([]);
    const [page1] = await rows<{ n: number }>(
      sql`select count(*)::int as n from stage_records where run_id = ${run.runId} and page_no = 1`,
    );
    expect(page1?.n).toBe(100); // staged, yet not committed
    // Page 2 was being fetched while page 1 was staged; the crash dropped it unstaged and uncommitted.
    const [page2] = await rows<{ n: number }>(
      sql`select count(*)::int as n from stage_records where run_id = ${run.runId} and page_no = 2`,
    );
    expect(page2?.n).toBe(0);

    const resumed = await runToCompletion(accountId, connectionId, crashed.state as SyncState);
    expect(resumed.outcomes.at(-1)).toBe("completed");
    expect(resumed.state).toMatchObject({ pageNo: 3, runRecords: 250, status: "COMPLETED" });
    // Pages 0, 1 (crashed), 2 (prefetched, dropped by the crash), 1 again, 2 again: nothing skipped.
    expect((await simSummary(apiKey)).requests.served).toBe(5);
    expect((await stagedIds(connectionId, run.runId ?? "")).size).toBe(250);
  });

  it("a delta over 500 records sharing one updated value loses none", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 40 } } });
    const onboarding = await runToCompletion(accountId, connectionId, inProgress(connectionId, "onboarding"));
    expect(onboarding.state?.status).toBe("COMPLETED");
    const before = onboarding.state?.cursor ?? null;

    const created = await simPost<{ created: number[]; updated: number[]; at: string }>(apiKey, "mutate", {
      entity: "people",
      creates: 480,
      updates: 20,
    });
    const touched = [...created.created, ...created.updated];
    expect(touched).toHaveLength(500);

    const delta = { ...inProgress(connectionId, "delta", before) };
    const result = await runToCompletion(accountId, connectionId, delta);
    expect(result.state?.status).toBe("COMPLETED");
    const staged = await stagedIds(connectionId, delta.runId ?? "");
    expect(touched.filter((id) => !staged.has(id))).toEqual([]);
    // The cursor ends on the shared second with the largest id that carries it.
    expect(result.state?.cursor).toEqual({
      updated: new Date(created.at).toISOString(),
      id: String(Math.max(...touched)),
    });

    // A second delta from that cursor re-reads the overlap (harmless) and still sees all of them.
    const again = inProgress(connectionId, "delta", result.state?.cursor ?? null);
    await runToCompletion(accountId, connectionId, again);
    const second = await stagedIds(connectionId, again.runId ?? "");
    expect(touched.filter((id) => !second.has(id))).toEqual([]);
  });
});

describe("rate limits", () => {
  it("a 429 with Retry-After parks the run without sleeping; the connection makes no call until then", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 300 } } });
    await simPut(apiKey, "faults", { storm: { everyN: 2, durationSec: 2 } });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, inProgress(connectionId, "onboarding"));
      const { deps, close } = await stepDeps(ctx, accountId, connectionId);
      const t0 = Date.now();
      const first = await runSyncStep(deps, "people");
      const elapsed = Date.now() - t0;
      const second = await runSyncStep(deps, "people");
      await close();
      return { first, second, elapsed, t0, state: getSyncState(ctx.storage.sql, connectionId, "people") };
    });
    expect(out.first).toMatchObject({ kind: "parked", reason: "rate_limited" });
    const retryAt = (out.first as { retryAt: number }).retryAt;
    expect(retryAt).toBeGreaterThanOrEqual(out.t0 + 1_900);
    expect(retryAt).toBeLessThanOrEqual(out.t0 + 3_000 + out.elapsed);
    expect(out.elapsed).toBeLessThan(1_500);
    expect(out.second).toEqual({ kind: "parked", reason: "no_budget", retryAt });
    expect(out.state?.pageNo).toBe(1);
    expect((await simSummary(apiKey)).requests).toMatchObject({ served: 1, rateLimited: 1 });
  });

  it("a parked run resumes through the alarm once Retry-After has passed, never calling during the wait", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 300 } } });
    await simPut(apiKey, "faults", { storm: { everyN: 2, durationSec: 2 } });
    const t0 = Date.now();
    await stubFor(accountId).startSync({
      accountId,
      connectionId,
      provider: "fub",
      entities: ["people"],
      mode: "onboarding",
    });
    const parked = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.nextRunAt && s.nextRunAt > Date.now() + 500 ? s : undefined;
    });
    expect(parked.nextRunAt).toBeGreaterThanOrEqual(t0 + 1_900);
    const done = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.status === "COMPLETED" ? s : undefined;
    });
    expect(done.runRecords).toBe(300);
    // ok, 429, ok, 429, ok: every 429 was a storm's first request; none was sent into a running storm.
    expect((await simSummary(apiKey)).requests).toMatchObject({ served: 3, rateLimited: 2 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_000);
  });

  it("the shared budget never exceeds the provider's sliding-window limit", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({
      tenant: { counts: { people: 1_000 }, rateLimit: { limit: 4, limitWithoutSystemKey: 4, windowSec: 1 } },
    });
    await stubFor(accountId).startSync({
      accountId,
      connectionId,
      provider: "fub",
      entities: ["people"],
      mode: "onboarding",
    });
    const done = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.status === "COMPLETED" ? s : undefined;
    }, 25_000);
    expect(done.runRecords).toBe(1_000);
    const summary = await simSummary(apiKey);
    expect(summary.requests.rateLimited).toBe(0);
    expect(summary.requests.served).toBe(10);
    const status = await stubFor(accountId).status([connectionId]);
    expect(status.connections[0]?.rateBudget).toMatchObject({ limit: 4, windowMs: 1_000 });
  });

  it("grants by priority: backfill and delta leave headroom that only webhook fetches may use", async () => {
    const { accountId, connectionId } = await fubAccount();
    const policy = {
      limit: 20,
      windowMs: 60_000,
      headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
    };
    const stub = stubFor(accountId);
    const take = async (priority: "webhook" | "delta" | "backfill", n: number) => {
      let granted = 0;
      for (let i = 0; i < n; i++)
        if ((await stub.acquireBudget(connectionId, priority, policy)).granted) granted++;
      return granted;
    };
    expect(await take("backfill", 25)).toBe(18); // 5% + 5% of 20 held back
    expect(await take("delta", 5)).toBe(1); // the webhook reserve stays
    expect(await take("webhook", 5)).toBe(1);
    const denied = await stub.acquireBudget(connectionId, "webhook", policy);
    expect(denied.granted).toBe(false);
    if (!denied.granted) expect(denied.retryAt).toBeGreaterThan(Date.now() + 50_000);
  });
});

import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { breakerStore } from "../../durable-objects/breaker-store";
import { callProvider } from "../../durable-objects/provider-call";
import { runSyncStep } from "../../durable-objects/sync-runner";
import { putSyncState } from "../../durable-objects/sync-state";
import type { BreakerConfig } from "../../src/core/breaker";
import { rows } from "../support/db";
import {
  admin,
  entityState,
  fubAccount,
  simPut,
  simSummary,
  stepDeps,
  stubFor,
  waitFor,
} from "./account-sync-fixtures";

const cfg: BreakerConfig = {
  windowSize: 20,
  minCalls: 10,
  failureRateThreshold: 0.1,
  openMs: 60_000,
  halfOpenProbes: 2,
};

describe("circuit breaker transitions under a fake clock (persisted in the object's SQLite)", () => {
  it("opens only past minCalls at >= 10%, probes after openMs, closes on probe successes, reopens on a probe failure", async () => {
    const { accountId } = await fubAccount();
    const out = await runInDurableObject(stubFor(accountId), (_i, ctx) => {
      const s = ctx.storage.sql;
      const c = "con_clock";
      const state = () => breakerStore.view(s, c, 0).state;
      const trace: Record<string, unknown> = {};
      // 9 failures in 9 calls: still below minCalls, so closed.
      for (let t = 0; t < 9; t++) breakerStore.failure(s, c, cfg, t);
      trace.belowMinCalls = state();
      breakerStore.force(s, c, null, 0); // reset
      // 18 successes + 1 failure = 19 calls, 5.3%: closed; one more failure = 2/20 = 10%: open.
      for (let t = 0; t < 18; t++) breakerStore.success(s, c, cfg, t);
      breakerStore.failure(s, c, cfg, 18);
      trace.underThreshold = state();
      breakerStore.failure(s, c, cfg, 1_000);
      trace.atThreshold = state();
      trace.blockedBeforeOpenMs = breakerStore.allow(s, c, cfg, 60_999);
      trace.probe1 = breakerStore.allow(s, c, cfg, 61_000).allowed;
      trace.halfOpen = breakerStore.view(s, c, 61_000).state;
      trace.probe2 = breakerStore.allow(s, c, cfg, 61_001).allowed;
      trace.probe3 = breakerStore.allow(s, c, cfg, 61_002).allowed; // both probe slots taken
      breakerStore.success(s, c, cfg, 61_100);
      breakerStore.success(s, c, cfg, 61_200);
      trace.closedAfterProbes = state();
      for (let t = 0; t < 10; t++) breakerStore.failure(s, c, cfg, 70_000 + t);
      trace.reopened = breakerStore.view(s, c, 70_009);
      breakerStore.allow(s, c, cfg, 130_009); // half-open probe
      breakerStore.failure(s, c, cfg, 130_050); // probe fails
      trace.afterFailedProbe = breakerStore.view(s, c, 130_050);
      return trace;
    });
    expect(out.belowMinCalls).toBe("closed");
    expect(out.underThreshold).toBe("closed");
    expect(out.atThreshold).toBe("open");
    expect(out.blockedBeforeOpenMs).toMatchObject({ allowed: false, retryAtMs: 61_000 });
    expect(out).toMatchObject({ probe1: true, halfOpen: "half_open", probe2: true, probe3: false });
    expect(out.closedAfterProbes).toBe("closed");
    expect(out.reopened).toMatchObject({ state: "open", openedAt: 70_009 });
    expect(out.afterFailedProbe).toMatchObject({
      state: "open",
      openedAt: 130_050,
      reopensAt: 190_050,
      transitions: { opened: 3, closed: 1 },
    });
  });

  it("a 429 is rate limiting, not failure: the breaker's window stays empty", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 10 } } });
    await simPut(apiKey, "faults", { storm: { everyN: 1, durationSec: 5 } });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      const { deps, close } = await stepDeps(ctx, accountId, connectionId);
      const r = await callProvider(
        { sql: ctx.storage.sql, fetch: deps.fetch, now: Date.now },
        { connection: deps.connection, priority: "delta", breaker: cfg, timeoutMs: 5_000 },
        `${deps.connection.baseUrl}/v1/people?limit=1`,
      );
      await close();
      return { r, breaker: breakerStore.view(ctx.storage.sql, connectionId, Date.now()) };
    });
    expect(out.r).toMatchObject({ kind: "parked", reason: "rate_limited" });
    expect(out.breaker).toMatchObject({ state: "closed", calls: 0 });
  });

  it("timeouts count as failures (AbortSignal), and the open breaker parks the run until it may probe", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({
      tenant: { counts: { people: 10 } },
      settings: { breaker: { minCalls: 2, windowSize: 4, openMs: 30_000 }, requestTimeoutMs: 200 },
    });
    await simPut(apiKey, "faults", { timeoutRate: 1, timeoutMs: 5_000 });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, {
        connectionId,
        entity: "people",
        provider: "fub",
        mode: "onboarding",
        status: "IN_PROGRESS",
        runId: crypto.randomUUID(),
        pageNo: 0,
        nextUrl: null,
        cursor: null,
        lastSyncAt: null,
        lastStartedAt: Date.now(),
        lastFinishedAt: null,
        recordsSynced: 0,
        runRecords: 0,
        runTotal: null,
        errorMessage: null,
      });
      const { deps, close } = await stepDeps(ctx, accountId, connectionId);
      const t0 = Date.now();
      const first = await runSyncStep(deps, "people");
      const second = await runSyncStep(deps, "people");
      const third = await runSyncStep(deps, "people");
      await close();
      return { first, second, third, t0, elapsed: Date.now() - t0 };
    });
    expect(out.first).toMatchObject({
      kind: "failed",
      error: expect.stringContaining("timed out after 200 ms"),
    });
    expect(out.second.kind).toBe("failed");
    expect(out.third).toMatchObject({ kind: "parked", reason: "breaker_open" });
    const retryAt = (out.third as { retryAt: number }).retryAt;
    expect(retryAt).toBeGreaterThanOrEqual(out.t0 + 30_000);
    expect(out.elapsed).toBeLessThan(3_000);
    expect((await simSummary(apiKey)).requests.served).toBe(2);
  });
});

describe("operator override and eviction", () => {
  it("force open / closed / auto through the admin API; forced open makes no provider call", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 50 } } });
    let res = await admin("POST", `/accounts/${accountId}/breaker`, { connectionId, state: "open" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ connectionId, breaker: { state: "open", mode: "forced_open" } });

    await stubFor(accountId).startSync({
      accountId,
      connectionId,
      provider: "fub",
      entities: ["people"],
      mode: "onboarding",
    });
    const parked = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.nextRunAt && s.nextRunAt > Date.now() + 10_000 ? s : undefined;
    });
    expect(parked.status).toBe("IN_PROGRESS");
    expect((await simSummary(apiKey)).requests.served).toBe(0);

    // Forced closed lets calls through even while every one fails.
    await simPut(apiKey, "faults", { errorRate: 1 });
    res = await admin("POST", `/accounts/${accountId}/connections/${connectionId}/breaker`, {
      mode: "closed",
    });
    expect(await res.json()).toMatchObject({ breaker: { state: "closed", mode: "forced_closed" } });
    await waitFor(async () => (await simSummary(apiKey)).requests.served >= 2);
    const status = await stubFor(accountId).status([connectionId]);
    expect(status.connections[0]?.breaker).toMatchObject({ state: "closed", mode: "forced_closed" });

    await simPut(apiKey, "faults", {});
    res = await admin("POST", `/accounts/${accountId}/breaker`, { connectionId, state: "auto" });
    expect(await res.json()).toMatchObject({ breaker: { state: "closed", mode: "auto", calls: 0 } });
    await waitFor(
      async () => (await entityState(accountId, connectionId, "people"))?.status === "COMPLETED",
      25_000,
    );
  });

  it("rejects bad breaker requests with 4xx JSON and changes nothing", async () => {
    const { accountId, connectionId } = await fubAccount();
    let res = await admin("POST", `/accounts/${accountId}/breaker`, { connectionId, state: "sideways" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    res = await admin("POST", `/accounts/${accountId}/breaker`, { connectionId: "con_nope", state: "open" });
    expect(res.status).toBe(404);
    res = await admin("POST", `/accounts/acc_nope/connections/${connectionId}/breaker`, { mode: "open" });
    expect(res.status).toBe(404);
    const status = await stubFor(accountId).status([connectionId]);
    expect(status.connections[0]?.breaker).toMatchObject({ state: "closed", mode: "auto" });
  });

  it("an opened breaker survives the object being torn down (fresh stub, fresh instance)", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({
      tenant: { counts: { people: 50 } },
      settings: {
        breaker: { minCalls: 3, windowSize: 5, openMs: 120_000 },
        retry: { baseMs: 10, capMs: 50 },
      },
    });
    await simPut(apiKey, "faults", { errorRate: 1 });
    await stubFor(accountId).startSync({
      accountId,
      connectionId,
      provider: "fub",
      entities: ["people"],
      mode: "onboarding",
    });
    const opened = await waitFor(async () => {
      const c = (await stubFor(accountId).status([connectionId])).connections[0];
      return c?.breaker.state === "open" ? c.breaker : undefined;
    });
    // evictDurableObject waits for the object's Postgres sockets to drain, which outlasts the test; aborting
    // every object is the harsher form of the same thing: in-memory state gone, storage kept.
    await abortAllDurableObjects();
    const after = (await stubFor(accountId).status([connectionId])).connections[0];
    expect(after?.breaker).toMatchObject({
      state: "open",
      openedAt: opened.openedAt,
      transitions: { opened: 1 },
    });
    // The new instance's next step is refused by the persisted breaker and parks until it may probe.
    await waitFor(async () => {
      const e = await entityState(accountId, connectionId, "people");
      return (e?.nextRunAt ?? 0) >= (opened.openedAt ?? 0) + 119_000;
    });
    expect((await simSummary(apiKey)).requests.served).toBe(3);
    const [mirror] = await rows(
      sql`select status, error_message from fub_sync_state where connection_id = ${connectionId}`,
    );
    expect(mirror).toMatchObject({ status: "IN_PROGRESS", error_message: expect.stringContaining("HTTP 5") });
  });
});

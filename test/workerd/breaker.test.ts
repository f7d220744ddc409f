import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { breakerStore } from "../../durable-objects/breaker-store";
import { callProvider } from "../../durable-objects/provider-call";
import { syncSettingsFrom } from "../../durable-objects/settings";
import { runSyncStep } from "../../durable-objects/sync-runner";
import { putSyncState } from "../../durable-objects/sync-state";
import type { BreakerConfig } from "../../src/core/breaker";
import { rows, uniqueId } from "../support/db";
import {
  admin,
  entityState,
  freshRun,
  fubAccount,
  simPut,
  simSummary,
  stepDeps,
  stubFor,
  waitFor,
} from "./account-sync-fixtures";

const cfg: BreakerConfig = {
  windowMs: 60_000,
  minCalls: 20,
  failureRateThreshold: 0.1,
  openMs: 60_000,
  halfOpenProbes: 2,
};

describe("circuit breaker transitions under a fake clock (persisted in the object's SQLite)", () => {
  it("counts over a time window: one early failure and expired calls don't open it, 10% of minCalls does; probes close or reopen it", async () => {
    const { accountId } = await fubAccount();
    const out = await runInDurableObject(stubFor(accountId), (_i, ctx) => {
      const s = ctx.storage.sql;
      const c = "con_clock";
      const view = (now: number) => breakerStore.view(s, c, now);
      const trace: Record<string, unknown> = {};
      // The count-based breaker opened on this: one failure in ten calls, the tenth.
      for (let t = 0; t < 9; t++) breakerStore.success(s, c, cfg, t);
      breakerStore.failure(s, c, cfg, 9);
      trace.tenthCallFails = view(9);
      for (let t = 10; t < 20; t++) breakerStore.success(s, c, cfg, t);
      trace.oneEarlyFailure = view(20);
      // A minute and a slice later those 20 calls have left the window.
      trace.expired = view(61_000);
      // 19 failures: below minCalls once the old calls are gone (with them it would be 20 of 39 and open).
      for (let t = 0; t < 19; t++) breakerStore.failure(s, c, cfg, 70_000 + t);
      trace.belowMinCalls = view(70_018);
      breakerStore.failure(s, c, cfg, 70_019);
      trace.atMinCalls = view(70_019);
      trace.blockedBeforeOpenMs = breakerStore.allow(s, c, cfg, 130_018);
      trace.probe1 = breakerStore.allow(s, c, cfg, 130_019).allowed;
      trace.halfOpen = view(130_019).state;
      trace.probe2 = breakerStore.allow(s, c, cfg, 130_020).allowed;
      trace.probe3 = breakerStore.allow(s, c, cfg, 130_021).allowed; // both probe slots taken
      breakerStore.success(s, c, cfg, 130_100);
      breakerStore.success(s, c, cfg, 130_200);
      trace.closedAfterProbes = view(130_200);
      // 18 successes and 2 failures: 10% of 20 calls.
      for (let t = 0; t < 18; t++) breakerStore.success(s, c, cfg, 140_000 + t);
      breakerStore.failure(s, c, cfg, 140_100);
      trace.underThreshold = view(140_100);
      breakerStore.failure(s, c, cfg, 140_200);
      trace.atThreshold = view(140_200);
      breakerStore.allow(s, c, cfg, 200_200); // half-open probe
      breakerStore.failure(s, c, cfg, 200_250); // probe fails
      trace.afterFailedProbe = view(200_250);
      return trace;
    });
    expect(out.tenthCallFails).toMatchObject({ state: "closed", calls: 10, failures: 1 });
    expect(out.oneEarlyFailure).toMatchObject({ state: "closed", calls: 20, failures: 1, failureRate: 0.05 });
    expect(out.expired).toMatchObject({ state: "closed", calls: 0, failures: 0 });
    expect(out.belowMinCalls).toMatchObject({ state: "closed", calls: 19, failures: 19 });
    expect(out.atMinCalls).toMatchObject({ state: "open", openedAt: 70_019, reopensAt: 130_019 });
    expect(out.blockedBeforeOpenMs).toMatchObject({ allowed: false, retryAtMs: 130_019 });
    expect(out).toMatchObject({ probe1: true, halfOpen: "half_open", probe2: true, probe3: false });
    expect(out.closedAfterProbes).toMatchObject({ state: "closed", calls: 0 });
    expect(out.underThreshold).toMatchObject({ state: "closed", calls: 19, failures: 1 });
    expect(out.atThreshold).toMatchObject({ state: "open", openedAt: 140_200, calls: 20, failures: 2 });
    expect(out.afterFailedProbe).toMatchObject({
      state: "open",
      openedAt: 200_250,
      reopensAt: 260_250,
      transitions: { opened: 3, closed: 1 },
    });
  });

  it("real provider failures through callProvider: failures older than the window don't add up", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({
      tenant: { counts: { people: 10 } },
      settings: { breaker: { windowMs: 10_000, minCalls: 3, openMs: 30_000 } },
    });
    await simPut(apiKey, "faults", { errorRate: 1 });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      const { deps, close } = await stepDeps(ctx, accountId, connectionId);
      let clock = Date.now();
      const call = () =>
        callProvider(
          { sql: ctx.storage.sql, fetch: deps.fetch, now: () => clock },
          {
            connection: deps.connection,
            priority: "delta",
            breaker: deps.settings.breaker,
            timeoutMs: 5_000,
          },
          `${deps.connection.baseUrl}/v1/people?limit=1`,
        );
      const view = () => breakerStore.view(ctx.storage.sql, connectionId, clock);
      const trace: Record<string, unknown> = { config: deps.settings.breaker };
      await call();
      await call();
      trace.twoFailures = view();
      clock += 11_000; // past the 10 s window and its last slice
      trace.afterWindow = view();
      trace.third = await call();
      trace.fourth = await call();
      trace.twoFresh = view();
      trace.fifth = await call();
      trace.opened = view();
      trace.parked = await call();
      await close();
      return trace;
    });
    expect(out.config).toEqual({
      windowMs: 10_000,
      minCalls: 3,
      failureRateThreshold: 0.1,
      openMs: 30_000,
      halfOpenProbes: 3,
    });
    expect(out.twoFailures).toMatchObject({ state: "closed", calls: 2, failures: 2 });
    expect(out.afterWindow).toMatchObject({ state: "closed", calls: 0 });
    expect(out.third).toMatchObject({ kind: "failure" });
    expect(out.twoFresh).toMatchObject({ state: "closed", calls: 2, failures: 2 });
    expect(out.fifth).toMatchObject({ kind: "failure" });
    expect(out.opened).toMatchObject({ state: "open", calls: 3, transitions: { opened: 1 } });
    expect(out.parked).toMatchObject({ kind: "parked", reason: "breaker_open" });
    expect((await simSummary(apiKey)).requests.served).toBe(5);
  });

  it("a breaker row stored by the count-based breaker loads and keeps working", async () => {
    const { accountId } = await fubAccount();
    const out = await runInDurableObject(stubFor(accountId), (_i, ctx) => {
      const s = ctx.storage.sql;
      const c = "con_legacy";
      const legacy = {
        state: "open",
        window: [0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
        openedAt: 1_000,
        probesInFlight: 0,
      };
      s.exec(
        "insert into breakers (connection_id, state_json, config_json, opened, closed) values (?, ?, ?, 1, 0)",
        c,
        JSON.stringify(legacy),
        JSON.stringify({
          windowSize: 20,
          minCalls: 10,
          failureRateThreshold: 0.1,
          openMs: 5_000,
          halfOpenProbes: 1,
        }),
      );
      const loaded = breakerStore.view(s, c, 2_000);
      const probe = breakerStore.allow(s, c, cfg, 61_000);
      breakerStore.success(s, c, { ...cfg, halfOpenProbes: 1 }, 61_100);
      return { loaded, probe: probe.allowed, after: breakerStore.view(s, c, 61_100) };
    });
    expect(out.loaded).toMatchObject({
      state: "open",
      calls: 0,
      openedAt: 1_000,
      reopensAt: 6_000,
      config: { windowMs: 60_000, minCalls: 10, openMs: 5_000, halfOpenProbes: 1 },
    });
    expect(out.loaded.config).not.toHaveProperty("windowSize");
    expect(out.probe).toBe(true);
    expect(out.after).toMatchObject({ state: "closed", calls: 0, transitions: { opened: 1, closed: 1 } });
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
      settings: { breaker: { minCalls: 2, openMs: 30_000 }, requestTimeoutMs: 200 },
    });
    await simPut(apiKey, "faults", { timeoutRate: 1, timeoutMs: 5_000 });
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, freshRun(connectionId));
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
        breaker: { minCalls: 3, openMs: 120_000 },
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
    // The step the old instance was in the middle of held its lease; the new instance holds none.
    expect(after?.entities.find((e) => e.entity === "people")?.lease ?? null).toBeNull();
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

describe("breaker settings on a connection", () => {
  const post = (accountId: string, bearer: string, body: unknown) =>
    exports.default.fetch(`http://etl.test/admin/accounts/${accountId}/connections`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const connectionsOf = (accountId: string) =>
    rows<{ id: string; settings: Record<string, unknown> }>(
      sql`select id, settings from connections where account_id = ${accountId} order by id`,
    );

  it("only the admin token may set settings.breaker: an account key gets 403 and nothing is stored", async () => {
    const created = await admin("POST", "/accounts", { id: uniqueId("acc"), name: "breaker settings" });
    const { account, apiKey } = await created.json<{ account: { id: string }; apiKey: string }>();
    const denied = await post(account.id, apiKey, {
      provider: "fub",
      credentials: { apiKey: "k" },
      settings: { breaker: { failureRateThreshold: 1 } },
    });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({
      error: { code: "forbidden", message: "only the admin token can set settings.breaker" },
    });
    expect(await connectionsOf(account.id)).toHaveLength(0);

    // Other settings stay the account's own business.
    const allowed = await post(account.id, apiKey, {
      provider: "fub",
      credentials: { apiKey: "k" },
      settings: { requestTimeoutMs: 5_000 },
    });
    expect(allowed.status).toBe(201);

    const id = uniqueId("con");
    const byAdmin = await post(account.id, env.ADMIN_TOKEN, {
      id,
      provider: "fub",
      credentials: { apiKey: "k" },
      settings: { breaker: { windowMs: 120_000, minCalls: 40 } },
    });
    expect(byAdmin.status).toBe(201);
    const stored = (await connectionsOf(account.id)).find((c) => c.id === id);
    expect(stored?.settings).toEqual({ breaker: { windowMs: 120_000, minCalls: 40 } });
    expect(syncSettingsFrom(stored?.settings).breaker).toEqual({
      windowMs: 120_000,
      minCalls: 40,
      failureRateThreshold: 0.1,
      openMs: 60_000,
      halfOpenProbes: 3,
    });
  });

  it("bad breaker settings answer 400 with a JSON error and store nothing, even for the admin token", async () => {
    const created = await admin("POST", "/accounts", { id: uniqueId("acc"), name: "bad breaker settings" });
    const { account } = await created.json<{ account: { id: string } }>();
    for (const breaker of [
      { windowSize: 20 },
      { windowMs: 10 },
      { windowMs: "60000" },
      { minCalls: 0 },
      { minCalls: 2.5 },
      { failureRateThreshold: 0 },
      { failureRateThreshold: 1.01 },
      { openMs: 0 },
      { halfOpenProbes: 1_000 },
      "fast",
      null,
    ]) {
      const res = await post(account.id, env.ADMIN_TOKEN, {
        provider: "fub",
        credentials: { apiKey: "k" },
        settings: { breaker },
      });
      expect(res.status, JSON.stringify(breaker)).toBe(400);
      const body = await res.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe("invalid_request");
      expect(body.error.message).toMatch(/^settings\.breaker/);
    }
    expect(await connectionsOf(account.id)).toHaveLength(0);
  });
});

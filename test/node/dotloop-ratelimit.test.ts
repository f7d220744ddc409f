import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-dotloop/main";
import { CLEAN_TABLES, compareDotloop, DOTLOOP_ENTITIES, truthOf, waitDrained } from "./dotloop-support";
import { waitSettled } from "./fub-support";

// A Dotloop backfill against the published limit, unscaled: 100 requests per 60 s per user, a fixed window
// that opens at the first request after the previous one closed, `X-RateLimit-Reset` in milliseconds. The
// data needs about 230 requests, so the backfill spans two whole windows and part of a third (about 2.5
// minutes); every window that closed during it is measured at the simulator, which counts what it admitted
// and what it refused.
const USER = 7171;
const CLIENT_ID = "rl-dotloop-client";
const CLIENT_SECRET = "rl-dotloop-secret";
const accountId = "acc_dotloop_rl";
const LIMIT = 100;

let dl: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-dotloop-rl-"));
  dl = await startSimulator(0, {
    clients: { [CLIENT_ID]: CLIENT_SECRET },
    users: { [USER]: { seed: 77, counts: { profiles: 2, loopsPerProfile: 32, contacts: 60 } } },
  });
  const workerPort = await freePort();
  stack = await startStack({
    mode: "test",
    workerPort,
    adminToken: "rl-dotloop-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    extraVars: {
      OAUTH_STATE_SECRET: "rl-dotloop-state-secret-0123456789",
      OAUTH_DOTLOOP_CLIENT_ID: CLIENT_ID,
      OAUTH_DOTLOOP_CLIENT_SECRET: CLIENT_SECRET,
      OAUTH_DOTLOOP_AUTH_BASE_URL: dl.url,
      OAUTH_DOTLOOP_API_BASE_URL: `${dl.url}/public/v2`,
      OAUTH_REDIRECT_BASE_URL: `http://127.0.0.1:${workerPort}`,
    },
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  await admin.createAccount(accountId, "Dotloop rate limit");
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await dl?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("Dotloop rate limit: a backfill uses the budget and is never refused", () => {
  it(">= 0.95 of 100 requests per minute in every whole window of the backfill, 0 429s", {
    timeout: 420_000,
  }, async () => {
    const started = await admin.ok<{ authorizeUrl: string }>(
      "GET",
      `/admin/accounts/${accountId}/connections/new/oauth/start?provider=dotloop`,
    );
    const authorize = await fetch(started.authorizeUrl, { redirect: "manual" });
    const callback = await fetch(authorize.headers.get("location") ?? "", { redirect: "manual" });
    expect(callback.status, await callback.clone().text()).toBe(201);
    const t0 = Date.now();
    await waitSettled(
      admin,
      stack.databaseUrl,
      accountId,
      DOTLOOP_ENTITIES,
      "rate-limited backfill",
      360_000,
    );
    const elapsedMs = Date.now() - t0;
    const user = dl.sim.users.get(USER);
    if (!user) throw new Error("no simulator user");
    const windows = [...user.rate.history] as { start: number; admitted: number; refused: number }[];
    const report = {
      elapsedMs,
      served: user.stats.served,
      rateLimited: user.stats.rateLimited,
      windows: windows.map((w) => `${w.admitted}${w.refused ? `(${w.refused} refused)` : ""}`),
      current: user.rate.current(),
    };
    console.log(`dotloop rate limit: ${JSON.stringify(report)}`);
    // Closed windows are whole windows of the backfill: the one open when it ended is not counted.
    expect(windows.length).toBeGreaterThanOrEqual(2);
    expect(user.stats.rateLimited).toBe(0);
    expect(windows.reduce((n, w) => n + w.refused, 0)).toBe(0);
    for (const w of windows) expect(w.admitted / LIMIT).toBeGreaterThanOrEqual(0.95);
    // And the backfill is exact, so the pace was not bought with skipped records.
    await waitDrained(stack.databaseUrl, accountId);
    expect(await compareDotloop(stack.databaseUrl, accountId, await truthOf(dl, USER))).toEqual(CLEAN_TABLES);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authoriseDotloop,
  CLEAN_TABLES,
  compareDotloop,
  DOTLOOP_ENTITIES,
  type DotloopStack,
  startDotloopStack,
  truthOf,
  waitDrained,
} from "./dotloop-support";
import { waitSettled } from "./fub-support";

// A Dotloop backfill against the published limit, unscaled: 100 requests per 60 s per user, a fixed window
// that opens at the first request after the previous one closed, `X-RateLimit-Reset` in milliseconds. The
// data needs about 250 requests, so the backfill spans two whole windows and part of a third (about 2.5
// minutes); every window that closed during it is measured at the simulator, which counts what it admitted
// and what it refused.
const USER = 7171;
const CLIENT_ID = "rl-dotloop-client";
const CLIENT_SECRET = "rl-dotloop-secret";
const accountId = "acc_dotloop_rl";
const LIMIT = 100;

let env: DotloopStack;

beforeAll(async () => {
  env = await startDotloopStack({
    name: "dotloop-rl",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    users: { [USER]: { seed: 77, counts: { profiles: 2, loopsPerProfile: 20, contacts: 60 } } },
  });
  await env.admin.createAccount(accountId, "Dotloop rate limit");
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

describe("Dotloop rate limit: a backfill uses the budget and is never refused", () => {
  it(">= 0.95 of 100 requests per minute in every whole window of the backfill, 0 429s", {
    timeout: 420_000,
  }, async () => {
    const connected = await authoriseDotloop(env, accountId);
    expect(connected.status, JSON.stringify(connected.body)).toBe(201);
    const t0 = Date.now();
    await waitSettled(
      env.admin,
      env.stack.databaseUrl,
      accountId,
      DOTLOOP_ENTITIES,
      "rate-limited backfill",
      360_000,
    );
    const elapsedMs = Date.now() - t0;
    const user = env.dl.sim.users.get(USER);
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
    await waitDrained(env.stack.databaseUrl, accountId);
    expect(await compareDotloop(env.stack.databaseUrl, accountId, await truthOf(env.dl, USER))).toEqual(
      CLEAN_TABLES,
    );
  });
});

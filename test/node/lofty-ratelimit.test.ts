import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-lofty/main";

// Lofty's three rate tiers at real time, at once against one simulator: a bare personal key (10 a minute), a
// development app (100) and a production app (500), each a connection of its own account onboarding the same
// team (about 760 requests of work: leads, members, transactions, and each lead's notes, calls, activities).
// The simulator counts per credential in fixed 60 s windows opening at the first request (the 4 webhook
// subscriptions a connection makes when created included) and sends `X-RateLimit-Reset` as epoch seconds.
// Each tier's first whole window is measured: used / limit >= 0.95, and no 429 at any tier.
const TIERS = [
  { key: "rl-lofty-10", limit: 10 },
  { key: "rl-lofty-100", limit: 100 },
  { key: "rl-lofty-500", limit: 500 },
];

let lf: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-lofty-rl-"));
  lf = await startSimulator(0, {
    seed: 99,
    counts: { leads: 250, members: 30, transactions: 10 },
    keys: Object.fromEntries(TIERS.map((t) => [t.key, t.limit])),
    faults: { allowHttpCallbacks: true, webhookDelayMs: 3_600_000 },
  });
  stack = await startStack({
    mode: "test",
    adminToken: "rl-lofty-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await lf?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("Lofty rate tiers: each uses its budget and is never refused", () => {
  it(">= 0.95 of 10, 100 and 500 requests per minute in a whole window, 0 429s", {
    timeout: 240_000,
  }, async () => {
    for (const t of TIERS) {
      const accountId = `acc_lofty_rl_${t.limit}`;
      await admin.createAccount(accountId, `Lofty ${t.limit}/min`);
      await admin.createConnection(accountId, {
        id: `con_lofty_rl_${t.limit}`,
        provider: "lofty",
        credentials: { apiKey: t.key },
        baseUrl: lf.url,
      });
    }
    await Promise.all(
      TIERS.map((t) =>
        admin.sync(`acc_lofty_rl_${t.limit}`, {
          connectionId: `con_lofty_rl_${t.limit}`,
          mode: "onboarding",
        }),
      ),
    );
    // A window is whole once the next request has opened the one after it.
    await waitFor(
      "a closed window at every tier",
      async () => TIERS.every((t) => (lf.sim.windows.get(t.key)?.history.length ?? 0) >= 1),
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
    const report = TIERS.map((t) => {
      const w = lf.sim.windows.get(t.key);
      const first = w?.history[0] ?? { admitted: 0, refused: 0 };
      return {
        limit: t.limit,
        used: first.admitted,
        share: first.admitted / t.limit,
        refused: (w?.history ?? []).reduce((n, x) => n + x.refused, 0) + (w?.current().refused ?? 0),
        windows: (w?.history ?? []).map((x) => x.admitted),
      };
    });
    console.log(`lofty rate tiers: ${JSON.stringify(report)}`);
    expect(lf.sim.stats.rateLimited).toBe(0);
    for (const r of report) {
      expect(r.refused, `${r.limit}/min refused`).toBe(0);
      expect(r.share, `${r.limit}/min used ${r.used}`).toBeGreaterThanOrEqual(0.95);
      expect(r.used, `${r.limit}/min over its limit`).toBeLessThanOrEqual(r.limit);
    }
  });
});

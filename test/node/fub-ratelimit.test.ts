import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { SimulatorClient } from "../../tools/lib/simulator-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type LoggedRequest, maxInWindow, startRequestLog } from "./fub-support";

// Onboardings that need several rate-limit windows, with a logging proxy between the platform and the
// simulator: the proxy sees every attempt, refused ones included, which is what "never exceeded" is about.
const WINDOW_MS = 10_000;

let stack: Stack;
let admin: AdminClient;
let sim: SimulatorClient;
let persistTo: string;
const proxies: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-fub-rl-"));
  stack = await startStack({
    mode: "test",
    adminToken: "rl-admin-token",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  sim = new SimulatorClient(stack.simulatorUrl);
}, 180_000);

afterAll(async () => {
  for (const p of proxies) await p.close();
  await stack?.stop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

/** Requests (and 429s) per consecutive 10 s bucket from the first request, for the report. */
function buckets(log: LoggedRequest[]): string[] {
  const t0 = log[0]?.at ?? 0;
  const out: { n: number; refused: number }[] = [];
  for (const r of log) {
    const b = Math.floor((r.at - t0) / WINDOW_MS);
    while (out.length <= b) out.push({ n: 0, refused: 0 });
    const slot = out[b] as { n: number; refused: number };
    slot.n++;
    if (r.status === 429) slot.refused++;
  }
  return out.map((x) => (x.refused ? `${x.n}(${x.refused}x429)` : String(x.n)));
}

type EntityState = { entity: string; status: string; runRecords?: number };
type ContextView = { context: string; limit: number; usedInWindow: number; remaining: number };
type Status = { connections: { entities: EntityState[]; rateBudget: { contexts: ContextView[] } | null }[] };

/** The context FUB counts a request in: `GET /v1/events` apart, everything else global (the platform only GETs). */
const isEvents = (r: LoggedRequest) => r.path === "/v1/events" || r.path.startsWith("/v1/events/");

/** Per context: the most attempts and the most admitted requests in any sliding 10 s window, and the 429s. */
function perContext(api: LoggedRequest[]) {
  const of = (log: LoggedRequest[]) => ({
    requests: log.length,
    maxAttemptsIn10s: maxInWindow(
      log.map((r) => r.at),
      WINDOW_MS,
    ).max,
    maxAdmittedIn10s: maxInWindow(
      log.filter((r) => r.status !== 429).map((r) => r.at),
      WINDOW_MS,
    ).max,
    refused: log.filter((r) => r.status === 429).length,
  });
  return { global: of(api.filter((r) => !isEvents(r))), events: of(api.filter(isEvents)) };
}

/** Onboards a fresh account from a fresh tenant through a logging proxy and returns what the proxy saw. */
async function onboardThroughProxy(opts: {
  name: string;
  counts: Record<string, number>;
  rateLimit?: { limit: number; windowSec: number };
  timeoutMs: number;
}) {
  const apiKey = `rl-${opts.name}-key`;
  const systemKey = `rl-${opts.name}-system`;
  const accountId = `acc_fub_rl_${opts.name}`;
  await sim.putTenant(apiKey, {
    seed: 250,
    systemKey,
    counts: opts.counts,
    ...(opts.rateLimit ? { rateLimit: opts.rateLimit } : {}),
  });
  const proxy = await startRequestLog(stack.simulatorUrl);
  proxies.push(proxy);
  await admin.createAccount(accountId, `Rate limit ${opts.name}`);
  await admin.createConnection(accountId, {
    id: `con_fub_rl_${opts.name}`,
    provider: "fub",
    credentials: { apiKey, systemKey, system: "edge-etl-rl" },
    baseUrl: proxy.url,
  });
  const entities = Object.keys(opts.counts);
  const started = Date.now();
  await admin.sync(accountId, { mode: "onboarding" });
  const states = await waitFor(
    `onboarding of every entity (${opts.name})`,
    async () => {
      const s = (await admin.status<Status>(accountId)).connections.flatMap((c) => c.entities);
      const failed = s.find((e) => e.status === "ERROR");
      if (failed) throw new Error(`sync failed: ${JSON.stringify(failed)}`);
      return entities.every((e) => s.find((x) => x.entity === e)?.status === "COMPLETED") ? s : false;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 1_000 },
  );
  const elapsedMs = Date.now() - started;
  const api = proxy.log.filter((r) => r.path.startsWith("/v1/"));
  const refused = api.filter((r) => r.status === 429);
  const tenant = await sim.tenant<{ requests: { served: number; rateLimited: number } }>(apiKey);
  const report = {
    case: opts.name,
    requests: api.length,
    // Texts are listed per person (FUB answers 400 without a personId): at least one request per person.
    expectedPages: Object.entries(opts.counts).reduce(
      (n, [entity, c]) =>
        n + (entity === "textMessages" ? (opts.counts.people ?? 0) : Math.max(1, Math.ceil(c / 100))),
      0,
    ),
    records: Object.values(opts.counts).reduce((n, c) => n + c, 0),
    synced: states.reduce((n, s) => n + (s.runRecords ?? 0), 0),
    elapsedMs,
    maxAttemptsIn10s: maxInWindow(
      api.map((r) => r.at),
      WINDOW_MS,
    ).max,
    maxAdmittedIn10s: maxInWindow(
      api.filter((r) => r.status !== 429).map((r) => r.at),
      WINDOW_MS,
    ).max,
    refused: refused.length,
    contexts: perContext(api),
    simulator: tenant.requests,
    per10s: buckets(api),
    events10s: buckets(api.filter(isEvents)),
  };
  console.log(JSON.stringify(report));
  const budget = (await admin.status<Status>(accountId)).connections[0]?.rateBudget ?? null;
  return { report, api, refused, budget };
}

function expectHonoured(api: LoggedRequest[], refused: LoggedRequest[]) {
  // Honoured: after a 429 nothing more went out in its context before its Retry-After had passed (the other
  // context may go on).
  for (const r of refused) {
    expect(r.retryAfterSec).not.toBeNull();
    const next = api.find((x) => x.at > r.at && isEvents(x) === isEvents(r));
    if (next) expect(next.at - r.at).toBeGreaterThanOrEqual((r.retryAfterSec ?? 0) * 1000 - 50);
  }
}

describe("FUB rate limit", () => {
  it("at FUB's real limits (global 250 and events 20 per sliding 10 s with a system key) an onboarding of every entity at once, people and events included, keeps to each context with no 429", {
    timeout: 300_000,
  }, async () => {
    const { report, budget } = await onboardThroughProxy({
      name: "real",
      // Texts are listed per person, so people set the request count: 2,500 people are ~2,550 global requests
      // (ten windows at the limit), beside 90 events pages in their own context.
      counts: {
        people: 2_500,
        deals: 1_500,
        events: 9_000,
        calls: 2_000,
        textMessages: 2_000,
        appointments: 800,
        users: 40,
        groups: 8,
        stages: 12,
      },
      timeoutMs: 280_000,
    });
    // Every page fetched, more than two windows' worth of requests at the limit, every record through
    // (trashed people included: the connector lists with includeTrash=true).
    expect(report.requests).toBeGreaterThanOrEqual(report.expectedPages);
    expect(report.requests).toBeGreaterThan(2 * 250);
    expect(report.synced).toBeGreaterThanOrEqual(report.records);
    expect(report.simulator.served + report.simulator.rateLimited).toBe(report.requests);
    expect(report.simulator.rateLimited).toBe(report.refused);
    const { global, events } = report.contexts;
    // Over every sliding 10 s window, each context within its own limit, and nothing refused in either.
    expect(global.maxAttemptsIn10s).toBeLessThanOrEqual(250);
    expect(events.maxAttemptsIn10s).toBeLessThanOrEqual(20);
    expect(global.refused).toBe(0);
    expect(events.refused).toBe(0);
    expect(report.refused).toBe(0);
    // Events needed several of its windows, and used them (a lone backfill keeps one slot per idle reserve),
    // while people went on in the global context at the same time.
    expect(events.requests).toBeGreaterThanOrEqual(90);
    expect(events.maxAdmittedIn10s).toBeGreaterThanOrEqual(18);
    expect(global.maxAdmittedIn10s).toBeGreaterThan(20);
    // The status shows each context's own budget.
    expect(budget?.contexts.map((c) => [c.context, c.limit])).toEqual([
      ["global", 250],
      ["events", 20],
    ]);
  });

  it("with a limit the sync can actually reach (simulator set to 20 per 10 s) the budget learns it from X-RateLimit-* headers and stays under it", {
    timeout: 300_000,
  }, async () => {
    // The connector declares 250; only the provider's headers can tell the budget otherwise.
    const { report, api, refused } = await onboardThroughProxy({
      name: "tight",
      counts: {
        people: 200,
        deals: 100,
        events: 100,
        calls: 100,
        textMessages: 100,
        appointments: 100,
        users: 20,
        groups: 4,
        stages: 12,
      },
      rateLimit: { limit: 20, windowSec: 10 },
      timeoutMs: 280_000,
    });
    expect(report.requests).toBeGreaterThanOrEqual(report.expectedPages);
    // Several windows were needed, so the limit was binding for most of the run.
    expect(report.elapsedMs).toBeGreaterThan(3 * WINDOW_MS);
    expect(report.synced).toBeGreaterThanOrEqual(report.records);
    expect(report.simulator.served + report.simulator.rateLimited).toBe(report.requests);
    // Both contexts are at 20 here, each counted apart.
    expect(report.contexts.global.maxAttemptsIn10s).toBeLessThanOrEqual(20);
    expect(report.contexts.events.maxAttemptsIn10s).toBeLessThanOrEqual(20);
    expect(report.refused).toBeLessThanOrEqual(5);
    expectHonoured(api, refused);
  });
});

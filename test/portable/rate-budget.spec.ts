import {
  budgetSnapshot,
  initialRateBudgetState,
  observeRateHeaders,
  onRateLimited,
  type Priority,
  type RateBudgetConfig,
  type RateBudgetState,
  RESERVE_IDLE_WINDOWS,
  takeToken,
} from "../../src/core/rate-budget";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const FUB: RateBudgetConfig = { limit: 250, windowMs: 10_000, reserve: { webhook: 0.05, delta: 0.05 } };
const SMALL: RateBudgetConfig = { limit: 100, windowMs: 10_000, reserve: { webhook: 0.05, delta: 0.05 } };

function headers(values: Record<string, string>) {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower.get(name.toLowerCase()) ?? null };
}

/** Takes tokens for one priority at a fixed time until refused. */
function drain(s: RateBudgetState, cfg: RateBudgetConfig, now: number, priority: Priority) {
  let state = s;
  let granted = 0;
  for (;;) {
    const r = takeToken(state, cfg, now, priority);
    state = r.state;
    if (!r.granted) return { state, granted, waitMs: r.waitMs };
    granted++;
  }
}

/** Webhook and delta each take a slot at `now`, so their whole reserves hold for a while. */
function withActiveReserves(cfg: RateBudgetConfig, now: number): RateBudgetState {
  let s = initialRateBudgetState();
  for (const p of ["webhook", "delta"] as const) {
    const r = takeToken(s, cfg, now, p);
    assertTrue(r.granted, `${p} slot`);
    s = r.state;
  }
  return s;
}

/** Small deterministic PRNG so the simulation is the same in every runtime. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("rate budget: while webhook and delta are active, their reserves hold per priority", () => {
  const backfill = drain(withActiveReserves(SMALL, 0), SMALL, 0, "backfill");
  assertEqual(backfill.granted, 88);
  const delta = drain(backfill.state, SMALL, 0, "delta");
  assertEqual(delta.granted, 5);
  const webhook = drain(delta.state, SMALL, 0, "webhook");
  assertEqual(webhook.granted, 5);
  assertEqual(budgetSnapshot(webhook.state, SMALL, 0).remaining, 0);
  assertEqual(webhook.waitMs, 10_000);
});

test("rate budget: an idle reserve is lent but for one slot, and its first grant takes it back", () => {
  // Nobody above backfill has asked: it may take all but one slot for each of them.
  const backfill = drain(initialRateBudgetState(), SMALL, 0, "backfill");
  assertEqual(backfill.granted, 98);
  // A lone webhook still goes at once...
  const webhook = takeToken(backfill.state, SMALL, 1, "webhook");
  assertTrue(webhook.granted, "the webhook's kept slot");
  // ...and from then on its whole reserve holds against delta and backfill.
  assertEqual(takeToken(webhook.state, SMALL, 2, "delta").granted, false);
  const later = drain(webhook.state, SMALL, 20_000, "backfill");
  assertEqual(later.granted, 100 - 5 - 1, "webhook active (5), delta idle (1)");
  // Three windows without a webhook grant: lent again.
  assertEqual(drain(webhook.state, SMALL, 30_001, "backfill").granted, 98);
});

test("rate budget: waitMs is the exact time until a usable slot frees", () => {
  let s = withActiveReserves(SMALL, 0);
  for (let t = 0; t < 88; t++) {
    const r = takeToken(s, SMALL, t, "backfill");
    assertTrue(r.granted, `grant at ${t}`);
    s = r.state;
  }
  const refused = takeToken(s, SMALL, 100, "backfill");
  assertEqual(refused.granted, false);
  if (refused.granted) return;
  assertEqual(refused.waitMs, 9_900);
  assertEqual(takeToken(s, SMALL, 9_999, "backfill").granted, false);
  assertEqual(takeToken(s, SMALL, 10_000, "backfill").granted, true);
  // Delta may still use the slots backfill must leave.
  assertEqual(takeToken(s, SMALL, 100, "delta").granted, true);
});

test("rate budget: a burst at the end of a window can't be followed by another (no 2x)", () => {
  let s = initialRateBudgetState();
  s = drain(s, FUB, 9_999, "webhook").state;
  const next = takeToken(s, FUB, 10_001, "webhook");
  assertEqual(next.granted, false);
  if (!next.granted) assertEqual(next.waitMs, 9_998);
});

test("rate budget: state survives a JSON roundtrip", () => {
  let s = drain(initialRateBudgetState(), SMALL, 5, "backfill").state;
  s = onRateLimited(s, 5, 1000, SMALL);
  const copy = JSON.parse(JSON.stringify(s)) as RateBudgetState;
  assertDeepEqual(copy, s);
  assertDeepEqual(budgetSnapshot(copy, SMALL, 6), budgetSnapshot(s, SMALL, 6));
});

test("rate budget: 429 blocks every priority until Retry-After, else a full window", () => {
  let s = onRateLimited(initialRateBudgetState(), 1_000, 3_000, SMALL);
  const r = takeToken(s, SMALL, 1_500, "webhook");
  assertEqual(r.granted, false);
  if (!r.granted) assertEqual(r.waitMs, 2_500);
  assertEqual(budgetSnapshot(s, SMALL, 1_500).blockedUntil, 4_000);
  assertEqual(takeToken(s, SMALL, 4_000, "backfill").granted, true);
  assertEqual(budgetSnapshot(s, SMALL, 4_000).blockedUntil, null);

  s = onRateLimited(initialRateBudgetState(), 1_000, null, SMALL);
  assertEqual(s.blockedUntil, 11_000);
  // A shorter second Retry-After doesn't shorten the block.
  assertEqual(onRateLimited(s, 2_000, 10, SMALL).blockedUntil, 11_000);
});

test("rate budget: adopts the provider's limit and window", () => {
  const s = observeRateHeaders(
    initialRateBudgetState(),
    SMALL,
    0,
    headers({ "X-RateLimit-Limit": "300", "X-RateLimit-Window": "20" }),
  );
  const snap = budgetSnapshot(s, SMALL, 0);
  assertEqual(snap.limit, 300);
  assertEqual(snap.windowMs, 20_000);
  assertEqual(drain(s, SMALL, 0, "webhook").granted, 300);
});

test("rate budget: pads the log when the provider reports fewer remaining", () => {
  let s = drain(withActiveReserves(SMALL, 0), SMALL, 0, "backfill").state;
  assertEqual(budgetSnapshot(s, SMALL, 1_000).usedInWindow, 90);
  // Someone else on the same context used 6 more; the provider resets in 4 s (a delta, not epoch seconds).
  s = observeRateHeaders(
    s,
    SMALL,
    1_000,
    headers({ "X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "4" }),
  );
  assertEqual(budgetSnapshot(s, SMALL, 1_000).usedInWindow, 96);
  assertEqual(drain(s, SMALL, 1_000, "webhook").granted, 4);
  // The padded entries expire at the reported reset.
  assertEqual(budgetSnapshot(s, SMALL, 4_999).usedInWindow, 96);
  assertEqual(budgetSnapshot(s, SMALL, 5_000).usedInWindow, 90);

  const epoch = 1_700_000_000_000;
  let e = observeRateHeaders(
    initialRateBudgetState(),
    SMALL,
    epoch,
    headers({ "X-RateLimit-Remaining": "10", "X-RateLimit-Reset": String(epoch / 1000 + 2) }),
  );
  assertEqual(budgetSnapshot(e, SMALL, epoch).usedInWindow, 90);
  assertEqual(budgetSnapshot(e, SMALL, epoch + 2_000).usedInWindow, 0);
  // More remaining than we think is not trusted: our own in-flight calls aren't counted there yet.
  e = observeRateHeaders(e, SMALL, epoch, headers({ "X-RateLimit-Remaining": "100" }));
  assertEqual(budgetSnapshot(e, SMALL, epoch).usedInWindow, 90);
});

test("rate budget: custom header names", () => {
  const s = observeRateHeaders(
    initialRateBudgetState(),
    SMALL,
    0,
    headers({ "RateLimit-Limit": "50", "RateLimit-Remaining": "0" }),
    { limit: "RateLimit-Limit", remaining: "RateLimit-Remaining" },
  );
  const snap = budgetSnapshot(s, SMALL, 0);
  assertEqual(snap.limit, 50);
  assertEqual(snap.remaining, 0);
});

type Grant = { t: number; priority: Priority; used: number; waited: number };

/**
 * Event-driven clock: each priority has a queue of request arrival times, retries
 * exactly after waitMs when refused, and goes again immediately when granted.
 */
function simulate(cfg: RateBudgetConfig, horizon: number, arrivals: Record<Priority, number[]>): Grant[] {
  type Actor = { priority: Priority; pending: number[]; nextAt: number };
  // Order matters for ties: the higher priority asks first at the same instant.
  const actors: Actor[] = (["webhook", "delta", "backfill"] as const).map((priority) => ({
    priority,
    pending: [...arrivals[priority]].sort((a, b) => a - b),
    nextAt: 0,
  }));
  const due = (a: Actor) => Math.max(a.nextAt, a.pending[0] ?? Number.POSITIVE_INFINITY);
  let s = initialRateBudgetState();
  const grants: Grant[] = [];
  for (;;) {
    let actor: Actor | undefined;
    for (const a of actors) if (due(a) < horizon && (!actor || due(a) < due(actor))) actor = a;
    if (!actor) return grants;
    const now = due(actor);
    const r = takeToken(s, cfg, now, actor.priority);
    s = r.state;
    if (r.granted) {
      const arrival = actor.pending.shift()!;
      const used = budgetSnapshot(s, cfg, now).usedInWindow;
      grants.push({ t: now, priority: actor.priority, used, waited: now - arrival });
      actor.nextAt = now;
    } else {
      assertTrue(r.waitMs > 0, "waitMs must move time forward");
      actor.nextAt = now + r.waitMs;
    }
  }
}

/** The most grants found in any sliding window [t, t + windowMs). */
function busiestWindow(grants: Grant[], windowMs: number): number {
  const times = grants.map((g) => g.t);
  let hi = 0;
  let worst = 0;
  for (let lo = 0; lo < times.length; lo++) {
    while (hi < times.length && times[hi]! < times[lo]! + windowMs) hi++;
    worst = Math.max(worst, hi - lo);
  }
  return worst;
}

const backfillCeiling = FUB.limit - Math.round((FUB.reserve.webhook + FUB.reserve.delta) * FUB.limit);

/** Each grant against the ceiling of its priority at that moment: a reserve holds while its owner is active. */
function assertCeilings(grants: Grant[]): void {
  const last: Partial<Record<Priority, number>> = {};
  const reserveOf = (p: "webhook" | "delta", t: number) => {
    const at = last[p];
    return at !== undefined && t - at < RESERVE_IDLE_WINDOWS * FUB.windowMs ? FUB.reserve[p] * FUB.limit : 1;
  };
  for (const g of grants) {
    if (g.priority === "backfill") {
      const ceiling = FUB.limit - Math.ceil(reserveOf("webhook", g.t) + reserveOf("delta", g.t) - 1e-9);
      assertTrue(g.used <= ceiling, `backfill took slot ${g.used} of ${ceiling}`);
    }
    if (g.priority === "delta") {
      const ceiling = FUB.limit - Math.ceil(reserveOf("webhook", g.t) - 1e-9);
      assertTrue(g.used <= ceiling, `delta took slot ${g.used} of ${ceiling}`);
    }
    last[g.priority] = g.t;
  }
}

const greedy = () => Array.from({ length: 10_000 }, () => 0);

test("rate budget: 60 s, every priority greedy: never over the window, >= 95% of the theoretical max", () => {
  const horizon = 60_000;
  const grants = simulate(FUB, horizon, { webhook: greedy(), delta: greedy(), backfill: greedy() });
  const worst = busiestWindow(grants, FUB.windowMs);
  assertTrue(worst <= FUB.limit, `a window held ${worst} grants`);
  const theoreticalMax = FUB.limit * (horizon / FUB.windowMs);
  assertTrue(grants.length >= 0.95 * theoreticalMax, `only ${grants.length} of ${theoreticalMax} grants`);
  assertCeilings(grants);
  // Strict priority: a greedy webhook consumer is served first and may starve the others.
  assertEqual(grants.filter((g) => g.priority === "webhook").length, grants.length);
  // Alone, backfill may use the idle reserves but for one slot each: 248 of every 250.
  const backfillOnly = simulate(FUB, horizon, { webhook: [], delta: [], backfill: greedy() });
  assertEqual(backfillOnly.length, (FUB.limit - 2) * (horizon / FUB.windowMs));
});

test("rate budget: 60 s, greedy backfill + delta bursts + webhooks: priorities and reserves hold", () => {
  const horizon = 60_000;
  const rand = mulberry32(7);
  const webhook = Array.from({ length: 60 }, () => Math.floor(rand() * horizon));
  const delta: number[] = [];
  for (let t = 0; t < horizon; t += 5_000) for (let i = 0; i < 5; i++) delta.push(t);
  const grants = simulate(FUB, horizon, { webhook, delta, backfill: greedy() });

  const worst = busiestWindow(grants, FUB.windowMs);
  assertTrue(worst <= FUB.limit, `a window held ${worst} grants`);
  assertCeilings(grants);
  // Deltas keep the delta reserve active and webhooks soon the webhook one: the bar is the backfill ceiling.
  const achievable = backfillCeiling * (horizon / FUB.windowMs);
  assertTrue(grants.length >= 0.95 * achievable, `only ${grants.length} of ${achievable} grants`);

  const webhooks = grants.filter((g) => g.priority === "webhook");
  assertEqual(webhooks.length, webhook.length);
  assertEqual(Math.max(...webhooks.map((g) => g.waited)), 0, "webhooks never wait behind a greedy backfill");
  const deltas = grants.filter((g) => g.priority === "delta");
  assertEqual(deltas.length, delta.length);
  assertTrue(Math.max(...deltas.map((g) => g.waited)) < FUB.windowMs, "delta waits less than a window");
});

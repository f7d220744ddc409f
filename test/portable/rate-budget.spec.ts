import { defineConnector } from "../../src/connectors/define";
import { fub } from "../../src/connectors/fub";
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
import {
  contextSnapshots,
  initialRateContextsState,
  observeContextHeaders,
  onContextRateLimited,
  pruneContexts,
  type RateContextsConfig,
  type RateContextsState,
  rateContextFor,
  requestPath,
  takeContextToken,
} from "../../src/core/rate-contexts";
import { rateBudgetFingerprint, shortFingerprint } from "../../src/core/rate-scope";
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

// ---- rate contexts: one window per endpoint family the provider counts ----------------------------------

const CONTEXTS: RateContextsConfig = {
  ...FUB,
  defaultContext: "global",
  contextHeader: "X-RateLimit-Context",
  contexts: [{ name: "events", pathPrefix: "/v1/events", method: "GET", limit: 20 }],
};

/** Takes tokens in one context at a fixed time until refused. */
function drainContext(s: RateContextsState, context: string, now: number, priority: Priority = "backfill") {
  let state = s;
  let granted = 0;
  for (;;) {
    const r = takeContextToken(state, CONTEXTS, context, now, priority);
    state = r.state;
    if (!r.granted) return { state, granted, waitMs: r.waitMs };
    granted++;
  }
}

const used = (s: RateContextsState, now: number) =>
  Object.fromEntries(contextSnapshots(s, CONTEXTS, now).map((c) => [c.context, c.usedInWindow]));

test("rate contexts: a request is counted in the context its method and path match, else the default", () => {
  const at = (method: string, path: string) => rateContextFor(CONTEXTS, method, path);
  assertEqual(at("GET", "/v1/events"), "events");
  assertEqual(at("get", "/v1/events/42"), "events");
  assertEqual(at("GET", "/v1/events/"), "events");
  // Another method, a longer segment, another family: the default context.
  assertEqual(at("POST", "/v1/events"), "global");
  assertEqual(at("GET", "/v1/eventsArchive"), "global");
  assertEqual(at("GET", "/v1/people"), "global");
  assertEqual(at("GET", "/v2/events"), "global");
  // A rule without a method covers every method; the first matching rule wins.
  const anyMethod = { defaultContext: "d", contexts: [{ name: "a", pathPrefix: "/x/", limit: 1 }] };
  assertEqual(rateContextFor(anyMethod, "DELETE", "/x/1"), "a");
  assertEqual(rateContextFor({ defaultContext: "d", contexts: [] }, "GET", "/x"), "d");
});

test("rate contexts: paths are matched below the connection's base URL, query strings ignored", () => {
  assertEqual(requestPath("https://api.example/v1/events?limit=100&next=abc"), "/v1/events");
  assertEqual(requestPath("https://api.example/v1/events?x=1", "https://api.example"), "/v1/events");
  assertEqual(requestPath("http://proxy:8080/fub/v1/events?x=1", "http://proxy:8080/fub/"), "/v1/events");
  assertEqual(requestPath("http://proxy:8080/fub", "http://proxy:8080/fub"), "/");
  // A URL outside the base path keeps its whole path.
  assertEqual(requestPath("http://proxy:8080/other/v1/events", "http://proxy:8080/fub"), "/other/v1/events");
  assertEqual(requestPath("not a url"), "not a url");
  const base = "http://127.0.0.1:9999/fub";
  assertEqual(rateContextFor(CONTEXTS, "GET", requestPath(`${base}/v1/events?limit=1`, base)), "events");
});

test("rate contexts: each context has its own window, priorities and reserves", () => {
  // Events exhausted by a lone backfill (20 less one kept slot per idle reserve) leaves global whole.
  const events = drainContext(initialRateContextsState(), "events", 0);
  assertEqual(events.granted, 18);
  assertEqual(events.waitMs, 10_000);
  assertDeepEqual(used(events.state, 0), { global: 0, events: 18 });
  const global = drainContext(events.state, "global", 0);
  assertEqual(global.granted, 248);
  assertDeepEqual(used(global.state, 0), { global: 248, events: 18 });
  // A webhook may still use each context's reserve; an active webhook reserve then holds in its context only.
  const webhook = takeContextToken(global.state, CONTEXTS, "events", 1, "webhook");
  assertTrue(webhook.granted, "the events webhook slot");
  assertEqual(takeContextToken(webhook.state, CONTEXTS, "events", 2, "delta").granted, false);
  assertEqual(takeContextToken(webhook.state, CONTEXTS, "global", 2, "delta").granted, true);
  // A new global burst doesn't touch the events log: at 10 s only the webhook's grant (at 1 ms) is left.
  const later = drainContext(webhook.state, "global", 10_000);
  assertEqual(later.granted, 248);
  assertDeepEqual(used(later.state, 10_000), { global: 248, events: 1 });
  assertEqual(drainContext(later.state, "events", 10_000).granted, 17, "18 less the webhook's slot");
  // A context nobody has used reports its declared limit.
  const fresh = contextSnapshots(initialRateContextsState(), CONTEXTS, 0);
  assertDeepEqual(
    fresh.map((c) => [c.context, c.limit, c.remaining]),
    [
      ["global", 250, 250],
      ["events", 20, 20],
    ],
  );
});

test("rate contexts: header feedback goes to the context the response names, else the one requested", () => {
  const s0 = initialRateContextsState();
  // The response names "events": its limit and remaining are learned there, even for a request we counted
  // elsewhere; global is untouched.
  const named = observeContextHeaders(
    s0,
    CONTEXTS,
    "global",
    0,
    headers({ "X-RateLimit-Context": "Events", "X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "5" }),
  );
  assertEqual(named.context, "events");
  assertDeepEqual(used(named.state, 0), { global: 0, events: 15 });
  // No header: the context the request matched.
  const absent = observeContextHeaders(s0, CONTEXTS, "events", 0, headers({ "X-RateLimit-Remaining": "19" }));
  assertEqual(absent.context, "events");
  assertDeepEqual(used(absent.state, 0), { global: 0, events: 1 });
  // A name we don't know: the context the request matched, too.
  const unknown = observeContextHeaders(
    s0,
    CONTEXTS,
    "global",
    0,
    headers({ "X-RateLimit-Context": "notes", "X-RateLimit-Remaining": "240" }),
  );
  assertEqual(unknown.context, "global");
  assertDeepEqual(used(unknown.state, 0), { global: 10, events: 0 });
  // A limit learned in one context is not another's: global keeps 250 when events says 20.
  const snaps = contextSnapshots(named.state, CONTEXTS, 0);
  assertDeepEqual(
    snaps.map((c) => c.limit),
    [250, 20],
  );
});

test("rate contexts: a 429 blocks its own context only", () => {
  const s = onContextRateLimited(initialRateContextsState(), CONTEXTS, "events", 1_000, 3_000);
  const refused = takeContextToken(s, CONTEXTS, "events", 1_500, "webhook");
  assertEqual(refused.granted, false);
  if (!refused.granted) assertEqual(refused.waitMs, 2_500);
  assertEqual(takeContextToken(s, CONTEXTS, "global", 1_500, "backfill").granted, true);
  const snaps = contextSnapshots(s, CONTEXTS, 1_500);
  assertDeepEqual(
    snaps.map((c) => [c.context, c.blockedUntil]),
    [
      ["global", null],
      ["events", 4_000],
    ],
  );
  assertEqual(takeContextToken(s, CONTEXTS, "events", 4_000, "backfill").granted, true);
  // Undeclared contexts' logs are dropped; declared ones survive a JSON roundtrip.
  const stray: RateContextsState = { contexts: { ...s.contexts, gone: initialRateBudgetState() } };
  const kept = pruneContexts(stray, CONTEXTS);
  assertDeepEqual(Object.keys(kept.contexts), ["events"]);
  assertDeepEqual(JSON.parse(JSON.stringify(kept)), kept);
});

test("rate contexts: 60 s of greedy backfills in both contexts: each within its limit, each used fully", () => {
  const horizon = 60_000;
  type Actor = { context: string; nextAt: number; grants: number[] };
  const actors: Actor[] = [
    { context: "global", nextAt: 0, grants: [] },
    { context: "events", nextAt: 0, grants: [] },
  ];
  let s = initialRateContextsState();
  for (;;) {
    let actor: Actor | undefined;
    for (const a of actors) if (a.nextAt < horizon && (!actor || a.nextAt < actor.nextAt)) actor = a;
    if (!actor) break;
    const r = takeContextToken(s, CONTEXTS, actor.context, actor.nextAt, "backfill");
    s = r.state;
    if (r.granted) actor.grants.push(actor.nextAt);
    else {
      assertTrue(r.waitMs > 0, "waitMs must move time forward");
      actor.nextAt += r.waitMs;
    }
  }
  const [global, events] = actors as [Actor, Actor];
  const asGrants = (ts: number[]) =>
    ts.map((t) => ({ t, priority: "backfill" as const, used: 0, waited: 0 }));
  assertTrue(busiestWindow(asGrants(events.grants), FUB.windowMs) <= 20, "events over its window");
  assertTrue(busiestWindow(asGrants(global.grants), FUB.windowMs) <= 250, "global over its window");
  // Alone in its context, a backfill uses all but one slot per idle reserve: 248 of 250, 18 of 20.
  assertEqual(global.grants.length, 248 * (horizon / FUB.windowMs));
  assertEqual(events.grants.length, 18 * (horizon / FUB.windowMs));
});

test("rate contexts: the FUB declaration resolves each context's limit for the credentials", () => {
  const withKey = fub.rateLimit({ apiKey: "k", systemKey: "s", system: "x" });
  assertEqual(withKey.limit, 250);
  assertEqual(withKey.defaultContext, "global");
  assertEqual(withKey.contextHeader, "X-RateLimit-Context");
  assertDeepEqual(withKey.contexts, [{ name: "events", pathPrefix: "/v1/events", method: "GET", limit: 20 }]);
  const without = fub.rateLimit({ apiKey: "k" });
  assertEqual(without.limit, 125);
  assertEqual(without.contexts?.[0]?.limit, 10);
  // The connector's own URLs land in the contexts FUB counts them in.
  const url = (entity: string) =>
    fub.firstPageUrl({
      baseUrl: "https://fub.example",
      entity: fub.entities[entity]!,
      mode: "onboarding",
      since: null,
    });
  const policy = {
    ...CONTEXTS,
    defaultContext: withKey.defaultContext ?? "",
    contexts: withKey.contexts ?? [],
  };
  assertEqual(rateContextFor(policy, "GET", requestPath(url("events"), "https://fub.example")), "events");
  assertEqual(rateContextFor(policy, "GET", requestPath(url("people"), "https://fub.example")), "global");
});

test("rate scope: FUB counts per API key, and a key's budget is named by a fingerprint, never the key", async () => {
  assertDeepEqual(fub.rateLimit({ apiKey: "k" }).scope, { credential: "apiKey" });
  const key = "fub-api-key-0123456789";
  const name = await rateBudgetFingerprint("fub", key);
  assertTrue(/^[0-9a-f]{64}$/.test(name), "a hex SHA-256");
  assertTrue(!name.includes(key), "the key is not in the name");
  // The same key names the same budget wherever it is held; another key or another provider does not.
  assertEqual(await rateBudgetFingerprint("fub", key), name);
  assertTrue((await rateBudgetFingerprint("fub", `${key}x`)) !== name, "another key, another budget");
  assertTrue((await rateBudgetFingerprint("lofty", key)) !== name, "another provider, another budget");
  // The separator keeps provider and key apart: ("fu", "bkey") is not ("fub", "key").
  assertTrue(
    (await rateBudgetFingerprint("fu", "bkey")) !== (await rateBudgetFingerprint("fub", "key")),
    "split",
  );
  assertEqual(shortFingerprint(name), name.slice(0, 12));
  // A provider that declares no scope keeps a budget per connection.
  const { scope: _, ...unscoped } = fub.spec.rateLimit;
  assertEqual(
    defineConnector({ ...fub.spec, rateLimit: unscoped }).rateLimit({ apiKey: "k" }).scope,
    undefined,
  );
});

test("rate contexts: a declaration naming a context twice is refused", () => {
  let error: unknown = null;
  try {
    defineConnector({
      ...fub.spec,
      rateLimit: { ...fub.spec.rateLimit, contexts: [{ name: "GLOBAL", pathPrefix: "/v1/x", limit: 1 }] },
    });
  } catch (e) {
    error = e;
  }
  assertTrue(error instanceof Error && /declared twice/.test(error.message), "duplicate context accepted");
});

import {
  type BreakerConfig,
  type BreakerState,
  breakerAllows,
  classifyOutcome,
  DEFAULT_BREAKER_CONFIG,
  forceBreaker,
  initialBreakerState,
  recordFailure,
  recordSuccess,
} from "../../src/core/breaker";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const cfg: BreakerConfig = DEFAULT_BREAKER_CONFIG;

function feed(s: BreakerState, outcomes: string, now = 0): BreakerState {
  let state = s;
  for (const c of outcomes)
    state = c === "F" ? recordFailure(state, cfg, now) : recordSuccess(state, cfg, now);
  return state;
}

/** Drives a breaker to open at time `at`. */
function opened(at: number): BreakerState {
  const s = feed(initialBreakerState(), "SSSSSSSSS");
  return recordFailure(s, cfg, at);
}

test("breaker: defaults", () => {
  assertDeepEqual(DEFAULT_BREAKER_CONFIG, {
    windowSize: 20,
    minCalls: 10,
    failureRateThreshold: 0.1,
    openMs: 60_000,
    halfOpenProbes: 3,
  });
});

test("breaker: does not open before minCalls", () => {
  const s = feed(initialBreakerState(), "FFFFFFFFF");
  assertEqual(s.state, "closed");
  assertEqual(s.window.length, 9);
  assertEqual(recordFailure(s, cfg, 5).state, "open");
});

test("breaker: opens at the failure-rate threshold, not below", () => {
  // 1 of 10 = 10% = threshold.
  const at = opened(1000);
  assertEqual(at.state, "open");
  assertEqual(at.openedAt, 1000);
  // 1 of 20 = 5% stays closed; the window keeps only the last 20 outcomes.
  let s = feed(initialBreakerState(), "F");
  s = feed(s, "SSSSSSSSSSSSSSSSSSS");
  assertEqual(s.state, "closed");
  s = feed(s, "SSSSSSSSSS");
  assertEqual(s.window.length, 20);
  assertEqual(
    s.window.reduce((a, b) => a + b, 0),
    0,
  );
});

test("breaker: state is plain JSON", () => {
  const s = opened(42);
  assertDeepEqual(JSON.parse(JSON.stringify(s)), s);
});

test("breaker: open rejects until openMs, then half-opens with limited probes", () => {
  const s = opened(0);
  const early = breakerAllows(s, cfg, 59_999);
  assertEqual(early.allowed, false);
  assertEqual(early.retryAtMs, 60_000);

  let d = breakerAllows(s, cfg, 60_000);
  assertTrue(d.allowed);
  assertEqual(d.state.state, "half_open");
  d = breakerAllows(d.state, cfg, 60_001);
  assertTrue(d.allowed);
  d = breakerAllows(d.state, cfg, 60_002);
  assertTrue(d.allowed);
  assertEqual(d.state.probesInFlight, 3);
  const fourth = breakerAllows(d.state, cfg, 60_003);
  assertEqual(fourth.allowed, false);
  assertEqual(fourth.state.state, "half_open");
});

test("breaker: half-open closes after halfOpenProbes successes", () => {
  let s = opened(0);
  for (let i = 0; i < 3; i++) s = breakerAllows(s, cfg, 60_000 + i).state;
  s = recordSuccess(s, cfg, 60_100);
  s = recordSuccess(s, cfg, 60_200);
  assertEqual(s.state, "half_open");
  s = recordSuccess(s, cfg, 60_300);
  assertEqual(s.state, "closed");
  assertDeepEqual(s.window, []);
  assertTrue(breakerAllows(s, cfg, 60_400).allowed);
});

test("breaker: any half-open failure reopens", () => {
  let s = opened(0);
  s = breakerAllows(s, cfg, 70_000).state;
  s = breakerAllows(s, cfg, 70_001).state;
  s = recordSuccess(s, cfg, 70_100);
  s = recordFailure(s, cfg, 70_200);
  assertEqual(s.state, "open");
  assertEqual(s.openedAt, 70_200);
  assertEqual(breakerAllows(s, cfg, 130_199).allowed, false);
  assertTrue(breakerAllows(s, cfg, 130_200).allowed);
});

test("breaker: late outcomes while open don't move openedAt", () => {
  const s = opened(0);
  assertDeepEqual(recordFailure(s, cfg, 30_000), s);
  assertDeepEqual(recordSuccess(s, cfg, 30_000), s);
});

test("breaker: lost probes time out and reopen", () => {
  let s = opened(0);
  for (let i = 0; i < 3; i++) s = breakerAllows(s, cfg, 60_000).state;
  // The object was evicted mid-fetch: no verdict ever arrives.
  assertEqual(breakerAllows(s, cfg, 119_999).allowed, false);
  const d = breakerAllows(s, cfg, 120_000);
  assertEqual(d.allowed, false);
  assertEqual(d.state.state, "open");
  assertEqual(d.retryAtMs, 180_000);
  assertTrue(breakerAllows(d.state, cfg, 180_000).allowed);
});

test("breaker: forced open and forced closed override; clearing starts fresh", () => {
  const forcedOpen = forceBreaker(initialBreakerState(), "open");
  assertEqual(breakerAllows(forcedOpen, cfg, 10 ** 12).allowed, false);
  assertEqual(forcedOpen.forced, "open");

  let forcedClosed = forceBreaker(opened(0), "closed");
  assertTrue(breakerAllows(forcedClosed, cfg, 1).allowed);
  forcedClosed = feed(forcedClosed, "FFFFFFFFFFFF");
  assertEqual(forcedClosed.state, "closed");
  assertTrue(breakerAllows(forcedClosed, cfg, 2).allowed);

  assertDeepEqual(forceBreaker(forcedClosed, null), initialBreakerState());
});

test("breaker: classifyOutcome", () => {
  assertEqual(classifyOutcome({ status: 200 }), "success");
  assertEqual(classifyOutcome({ status: 304 }), "success");
  assertEqual(classifyOutcome({ status: 500 }), "failure");
  assertEqual(classifyOutcome({ status: 503 }), "failure");
  assertEqual(classifyOutcome({ status: 408 }), "failure");
  assertEqual(classifyOutcome({ error: new Error("The operation timed out") }), "failure");
  assertEqual(classifyOutcome({ error: new TypeError("fetch failed") }), "failure");
  assertEqual(classifyOutcome({ status: 429 }), "rate_limited");
  assertEqual(classifyOutcome({ status: 400 }), "client_error");
  assertEqual(classifyOutcome({ status: 404 }), "client_error");
  assertEqual(classifyOutcome({ status: 401 }), "client_error");
});

test("breaker: rate limits and client errors never open it", () => {
  let s = initialBreakerState();
  for (const status of [429, 429, 400, 404, 429, 422, 429, 401, 403, 429, 429, 429]) {
    const outcome = classifyOutcome({ status });
    if (outcome === "failure") s = recordFailure(s, cfg, 0);
  }
  assertEqual(s.state, "closed");
  assertDeepEqual(s.window, []);
});

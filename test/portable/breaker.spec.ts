import {
  type BreakerConfig,
  type BreakerState,
  breakerAllows,
  classifyOutcome,
  DEFAULT_BREAKER_CONFIG,
  forceBreaker,
  initialBreakerState,
  loadBreakerState,
  recordFailure,
  recordSuccess,
  WINDOW_SLICES,
  windowCounts,
} from "../../src/core/breaker";
import { breakerConfigFrom, breakerSettingsSchema } from "../../src/core/breaker-settings";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const cfg: BreakerConfig = DEFAULT_BREAKER_CONFIG;

/** Feeds outcomes ("S" success, "F" failure) all at time `now`. */
function feed(s: BreakerState, outcomes: string, now = 0, config = cfg): BreakerState {
  let state = s;
  for (const c of outcomes)
    state = c === "F" ? recordFailure(state, config, now) : recordSuccess(state, config, now);
  return state;
}

/** Drives a breaker to open at time `at`: 18 successes and 2 failures are 10 % of the minimum 20 calls. */
function opened(at: number): BreakerState {
  const s = feed(initialBreakerState(), "SSSSSSSSSSSSSSSSSSF", at);
  assertEqual(s.state, "closed");
  return recordFailure(s, cfg, at);
}

test("breaker: defaults count over 60 s with at least 20 calls, open at 10 % for 60 s", () => {
  assertDeepEqual(DEFAULT_BREAKER_CONFIG, {
    windowMs: 60_000,
    minCalls: 20,
    failureRateThreshold: 0.1,
    openMs: 60_000,
    halfOpenProbes: 3,
  });
});

test("breaker: one early failure does not open it", () => {
  // The count-based breaker opened on this: one failure in ten calls, the tenth.
  let s = feed(initialBreakerState(), "SSSSSSSSSF", 0);
  assertEqual(s.state, "closed");
  assertDeepEqual(windowCounts(s, cfg, 0), { calls: 10, failures: 1 });
  s = feed(s, "SSSSSSSSSS", 200);
  assertEqual(s.state, "closed");
  assertDeepEqual(windowCounts(s, cfg, 200), { calls: 20, failures: 1 });
  assertTrue(breakerAllows(s, cfg, 300).allowed);
  // Nor one failure as the twentieth call: 1 of 20 is 5 %.
  assertEqual(feed(initialBreakerState(), "SSSSSSSSSSSSSSSSSSSF", 0).state, "closed");
});

test("breaker: no opening before the window holds minCalls calls, even if all fail", () => {
  const s = feed(initialBreakerState(), "FFFFFFFFFFFFFFFFFFF", 1_000);
  assertEqual(s.state, "closed");
  assertDeepEqual(windowCounts(s, cfg, 1_000), { calls: 19, failures: 19 });
  const twentieth = recordFailure(s, cfg, 1_000);
  assertEqual(twentieth.state, "open");
  assertEqual(twentieth.openedAt, 1_000);
});

test("breaker: opens at the failure-share threshold, not below", () => {
  // 1 of 20 = 5 %, 2 of 22 = 9.1 %: closed. 3 of 23 = 13 %: open.
  let s = feed(initialBreakerState(), "SSSSSSSSSSSSSSSSSSSF", 0);
  assertEqual(s.state, "closed");
  s = feed(s, "SF", 10);
  assertEqual(s.state, "closed");
  assertDeepEqual(windowCounts(s, cfg, 10), { calls: 22, failures: 2 });
  s = recordFailure(s, cfg, 20);
  assertEqual(s.state, "open");
  assertEqual(s.openedAt, 20);
  // Exactly at the threshold opens: 2 of 20.
  assertEqual(opened(5).state, "open");
});

test("breaker: a success never opens it, even when the share stays at the threshold", () => {
  const config = { ...cfg, minCalls: 2 };
  let s = feed(initialBreakerState(), "SSSSSSSSSS", 0, config);
  s = recordFailure(s, config, 1_000); // 1 of 11 = 9 %
  assertEqual(s.state, "closed");
  // The ten successes leave the window; the failure is then 1 of 1, and 1 of 2 once a success arrives.
  s = recordSuccess(s, config, 61_000);
  assertDeepEqual(windowCounts(s, config, 61_000), { calls: 2, failures: 1 });
  assertEqual(s.state, "closed");
  assertEqual(recordFailure(s, config, 61_001).state, "open");
});

test("breaker: outcomes leave the window between windowMs and windowMs plus one slice", () => {
  const slice = cfg.windowMs / WINDOW_SLICES;
  assertEqual(slice, 1_000);
  const s = feed(initialBreakerState(), "FFF", 0);
  const late = feed(s, "F", 999);
  assertDeepEqual(windowCounts(late, cfg, 60_000), { calls: 4, failures: 4 });
  assertDeepEqual(windowCounts(late, cfg, 60_998), { calls: 4, failures: 4 });
  // Never earlier than windowMs after the call: the one at 999 ms still counts at 60,998 ms.
  assertDeepEqual(windowCounts(late, cfg, 61_000), { calls: 0, failures: 0 });
});

test("breaker: failures that left the window no longer count toward opening", () => {
  // Three failures, then quiet; seventy seconds later 17 successes and a failure: 1 of 18, still closed.
  let s = feed(initialBreakerState(), "FFF", 0);
  s = feed(s, "SSSSSSSSSSSSSSSSS", 70_000);
  s = recordFailure(s, cfg, 70_001);
  assertEqual(s.state, "closed");
  assertDeepEqual(windowCounts(s, cfg, 70_001), { calls: 18, failures: 1 });
  // Had the old failures still counted, this would be 4 of 21 = 19 %: open. Within the window it is.
  let kept = feed(initialBreakerState(), "FFF", 0);
  kept = feed(kept, "SSSSSSSSSSSSSSSSS", 50_000);
  assertEqual(recordFailure(kept, cfg, 50_001).state, "open");
});

test("breaker: steady traffic opens only when the share over the last window reaches the threshold", () => {
  // One call per second for ten minutes; a failure every 15 s is 4 of 60 (6.7 %): never opens.
  let s = initialBreakerState();
  for (let t = 0; t < 600; t++) {
    s = t % 15 === 14 ? recordFailure(s, cfg, t * 1_000) : recordSuccess(s, cfg, t * 1_000);
    assertEqual(s.state, "closed", `second ${t}`);
  }
  // A failure every 10 s is 6 of 60 (10 %) once the window is full, but not before minCalls calls.
  s = initialBreakerState();
  let openedAt = -1;
  for (let t = 0; t < 600 && openedAt < 0; t++) {
    s = t % 10 === 9 ? recordFailure(s, cfg, t * 1_000) : recordSuccess(s, cfg, t * 1_000);
    if (s.state === "open") openedAt = t;
  }
  // At second 19 the window holds 20 calls with 2 failures: the first moment both conditions hold.
  assertEqual(openedAt, 19);
});

test("breaker: the window is kept in a bounded number of slices", () => {
  // FUB's whole budget (25 calls a second) for two minutes.
  let s = initialBreakerState();
  for (let i = 0; i < 3_000; i++) s = recordSuccess(s, cfg, i * 40);
  assertTrue(s.buckets.length <= WINDOW_SLICES + 1, `${s.buckets.length} slices`);
  const { calls, failures } = windowCounts(s, cfg, 2_999 * 40);
  assertEqual(failures, 0);
  assertTrue(calls >= 1_500 && calls <= 1_525, `${calls} calls`);
});

test("breaker: a clock that steps back adds to the newest slice", () => {
  let s = feed(initialBreakerState(), "S", 5_000);
  s = feed(s, "F", 1_000);
  assertEqual(s.buckets.length, 1);
  assertDeepEqual(windowCounts(s, cfg, 5_000), { calls: 2, failures: 1 });
});

test("breaker: state is plain JSON", () => {
  const s = opened(42);
  assertDeepEqual(JSON.parse(JSON.stringify(s)), s);
  assertDeepEqual(loadBreakerState(JSON.parse(JSON.stringify(s))), s);
});

test("breaker: a state stored by the count-based breaker loads with an empty window", () => {
  const old = {
    state: "open",
    window: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    openedAt: 7_000,
    probesInFlight: 0,
    probeSuccesses: 0,
    forced: null,
  };
  const s = loadBreakerState(old);
  assertDeepEqual(s, { ...initialBreakerState(), state: "open", openedAt: 7_000 });
  assertEqual(breakerAllows(s, cfg, 66_999).allowed, false);
  assertTrue(breakerAllows(s, cfg, 67_000).allowed);
  assertDeepEqual(loadBreakerState(null), initialBreakerState());
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

test("breaker: half-open closes after halfOpenProbes successes, with a fresh window", () => {
  let s = opened(0);
  for (let i = 0; i < 3; i++) s = breakerAllows(s, cfg, 60_000 + i).state;
  s = recordSuccess(s, cfg, 60_100);
  s = recordSuccess(s, cfg, 60_200);
  assertEqual(s.state, "half_open");
  s = recordSuccess(s, cfg, 60_300);
  assertEqual(s.state, "closed");
  assertDeepEqual(s.buckets, []);
  assertTrue(breakerAllows(s, cfg, 60_400).allowed);
  // The failures that opened it are forgotten: a new failure right away is 1 of 1, below minCalls.
  assertEqual(recordFailure(s, cfg, 60_500).state, "closed");
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

test("breaker: every setting is honoured (short window, few calls, high threshold, short open, one probe)", () => {
  const custom: BreakerConfig = {
    windowMs: 5_000,
    minCalls: 4,
    failureRateThreshold: 0.5,
    openMs: 2_000,
    halfOpenProbes: 1,
  };
  let s = feed(initialBreakerState(), "SSSS", 0, custom);
  s = recordFailure(s, custom, 1_000); // 1 of 5 = 20 %: the default 10 % would open here
  s = recordFailure(s, custom, 2_000); // 2 of 6 = 33 %
  assertEqual(s.state, "closed");
  // Past 5 s plus a slice the four successes are gone: S F at 5.1 s make 3 failures of 4 (75 %), where all
  // eight calls would be 3 of 8 (37.5 %) and stay closed.
  s = feed(s, "S", 5_100, custom);
  assertEqual(s.state, "closed");
  s = recordFailure(s, custom, 5_100);
  assertEqual(s.state, "open");
  assertEqual(breakerAllows(s, custom, 7_099).allowed, false);
  const probe = breakerAllows(s, custom, 7_100);
  assertTrue(probe.allowed);
  assertEqual(breakerAllows(probe.state, custom, 7_101).allowed, false);
  assertEqual(recordSuccess(probe.state, custom, 7_200).state, "closed");
});

test("breaker: forced open and forced closed override; clearing starts fresh", () => {
  const forcedOpen = forceBreaker(initialBreakerState(), "open");
  assertEqual(breakerAllows(forcedOpen, cfg, 10 ** 12).allowed, false);
  assertEqual(forcedOpen.forced, "open");

  let forcedClosed = forceBreaker(opened(0), "closed");
  assertTrue(breakerAllows(forcedClosed, cfg, 1).allowed);
  forcedClosed = feed(forcedClosed, "FFFFFFFFFFFFFFFFFFFFFFFF");
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
  assertDeepEqual(s.buckets, []);
});

test("breaker settings: the admin schema refuses bad values and the old windowSize", () => {
  assertTrue(breakerSettingsSchema.safeParse({}).success);
  assertTrue(
    breakerSettingsSchema.safeParse({
      windowMs: 30_000,
      minCalls: 50,
      failureRateThreshold: 0.25,
      openMs: 10_000,
      halfOpenProbes: 2,
    }).success,
  );
  for (const bad of [
    { windowSize: 20 },
    { windowMs: 999 },
    { windowMs: 1_500.5 },
    { minCalls: 0 },
    { minCalls: "20" },
    { failureRateThreshold: 0 },
    { failureRateThreshold: 1.5 },
    { openMs: -1 },
    { halfOpenProbes: 101 },
  ]) {
    assertEqual(breakerSettingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

test("breaker settings: stored settings take each valid key and default the rest", () => {
  assertDeepEqual(breakerConfigFrom(undefined), DEFAULT_BREAKER_CONFIG);
  assertDeepEqual(breakerConfigFrom({ breaker: "nonsense" }), DEFAULT_BREAKER_CONFIG);
  assertDeepEqual(
    breakerConfigFrom({
      breaker: { windowSize: 5, windowMs: 10_000, minCalls: 0, failureRateThreshold: 0.3, openMs: "x" },
    }),
    { ...DEFAULT_BREAKER_CONFIG, windowMs: 10_000, failureRateThreshold: 0.3 },
  );
});

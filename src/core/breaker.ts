// Circuit breaker as a pure state machine over plain JSON data: the Durable Object
// persists the state in SQLite after every transition, so the breaker survives
// eviction, and every transition is testable with an injected clock.

export type BreakerConfig = {
  /** How many of the most recent outcomes the failure rate is computed over. */
  windowSize: number;
  /** No opening before this many outcomes: one failure out of two calls is noise. */
  minCalls: number;
  failureRateThreshold: number;
  openMs: number;
  halfOpenProbes: number;
};

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  windowSize: 20,
  minCalls: 10,
  failureRateThreshold: 0.1,
  openMs: 60_000,
  halfOpenProbes: 3,
};

export type BreakerStatus = "closed" | "open" | "half_open";

export type BreakerState = {
  state: BreakerStatus;
  /** 1 = failure, 0 = success; the last windowSize outcomes, oldest first. */
  window: number[];
  openedAt: number | null;
  probesInFlight: number;
  probeSuccesses: number;
  /** Operator override from the admin API; wins over everything else until cleared. */
  forced: "open" | "closed" | null;
  /**
   * When the current half-open period began. A probe whose response never arrives
   * (the object was evicted mid-fetch) would otherwise hold its slot forever; after
   * openMs without any verdict the probes count as a timeout, i.e. a failure. Optional
   * so states persisted before this field existed still load.
   */
  halfOpenAt?: number | null;
};

export type BreakerDecision = { allowed: boolean; state: BreakerState; retryAtMs?: number };

export function initialBreakerState(): BreakerState {
  return {
    state: "closed",
    window: [],
    openedAt: null,
    probesInFlight: 0,
    probeSuccesses: 0,
    forced: null,
    halfOpenAt: null,
  };
}

function open(s: BreakerState, now: number): BreakerState {
  return { ...s, state: "open", openedAt: now, probesInFlight: 0, probeSuccesses: 0, halfOpenAt: null };
}

function closed(s: BreakerState): BreakerState {
  return { ...initialBreakerState(), forced: s.forced };
}

/** Asks to make one call. A granted half-open probe must later be reported via recordSuccess/recordFailure. */
export function breakerAllows(s: BreakerState, cfg: BreakerConfig, now: number): BreakerDecision {
  if (s.forced === "open") return { allowed: false, state: s };
  if (s.forced === "closed") return { allowed: true, state: s };

  if (s.state === "closed") return { allowed: true, state: s };

  if (s.state === "open") {
    const retryAtMs = (s.openedAt ?? now) + cfg.openMs;
    if (now < retryAtMs) return { allowed: false, state: s, retryAtMs };
    return {
      allowed: true,
      state: { ...s, state: "half_open", probesInFlight: 1, probeSuccesses: 0, halfOpenAt: now },
    };
  }

  if (s.probesInFlight < cfg.halfOpenProbes) {
    return { allowed: true, state: { ...s, probesInFlight: s.probesInFlight + 1 } };
  }
  const halfOpenAt = s.halfOpenAt ?? s.openedAt ?? now;
  if (now >= halfOpenAt + cfg.openMs) {
    const reopened = open(s, now);
    return { allowed: false, state: reopened, retryAtMs: now + cfg.openMs };
  }
  // All probe slots are taken; the verdict comes from their outcomes.
  return { allowed: false, state: s };
}

function pushOutcome(window: number[], outcome: 0 | 1, windowSize: number): number[] {
  const next = [...window, outcome];
  return next.length > windowSize ? next.slice(next.length - windowSize) : next;
}

export function recordSuccess(s: BreakerState, cfg: BreakerConfig, now: number): BreakerState {
  if (s.state === "half_open") {
    const probeSuccesses = s.probeSuccesses + 1;
    if (probeSuccesses >= cfg.halfOpenProbes) return closed(s);
    // Progress restarts the lost-probe clock.
    return { ...s, probesInFlight: Math.max(0, s.probesInFlight - 1), probeSuccesses, halfOpenAt: now };
  }
  // A response that was in flight when the breaker opened says nothing about recovery.
  if (s.state === "open") return s;
  return { ...s, window: pushOutcome(s.window, 0, cfg.windowSize) };
}

export function recordFailure(s: BreakerState, cfg: BreakerConfig, now: number): BreakerState {
  if (s.state === "half_open") return s.forced ? s : open(s, now);
  // Late failures from before opening must not push the half-open time further out.
  if (s.state === "open") return s;
  const window = pushOutcome(s.window, 1, cfg.windowSize);
  const next = { ...s, window };
  if (s.forced) return next;
  const failures = window.reduce((sum, x) => sum + x, 0);
  if (window.length >= cfg.minCalls && failures / window.length >= cfg.failureRateThreshold) {
    return open(next, now);
  }
  return next;
}

/**
 * Operator override. Forcing sets the matching state; clearing (null) starts over
 * closed with an empty window, since outcomes from before the override are stale.
 */
export function forceBreaker(s: BreakerState, mode: "open" | "closed" | null): BreakerState {
  if (mode === null) return initialBreakerState();
  if (mode === "closed") return { ...initialBreakerState(), forced: "closed" };
  return { ...s, state: "open", probesInFlight: 0, probeSuccesses: 0, halfOpenAt: null, forced: "open" };
}

export type Outcome = "success" | "failure" | "rate_limited" | "client_error";

/**
 * Only signs of an unhealthy provider count against the breaker: 5xx, 408 and
 * thrown errors (timeouts, resets, DNS). A 429 is the provider working as designed
 * and is handled by the rate budget; other 4xx are our request's fault.
 */
export function classifyOutcome(res: { status?: number; error?: unknown }): Outcome {
  if (res.error !== undefined && res.error !== null) return "failure";
  const status = res.status;
  if (status === undefined) return "failure";
  if (status === 429) return "rate_limited";
  if (status === 408 || status >= 500) return "failure";
  if (status >= 400) return "client_error";
  return "success";
}

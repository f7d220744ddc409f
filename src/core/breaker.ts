// Circuit breaker as a pure state machine over plain JSON data: the Durable Object
// persists the state in SQLite after every transition, so the breaker survives
// eviction, and every transition is testable with an injected clock.

export type BreakerConfig = {
  /** The failure share is taken over the calls of this last stretch of time. */
  windowMs: number;
  /** No opening before the window holds this many calls: a failure among the first few is noise. */
  minCalls: number;
  failureRateThreshold: number;
  openMs: number;
  halfOpenProbes: number;
};

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  windowMs: 60_000,
  minCalls: 20,
  failureRateThreshold: 0.1,
  openMs: 60_000,
  halfOpenProbes: 3,
};

/**
 * The window is kept as this many slices, not as one entry per call: at 250 requests per 10 s a
 * 60 s window holds 1,500 calls, and the state is rewritten after every call. An outcome therefore leaves
 * the window between windowMs and windowMs plus one slice after it happened, never earlier.
 */
export const WINDOW_SLICES = 60;

/** The calls that ended within one slice of the window; `at` is the slice's start (a multiple of its width). */
export type BreakerBucket = { at: number; calls: number; failures: number };

export type BreakerStatus = "closed" | "open" | "half_open";

export type BreakerState = {
  state: BreakerStatus;
  /** Outcomes of the closed breaker, oldest slice first; slices that left the window are dropped on write. */
  buckets: BreakerBucket[];
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
    buckets: [],
    openedAt: null,
    probesInFlight: 0,
    probeSuccesses: 0,
    forced: null,
    halfOpenAt: null,
  };
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function isBucket(v: unknown): v is BreakerBucket {
  if (!v || typeof v !== "object") return false;
  const b = v as Record<string, unknown>;
  return isNum(b.at) && isNum(b.calls) && isNum(b.failures);
}

/**
 * A state read back from storage. States written by the count-based breaker kept untimed outcomes
 * (`window`); those cannot be placed in a time window, so the breaker starts that window empty.
 */
export function loadBreakerState(raw: unknown): BreakerState {
  const base = initialBreakerState();
  if (!raw || typeof raw !== "object") return base;
  const r = raw as Record<string, unknown>;
  const state: BreakerStatus =
    r.state === "open" || r.state === "half_open" || r.state === "closed" ? r.state : "closed";
  return {
    state,
    buckets: Array.isArray(r.buckets) ? r.buckets.filter(isBucket) : [],
    openedAt: isNum(r.openedAt) ? r.openedAt : null,
    probesInFlight: isNum(r.probesInFlight) ? r.probesInFlight : 0,
    probeSuccesses: isNum(r.probeSuccesses) ? r.probeSuccesses : 0,
    forced: r.forced === "open" || r.forced === "closed" ? r.forced : null,
    halfOpenAt: isNum(r.halfOpenAt) ? r.halfOpenAt : null,
  };
}

function sliceMs(cfg: BreakerConfig): number {
  return Math.max(1, Math.ceil(cfg.windowMs / WINDOW_SLICES));
}

/** Slices with any part inside (now - windowMs, now]. */
function live(buckets: BreakerBucket[], cfg: BreakerConfig, now: number): BreakerBucket[] {
  const from = now - cfg.windowMs - sliceMs(cfg);
  return buckets.filter((b) => b.at > from);
}

/** Calls and failures the breaker judges by at `now`. */
export function windowCounts(
  s: BreakerState,
  cfg: BreakerConfig,
  now: number,
): { calls: number; failures: number } {
  let calls = 0;
  let failures = 0;
  for (const b of live(s.buckets, cfg, now)) {
    calls += b.calls;
    failures += b.failures;
  }
  return { calls, failures };
}

function withOutcome(buckets: BreakerBucket[], cfg: BreakerConfig, now: number, failed: boolean) {
  const kept = live(buckets, cfg, now);
  const width = sliceMs(cfg);
  const at = Math.floor(now / width) * width;
  const last = kept[kept.length - 1];
  const add = failed ? 1 : 0;
  // A clock that stepped back (or a slice width changed by new settings) adds to the newest slice, so
  // the slices stay in order.
  if (last && at <= last.at) {
    return [...kept.slice(0, -1), { at: last.at, calls: last.calls + 1, failures: last.failures + add }];
  }
  return [...kept, { at, calls: 1, failures: add }];
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

/** Records one outcome of the closed breaker and opens it once the window holds enough calls failing enough. */
function record(s: BreakerState, cfg: BreakerConfig, now: number, failed: boolean): BreakerState {
  const next = { ...s, buckets: withOutcome(s.buckets, cfg, now, failed) };
  // Only a failure opens it: a success lowers the share, and opening on one would punish a recovery.
  if (s.forced || !failed) return next;
  const { calls, failures } = windowCounts(next, cfg, now);
  if (calls >= cfg.minCalls && failures / calls >= cfg.failureRateThreshold) return open(next, now);
  return next;
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
  return record(s, cfg, now, false);
}

export function recordFailure(s: BreakerState, cfg: BreakerConfig, now: number): BreakerState {
  if (s.state === "half_open") return s.forced ? s : open(s, now);
  // Late failures from before opening must not push the half-open time further out.
  if (s.state === "open") return s;
  return record(s, cfg, now, true);
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

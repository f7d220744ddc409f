// The request budget of one rate context of a connection (rate-contexts.ts keeps one
// per context), shared by webhook fetches, delta syncs and backfills. Providers enforce
// a SLIDING window (e.g. 250 requests per 10 s per context). A token bucket with capacity = limit and refill = limit/window
// can spend a full bucket at the end of one window and the refill right after, i.e.
// up to 2x the limit inside one sliding window. So the budget is a log of grant
// timestamps: a grant is allowed only if fewer than `limit` grants are younger than
// `windowMs`. That is the exact admission rule of a sliding-window limit, and the log
// is at most `limit` numbers, small enough to persist as JSON in DO SQLite.

export type Priority = "webhook" | "delta" | "backfill";

export type RateBudgetConfig = {
  limit: number;
  windowMs: number;
  /**
   * Fractions of the window's budget that lower priorities may not take: backfill
   * stops while webhook+delta of the limit would remain, delta stops while webhook
   * would remain; webhooks may use everything. A priority that took nothing for
   * RESERVE_IDLE_WINDOWS windows keeps one slot and lends the rest of its reserve.
   */
  reserve: RateReserve;
};

/**
 * `keepIdleSlot: false` lends an idle reserve whole: for a budget so small (10 a minute) that a slot kept per
 * idle reserve would cost a fifth of it, where a lone webhook may wait for the next free slot instead.
 */
export type RateReserve = { webhook: number; delta: number; keepIdleSlot?: boolean };

export const DEFAULT_RESERVE = { webhook: 0.05, delta: 0.05 } as const;

export type RateBudgetState = {
  /** Grant timestamps (ms), ascending; entries padded from provider headers included. */
  grants: number[];
  blockedUntil: number | null;
  /** What the provider last reported; overrides the configured values when present. */
  observedLimit: number | null;
  observedWindowMs: number | null;
  /** When webhook and delta last got a grant: their reserve holds in full only while they are active. */
  lastGrant?: { webhook?: number; delta?: number };
};

/**
 * A reserve nobody has used for this many windows is lent to the lower priorities, but for one slot, so a
 * lone webhook after a quiet spell still goes at once and turns its whole reserve back on.
 */
export const RESERVE_IDLE_WINDOWS = 3;

export type TakeResult =
  | { granted: true; state: RateBudgetState }
  | { granted: false; state: RateBudgetState; waitMs: number };

export type HeaderReader = { get(name: string): string | null };

export type RateHeaderNames = {
  limit?: string;
  remaining?: string;
  window?: string;
  reset?: string;
  /**
   * What the reset header counts: "seconds" (default: epoch seconds, or a small delta in seconds) or
   * "ms-until-reset" (milliseconds left in the window, as some providers send it), or "auto" for a provider
   * whose unit is uncertain: epoch milliseconds, epoch seconds or seconds left, told apart by magnitude.
   */
  resetUnit?: "seconds" | "ms-until-reset" | "auto";
};

export type BudgetSnapshot = {
  limit: number;
  windowMs: number;
  usedInWindow: number;
  remaining: number;
  blockedUntil: number | null;
};

export function initialRateBudgetState(): RateBudgetState {
  return { grants: [], blockedUntil: null, observedLimit: null, observedWindowMs: null };
}

function effective(s: RateBudgetState, cfg: RateBudgetConfig): { limit: number; windowMs: number } {
  return { limit: s.observedLimit ?? cfg.limit, windowMs: s.observedWindowMs ?? cfg.windowMs };
}

/** A grant at t occupies the window while now < t + windowMs. */
function liveGrants(grants: number[], windowMs: number, now: number): number[] {
  let first = 0;
  while (first < grants.length && grants[first]! + windowMs <= now) first++;
  return first === 0 ? grants : grants.slice(first);
}

/** Tokens a priority must leave untouched. Capped at limit-1 so tiny limits still serve everyone. */
function reservedFor(
  priority: Priority,
  limit: number,
  windowMs: number,
  cfg: RateBudgetConfig,
  s: RateBudgetState,
  now: number,
): number {
  const above: ("webhook" | "delta")[] =
    priority === "backfill" ? ["webhook", "delta"] : priority === "delta" ? ["webhook"] : [];
  let fraction = 0;
  let idleSlots = 0;
  for (const p of above) {
    if (cfg.reserve[p] <= 0) continue;
    const last = s.lastGrant?.[p];
    if (last !== undefined && now - last < RESERVE_IDLE_WINDOWS * windowMs) fraction += cfg.reserve[p];
    else if (cfg.reserve.keepIdleSlot !== false) idleSlots++;
  }
  // The epsilon keeps 0.1 * 250 = 25.000000000000004 from rounding up to 26.
  const tokens = Math.ceil(fraction * limit - 1e-9) + idleSlots;
  return Math.max(0, Math.min(tokens, limit - 1));
}

export function takeToken(
  s: RateBudgetState,
  cfg: RateBudgetConfig,
  now: number,
  priority: Priority,
): TakeResult {
  const { limit, windowMs } = effective(s, cfg);
  const grants = liveGrants(s.grants, windowMs, now);
  const blockedUntil = s.blockedUntil !== null && s.blockedUntil > now ? s.blockedUntil : null;
  const pruned: RateBudgetState = { ...s, grants, blockedUntil };

  if (blockedUntil !== null) return { granted: false, state: pruned, waitMs: blockedUntil - now };

  const allowed = limit - reservedFor(priority, limit, windowMs, cfg, pruned, now);
  if (grants.length < allowed) {
    const granted: RateBudgetState = { ...pruned, grants: [...grants, now] };
    if (priority !== "backfill") granted.lastGrant = { ...pruned.lastGrant, [priority]: now };
    return { granted: true, state: granted };
  }
  // After the oldest (used - allowed + 1) grants expire, exactly one slot is free.
  const mustExpire = grants.length - allowed + 1;
  const freesAt = grants[mustExpire - 1];
  const waitMs = freesAt === undefined ? windowMs : Math.max(1, freesAt + windowMs - now);
  return { granted: false, state: pruned, waitMs };
}

function readNumber(headers: HeaderReader, name: string): number | null {
  const raw = headers.get(name);
  if (raw === null) return null;
  // Tolerates unit suffixes some providers add ("10s").
  const n = Number.parseFloat(raw.trim());
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * Learns from a provider response: adopts its limit and window, and if it reports
 * fewer remaining requests than we believe (other clients share the context, or
 * our log was lost), pads the log so we don't overrun. Padded entries are dated so
 * they expire when the provider says its window resets, else a full window from now.
 */
export function observeRateHeaders(
  s: RateBudgetState,
  cfg: RateBudgetConfig,
  now: number,
  headers: HeaderReader,
  names: RateHeaderNames = {},
): RateBudgetState {
  const limitHeader = readNumber(headers, names.limit ?? "X-RateLimit-Limit");
  const windowSec = readNumber(headers, names.window ?? "X-RateLimit-Window");
  const remaining = readNumber(headers, names.remaining ?? "X-RateLimit-Remaining");
  const reset = readNumber(headers, names.reset ?? "X-RateLimit-Reset");

  const next: RateBudgetState = {
    ...s,
    observedLimit: limitHeader !== null && limitHeader >= 1 ? Math.floor(limitHeader) : s.observedLimit,
    observedWindowMs: windowSec !== null && windowSec > 0 ? Math.round(windowSec * 1000) : s.observedWindowMs,
  };
  const { limit, windowMs } = effective(next, cfg);
  const grants = liveGrants(next.grants, windowMs, now);
  if (remaining === null) return { ...next, grants };

  const missing = limit - grants.length - Math.floor(remaining);
  if (missing <= 0) return { ...next, grants };

  let expiresAt = now + windowMs;
  if (reset !== null) {
    // The header is specified as epoch seconds (small values can only be a delta) unless declared otherwise.
    const resetMs = resetAtMs(reset, names.resetUnit, now);
    expiresAt = Math.min(now + windowMs, Math.max(now + 1, resetMs));
  }
  const padAt = expiresAt - windowMs;
  const padded = [...grants, ...Array.from({ length: missing }, () => padAt)].sort((a, b) => a - b);
  return { ...next, grants: padded };
}

/**
 * When the reset header says the window ends, in epoch ms. "auto" reads magnitudes: above 1e12 only epoch
 * milliseconds fit (2001 onwards), above 1e9 epoch seconds, anything smaller a delta in seconds. The caller
 * clamps the answer into the coming window, so a misread unit can only make the budget wait, never overrun.
 */
export function resetAtMs(reset: number, unit: RateHeaderNames["resetUnit"], now: number): number {
  if (unit === "ms-until-reset") return now + reset;
  if (unit === "auto" && reset > 1e12) return reset;
  return reset > 1e9 ? reset * 1000 : now + reset * 1000;
}

/** A 429: nobody calls in this context until Retry-After (or a full window) has passed. */
export function onRateLimited(
  s: RateBudgetState,
  now: number,
  retryAfterMs: number | null,
  cfg: RateBudgetConfig,
): RateBudgetState {
  const { windowMs } = effective(s, cfg);
  const until = now + (retryAfterMs ?? windowMs);
  return { ...s, blockedUntil: Math.max(s.blockedUntil ?? 0, until) };
}

export function budgetSnapshot(s: RateBudgetState, cfg: RateBudgetConfig, now: number): BudgetSnapshot {
  const { limit, windowMs } = effective(s, cfg);
  const usedInWindow = liveGrants(s.grants, windowMs, now).length;
  return {
    limit,
    windowMs,
    usedInWindow,
    remaining: Math.max(0, limit - usedInWindow),
    blockedUntil: s.blockedUntil !== null && s.blockedUntil > now ? s.blockedUntil : null,
  };
}

// Sliding-window rate limiter, FUB style: every request admitted in the last
// `windowSec` seconds counts; a request over the limit is refused (429) and does
// not consume a slot. Retry-After is the whole seconds until the oldest counted
// request leaves the window.

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  windowSec: number;
  /** seconds until a slot frees (only when refused) */
  retryAfterSec: number;
}

export class SlidingWindow {
  private hits: number[] = [];
  private head = 0;

  private prune(now: number, windowMs: number): void {
    const cutoff = now - windowMs;
    while (this.head < this.hits.length && (this.hits[this.head] as number) <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.hits.length) {
      this.hits = this.hits.slice(this.head);
      this.head = 0;
    }
  }

  inWindow(now: number, windowMs: number): number {
    this.prune(now, windowMs);
    return this.hits.length - this.head;
  }

  take(now: number, limit: number, windowSec: number): RateDecision {
    const windowMs = windowSec * 1000;
    const used = this.inWindow(now, windowMs);
    if (used >= limit) {
      const oldest = this.hits[this.head] ?? now;
      const retryAfterSec = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
      return { allowed: false, limit, remaining: 0, windowSec, retryAfterSec };
    }
    this.hits.push(now);
    return { allowed: true, limit, remaining: limit - used - 1, windowSec, retryAfterSec: 0 };
  }
}

export interface RateLimitConfig {
  /** limit for requests carrying a valid X-System-Key */
  limit: number;
  /** limit without a system key (default: half of `limit`) */
  limitWithoutSystemKey?: number;
  windowSec: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 250, limitWithoutSystemKey: 125, windowSec: 10 };

/** Limiter buckets keyed by context (tenant + system). */
export class RateLimiter {
  private buckets = new Map<string, SlidingWindow>();

  take(context: string, now: number, limit: number, windowSec: number): RateDecision {
    let w = this.buckets.get(context);
    if (!w) {
      w = new SlidingWindow();
      this.buckets.set(context, w);
    }
    return w.take(now, limit, windowSec);
  }

  reset(): void {
    this.buckets.clear();
  }
}

/** FUB counts `GET /v1/events` in a context of its own; every other request in `global`. */
export type RateContextName = "global" | "events";

export const EVENTS_RATE_LIMIT = { limit: 20, limitWithoutSystemKey: 10 } as const;

export function rateContextOf(method: string, path: string): RateContextName {
  return method === "GET" && (path === "/v1/events" || path.startsWith("/v1/events/")) ? "events" : "global";
}

/** The limit of a request's context, given the tenant's global limit (null: limiting is off). */
export function contextLimit(
  context: RateContextName,
  global: { limit: number; windowSec: number } | null,
  withSystemKey: boolean,
): { limit: number; windowSec: number } | null {
  if (global === null || context === "global") return global;
  const limit = withSystemKey ? EVENTS_RATE_LIMIT.limit : EVENTS_RATE_LIMIT.limitWithoutSystemKey;
  return { limit, windowSec: global.windowSec };
}

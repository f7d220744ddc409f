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

  /** Count a hit unconditionally; returns how many hits the window ending now holds. */
  record(now: number, windowMs: number): number {
    this.hits.push(now);
    return this.inWindow(now, windowMs);
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

export interface RateContextConfig {
  /** limit for requests carrying a valid X-System-Key */
  limit: number;
  /** limit without a system key (default: half of `limit`) */
  limitWithoutSystemKey?: number;
  /** window of this context (default: the global window) */
  windowSec?: number;
}

export interface RateLimitConfig {
  /** limit of the `global` context for requests carrying a valid X-System-Key */
  limit: number;
  /** limit without a system key (default: half of `limit`) */
  limitWithoutSystemKey?: number;
  windowSec: number;
  /** other contexts by name (default: `events` 20 / 10 per 10 s) */
  contexts?: Record<string, RateContextConfig>;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 250, limitWithoutSystemKey: 125, windowSec: 10 };
export const DEFAULT_CONTEXTS: Record<string, RateContextConfig> = {
  events: { limit: 20, limitWithoutSystemKey: 10 },
};

/** FUB counts `GET /v1/events` (list and by id) in its own context; everything else in `global`. */
export function rateContextOf(method: string, path: string): string {
  return method === "GET" && /\/v1\/events(\/|$)/.test(path) ? "events" : "global";
}

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

// Dotloop's limit: 100 requests per minute per user (published), with X-RateLimit-Limit,
// -Remaining and -Reset headers and 429 beyond. Modelled as a fixed window that opens at the
// first request after the previous window closed (choice); Reset is the milliseconds until the
// window closes (choice: a public client's test uses 32000). A refused request takes no slot.

export interface RateLimitConfig {
  limit: number;
  windowSec: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 100, windowSec: 60 };

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** ms until the window closes */
  resetMs: number;
}

export class FixedWindow {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;
  /** admitted count of each closed window (most recent last, bounded) */
  readonly history: { start: number; admitted: number; refused: number }[] = [];
  private refused = 0;

  constructor(public config: RateLimitConfig | false) {}

  private roll(now: number): void {
    if (this.config === false) return;
    const windowMs = this.config.windowSec * 1000;
    if (now >= this.start + windowMs) {
      if (Number.isFinite(this.start)) {
        this.history.push({ start: this.start, admitted: this.used, refused: this.refused });
        if (this.history.length > 1000) this.history.shift();
      }
      this.start = now;
      this.used = 0;
      this.refused = 0;
    }
  }

  take(now: number): RateDecision {
    if (this.config === false)
      return { allowed: true, limit: 1_000_000_000, remaining: 1_000_000_000, resetMs: 0 };
    this.roll(now);
    const { limit, windowSec } = this.config;
    const resetMs = Math.max(0, this.start + windowSec * 1000 - now);
    if (this.used >= limit) {
      this.refused++;
      return { allowed: false, limit, remaining: 0, resetMs };
    }
    this.used++;
    return { allowed: true, limit, remaining: limit - this.used, resetMs };
  }

  /** Headers of the current window without taking a slot. */
  peek(now: number): RateDecision {
    if (this.config === false)
      return { allowed: true, limit: 1_000_000_000, remaining: 1_000_000_000, resetMs: 0 };
    this.roll(now);
    const { limit, windowSec } = this.config;
    return {
      allowed: this.used < limit,
      limit,
      remaining: Math.max(0, limit - this.used),
      resetMs: Math.max(0, this.start + windowSec * 1000 - now),
    };
  }

  current(): { start: number | null; admitted: number; refused: number } {
    return {
      start: Number.isFinite(this.start) ? this.start : null,
      admitted: this.used,
      refused: this.refused,
    };
  }

  reset(): void {
    this.start = Number.NEGATIVE_INFINITY;
    this.used = 0;
    this.refused = 0;
    this.history.length = 0;
  }
}

export function rateHeaders(d: RateDecision): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(d.limit),
    "X-RateLimit-Remaining": String(d.remaining),
    "X-RateLimit-Reset": String(Math.ceil(d.resetMs)),
  };
}

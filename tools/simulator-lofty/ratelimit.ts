// Lofty's limits: 10 requests a minute for a bare personal key, 100 for a development app, 500 for a
// production app, each a 60 s window. Modelled as a fixed window opening at the first request after the
// previous one closed (choice). `X-RateLimit-Reset` is the window's end in UTC epoch seconds, as the docs'
// text says (`resetUnit` switches to the example's reading, or to milliseconds). A refused request takes no slot.

export type ResetUnit = "epoch-seconds" | "seconds-until" | "epoch-ms";

export class Window {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;
  private refused = 0;
  readonly history: { start: number; admitted: number; refused: number }[] = [];

  constructor(public limit: number) {}

  private roll(now: number): void {
    if (now >= this.start + 60_000) {
      if (Number.isFinite(this.start))
        this.history.push({ start: this.start, admitted: this.used, refused: this.refused });
      if (this.history.length > 1000) this.history.shift();
      this.start = now;
      this.used = 0;
      this.refused = 0;
    }
  }

  take(now: number): { allowed: boolean; remaining: number; resetAt: number } {
    this.roll(now);
    const allowed = this.used < this.limit;
    if (allowed) this.used++;
    else this.refused++;
    return { allowed, remaining: Math.max(0, this.limit - this.used), resetAt: this.start + 60_000 };
  }

  current() {
    return {
      start: Number.isFinite(this.start) ? this.start : null,
      admitted: this.used,
      refused: this.refused,
    };
  }
}

export function rateHeaders(
  limit: number,
  d: { remaining: number; resetAt: number },
  unit: ResetUnit,
  now: number,
): Record<string, string> {
  const reset =
    unit === "epoch-ms"
      ? d.resetAt
      : unit === "seconds-until"
        ? Math.ceil((d.resetAt - now) / 1000)
        : Math.ceil(d.resetAt / 1000);
  return {
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(d.remaining),
    "X-RateLimit-Reset": String(reset),
  };
}

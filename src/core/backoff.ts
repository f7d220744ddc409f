// Retry delays. Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter")
// spreads retries from many accounts so they don't hit a recovering provider in lockstep.

/** Ceilings grow as baseMs · factor^attempt (factor 2 unless given), capped at capMs. */
export type BackoffOptions = { baseMs: number; capMs: number; factor?: number };

/** Uniform integer in [0, min(capMs, baseMs * 2^attempt)]; attempt counts from 0. */
export function fullJitterBackoffMs(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt));
  const ceiling = Math.max(0, Math.min(opts.capMs, opts.baseMs * 2 ** exponent));
  // random() is in [0, 1); the +1 makes the ceiling itself reachable.
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}

/**
 * "Equal jitter": uniform integer in [c/2, c] with c = min(capMs, baseMs * 2^attempt); attempt counts from 0.
 * Half of every delay is kept, so unlike full jitter the total over n attempts has a floor
 * (equalJitterMinTotalMs) that a retry budget can be sized against, while the other half still spreads
 * retries from many senders.
 */
export function equalJitterBackoffMs(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = backoffCeilingMs(attempt, opts);
  const floor = Math.ceil(ceiling / 2);
  return Math.min(ceiling, floor + Math.floor(random() * (ceiling - floor + 1)));
}

/** The least total time equalJitterBackoffMs can wait over attempts 0..n-1: the sum of ceil(c_k / 2). */
export function equalJitterMinTotalMs(attempts: number, opts: BackoffOptions): number {
  let total = 0;
  for (let k = 0; k < attempts; k++) total += Math.ceil(backoffCeilingMs(k, opts) / 2);
  return total;
}

function backoffCeilingMs(attempt: number, opts: BackoffOptions): number {
  const exponent = Math.max(0, Math.floor(attempt));
  return Math.max(0, Math.min(opts.capMs, opts.baseMs * (opts.factor ?? 2) ** exponent));
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

// The three HTTP-date forms RFC 9110 §5.6.7 requires recipients to accept. Parsed by
// hand because Date.parse differs between V8 (workerd, Node, Deno) and JavaScriptCore (Bun).
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE = /^[A-Za-z]+, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function utcMs(
  day: string,
  monthName: string,
  year: number,
  hour: string,
  minute: string,
  second: string,
): number | null {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month === -1) return null;
  const ms = Date.UTC(year, month, Number(day), Number(hour), Number(minute), Number(second));
  return Number.isFinite(ms) ? ms : null;
}

export function parseHttpDate(value: string): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utcMs(m[1]!, m[2]!, Number(m[3]), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(value);
  if (m) {
    const yy = Number(m[3]);
    // Two-digit years: RFC 9110 says to pick the most recent past century; 1970 is close enough.
    return utcMs(m[1]!, m[2]!, yy < 70 ? 2000 + yy : 1900 + yy, m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return utcMs(m[2]!.trim(), m[1]!, Number(m[6]), m[3]!, m[4]!, m[5]!);
  return null;
}

/**
 * `Retry-After` as a delay in ms from nowMs: delta-seconds or an HTTP-date (a date in
 * the past means "now", i.e. 0). Null when absent or unparseable so the caller falls
 * back to its own backoff.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed === "") return null;
  // Fractional seconds are outside the RFC but some APIs send them; accepting is harmless.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = parseHttpDate(trimmed);
  return at === null ? null : Math.max(0, at - nowMs);
}

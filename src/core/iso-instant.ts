// ISO-8601 with seconds optional, `Z`, an offset or no zone. Date.parse alone would accept "1" or "May 5" and
// Postgres would then reject the row inside a whole batch's transaction, so the shape is checked first.
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * The instant an ISO-8601 text names, as a UTC ISO string; null when the text isn't ISO-8601. A timestamp
 * without a zone is read as UTC: connectors whose provider documents another zone convert before calling.
 */
export function isoInstant(s: string): string | null {
  return canonicalUtc(s) ?? parseAny(s);
}

/** `YYYY-MM-DDTHH:MM:SS[.sss]Z`: the UTC form providers send most, and the form isoInstant answers in. */
const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;

/**
 * A canonical UTC time naming a real calendar instant is its own answer (with `.000` when it has no
 * milliseconds): what parsing and printing it again would give, without the Date round trip that cost most of
 * isoInstant's time. Anything else (another zone, other digits, a day the month lacks, 24:00) is null here and
 * takes the general path, so the answers are the same.
 */
function canonicalUtc(s: string): string | null {
  if ((s.length !== 20 && s.length !== 24) || !CANONICAL_UTC.test(s)) return null;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (digitsAt(s, 11, 2) > 23 || digitsAt(s, 14, 2) > 59 || digitsAt(s, 17, 2) > 59) return null;
  return s.length === 24 ? s : `${s.slice(0, 19)}.000Z`;
}

/** The number the ASCII digits at s[at, at + count) spell (the caller checked they are digits). */
function digitsAt(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function parseAny(s: string): string | null {
  if (!ISO.test(s)) return null;
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(withZone.replace(" ", "T"));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

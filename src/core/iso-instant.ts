// ISO-8601 with seconds optional, `Z`, an offset or no zone. Date.parse alone would accept "1" or "May 5" and
// Postgres would then reject the row inside a whole batch's transaction, so the shape is checked first.
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * The instant an ISO-8601 text names, as a UTC ISO string; null when the text isn't ISO-8601. A timestamp
 * without a zone is read as UTC: connectors whose provider documents another zone convert before calling.
 */
export function isoInstant(s: string): string | null {
  // A record's times are read several times on its way (cursor, validation, each core row it maps to), so
  // recent answers are kept; only strings of a timestamp's length, so a hostile megabyte is never held.
  if (s.length > MEMO_MAX_LENGTH) return parse(s);
  const known = memo.get(s);
  if (known !== undefined) return known;
  const answer = parse(s);
  if (memo.size >= MEMO_ENTRIES) memo.clear();
  memo.set(s, answer);
  return answer;
}

const MEMO_MAX_LENGTH = 40;
const MEMO_ENTRIES = 10_000;
const memo = new Map<string, string | null>();

function parse(s: string): string | null {
  if (!ISO.test(s)) return null;
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(withZone.replace(" ", "T"));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

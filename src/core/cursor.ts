// Compound delta cursor. Providers filter by an `updated` timestamp, and many records
// can share one timestamp (bulk edits, imports); a time-only cursor would skip the
// records of a shared timestamp that fell past a page boundary. Ordering by
// (updated, id) makes every record's position unique.
//
// How the pieces fit: ask the provider for `updatedAfter = overlapStart(cursor, overlap)`
// so a strict `>` filter, clock skew or late-visible writes can't hide records at or
// just before the cursor; re-reading the overlap is harmless because core upserts are
// idempotent. Advance with maxCursor over each durably staged page.

export type Cursor = { updated: string; id: string };

type Instant = { seconds: number; nanos: number };

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parsed by hand, to nanoseconds: providers send microseconds, which Date.parse would
 * truncate (or reject, depending on the engine) and so tie records that are ordered.
 */
function parseInstant(iso: string): Instant | null {
  const m = ISO_INSTANT.exec(iso.trim());
  if (!m) {
    const ms = Date.parse(iso);
    return Number.isFinite(ms)
      ? { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 }
      : null;
  }
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    seconds -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
  }
  return { seconds, nanos: Number(frac.slice(0, 9).padEnd(9, "0")) };
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, what toISOString (and so isoInstant) writes for years 0000-9999. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function compareTime(a: string, b: string): number {
  // Two times in the canonical form order as their text does: every field is fixed-width, most significant
  // first. Cursors keep that form, so advancing one over a page compares text instead of parsing twice.
  if (a.length === 24 && b.length === 24 && CANONICAL.test(a) && CANONICAL.test(b)) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = parseInstant(a);
  const y = parseInstant(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  return compareNumbers(x.seconds, y.seconds) || compareNumbers(x.nanos, y.nanos);
}

const INTEGER = /^\d+$/;

function compareIds(a: string, b: string): number {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    // Numeric without BigInt or precision loss: strip leading zeros, then longer is larger.
    const x = a.replace(/^0+(?=\d)/, "");
    const y = b.replace(/^0+(?=\d)/, "");
    if (x.length !== y.length) return compareNumbers(x.length, y.length);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  // Code-unit order, not localeCompare: it must be identical in every runtime.
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareCursor(a: Cursor, b: Cursor): number {
  return compareTime(a.updated, b.updated) || compareIds(a.id, b.id);
}

export function isAfterCursor(record: Cursor, cursor: Cursor | null): boolean {
  return cursor === null || compareCursor(record, cursor) > 0;
}

export function maxCursor(a: Cursor, b: Cursor): Cursor;
export function maxCursor(a: Cursor | null, b: Cursor | null): Cursor | null;
export function maxCursor(a: Cursor | null, b: Cursor | null): Cursor | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareCursor(a, b) >= 0 ? a : b;
}

/** cursor.updated − overlapMs as ISO-8601 UTC; sub-millisecond digits round down (more overlap, never less). */
export function overlapStart(cursor: Cursor, overlapMs: number): string {
  const instant = parseInstant(cursor.updated);
  if (!instant) throw new Error("cursor.updated is not an ISO-8601 timestamp");
  const ms = instant.seconds * 1000 + Math.floor(instant.nanos / 1e6) - overlapMs;
  return new Date(ms).toISOString();
}

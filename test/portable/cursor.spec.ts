import { type Cursor, compareCursor, isAfterCursor, maxCursor, overlapStart } from "../../src/core/cursor";
import { isoInstant } from "../../src/core/iso-instant";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const c = (updated: string, id: string): Cursor => ({ updated, id });
const sign = (n: number) => Math.sign(n);

test("cursor: orders by time, then id", () => {
  assertEqual(sign(compareCursor(c("2024-01-01T00:00:00Z", "9"), c("2024-01-01T00:00:01Z", "1"))), -1);
  assertEqual(sign(compareCursor(c("2024-01-01T00:00:01Z", "1"), c("2024-01-01T00:00:00Z", "9"))), 1);
  assertEqual(sign(compareCursor(c("2024-01-01T00:00:00Z", "5"), c("2024-01-01T00:00:00Z", "5"))), 0);
});

test("cursor: integer ids compare numerically, others by code unit", () => {
  const t = "2024-01-01T00:00:00Z";
  assertEqual(sign(compareCursor(c(t, "9"), c(t, "10"))), -1);
  assertEqual(sign(compareCursor(c(t, "007"), c(t, "7"))), 0);
  assertEqual(sign(compareCursor(c(t, "123456789012345678901"), c(t, "123456789012345678902"))), -1);
  assertEqual(sign(compareCursor(c(t, "a9"), c(t, "a10"))), 1);
  assertEqual(sign(compareCursor(c(t, "B"), c(t, "a"))), -1);
  assertEqual(sign(compareCursor(c(t, "10"), c(t, "9a"))), -1);
});

test("cursor: equal instants in different ISO spellings tie; sub-millisecond digits count", () => {
  const id = "1";
  assertEqual(compareCursor(c("2024-01-01T00:00:00Z", id), c("2024-01-01T00:00:00.000Z", id)), 0);
  assertEqual(compareCursor(c("2024-01-01T01:00:00+01:00", id), c("2024-01-01T00:00:00Z", id)), 0);
  assertEqual(compareCursor(c("2023-12-31T19:00:00-0500", id), c("2024-01-01T00:00:00Z", id)), 0);
  assertEqual(sign(compareCursor(c("2024-01-01T00:00:00.000001Z", id), c("2024-01-01T00:00:00Z", id))), 1);
  assertEqual(sign(compareCursor(c("2024-01-01T00:00:00.1Z", id), c("2024-01-01T00:00:00.09Z", id))), 1);
});

test("cursor: isAfterCursor and maxCursor", () => {
  const cur = c("2024-01-01T00:00:00Z", "10");
  assertTrue(isAfterCursor(c("2024-01-01T00:00:00Z", "11"), cur));
  assertTrue(!isAfterCursor(c("2024-01-01T00:00:00Z", "10"), cur));
  assertTrue(!isAfterCursor(c("2024-01-01T00:00:00Z", "9"), cur));
  assertTrue(isAfterCursor(c("2024-01-01T00:00:00Z", "1"), null));
  assertDeepEqual(maxCursor(cur, c("2024-01-01T00:00:00Z", "9")), cur);
  assertDeepEqual(maxCursor(c("2024-01-01T00:00:00Z", "9"), cur), cur);
  assertDeepEqual(maxCursor(null, cur), cur);
  assertDeepEqual(maxCursor(cur, null), cur);
  assertEqual(maxCursor(null, null), null);
});

test("cursor: overlapStart subtracts the overlap and rounds down", () => {
  assertEqual(overlapStart(c("2024-01-01T00:00:10.5Z", "1"), 5_000), "2024-01-01T00:00:05.500Z");
  assertEqual(overlapStart(c("2024-01-01T00:00:00.000999Z", "1"), 0), "2024-01-01T00:00:00.000Z");
  assertEqual(overlapStart(c("2024-01-01T02:00:00+02:00", "1"), 60_000), "2023-12-31T23:59:00.000Z");
});

type Row = Cursor & { version: number };

/** A provider that filters `updated > updatedAfter` (strict) and pages by offset in (updated, id) order. */
function provider(rows: Row[]) {
  const sorted = [...rows].sort(compareCursor);
  return (updatedAfter: string, offset: number, limit: number): Row[] =>
    sorted
      .filter((r) => compareCursor(c(r.updated, ""), c(updatedAfter, "")) > 0)
      .slice(offset, offset + limit);
}

/** One sync run; returns the committed cursor, stopping early after `crashAfter` pages. */
function syncRun(
  list: ReturnType<typeof provider>,
  start: Cursor | null,
  staged: Map<string, Row>,
  overlapMs: number,
  crashAfter: number,
): { cursor: Cursor | null; crashed: boolean } {
  let cursor = start;
  const updatedAfter = cursor ? overlapStart(cursor, overlapMs) : "1970-01-01T00:00:00Z";
  let offset = 0;
  for (let page = 1; ; page++) {
    const rows = list(updatedAfter, offset, 10);
    if (rows.length === 0) return { cursor, crashed: false };
    for (const r of rows) staged.set(r.id, r);
    // Commit only after the page is staged: a crash refetches, never skips.
    for (const r of rows) cursor = maxCursor(cursor, c(r.updated, r.id));
    offset += rows.length;
    if (page === crashAfter) return { cursor, crashed: true };
  }
}

function dataset(): Row[] {
  const rows: Row[] = [];
  let id = 1;
  const add = (updated: string, n: number) => {
    for (let i = 0; i < n; i++) rows.push({ updated, id: String(id++), version: 1 });
  };
  add("2024-03-01T10:00:00Z", 7);
  // 25 records share one timestamp across several 10-record pages; ids 8..32 cross 9 -> 10.
  add("2024-03-01T10:00:05Z", 25);
  add("2024-03-01T10:00:05.000001Z", 3);
  add("2024-03-01T10:00:06Z", 12);
  return rows.reverse();
}

test("cursor: records sharing a timestamp across page boundaries are never skipped, even across crashes", () => {
  const rows = dataset();
  const list = provider(rows);
  for (let crashAfter = 1; crashAfter <= 6; crashAfter++) {
    const staged = new Map<string, Row>();
    let cursor: Cursor | null = null;
    // Crash after N pages in the first runs, then finish cleanly.
    for (let run = 0; run < 4; run++) {
      cursor = syncRun(list, cursor, staged, 1_000, run < 3 ? crashAfter : Number.POSITIVE_INFINITY).cursor;
    }
    assertEqual(staged.size, rows.length, `crash after ${crashAfter} pages`);
    assertDeepEqual(cursor, c("2024-03-01T10:00:06Z", "47"));
  }
});

test("cursor: a time-only resume with a strict provider filter would skip (why the overlap exists)", () => {
  const rows = dataset();
  const list = provider(rows);
  const staged = new Map<string, Row>();
  const { cursor } = syncRun(list, null, staged, 1_000, 1);
  assertDeepEqual(cursor, c("2024-03-01T10:00:05Z", "10"));
  // Resuming at exactly cursor.updated: `updated > 10:00:05` drops ids 11..32.
  syncRun(list, cursor, staged, 0, Number.POSITIVE_INFINITY);
  assertEqual(staged.size, rows.length - 22);
  // With the overlap they come back, and isAfterCursor picks out exactly the unseen ones.
  const resumed = list(overlapStart(cursor!, 1_000), 0, 1_000);
  const fresh = resumed.filter((r) => isAfterCursor(r, cursor));
  assertEqual(fresh.length, rows.length - 10);
});

test("cursor: canonical times compare as text exactly as parsed times do (randomized)", () => {
  let seed = 4242;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // Instants across years 0000-9999, many sharing a second or a millisecond, as toISOString writes them.
  const min = Date.UTC(0, 0, 1) - 1900 * 365.25 * 86_400_000;
  const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  const pool: number[] = [];
  for (let i = 0; i < 200; i++) {
    const base = min + rand(1_000_000) * ((max - min) / 1_000_000);
    pool.push(Math.floor(base), Math.floor(base) + rand(3), Math.floor(base) + 1000 * rand(2));
  }
  const iso = (ms: number) =>
    new Date(Math.min(max, Math.max(Date.UTC(0, 0, 1) - 1900 * 365.25 * 86_400_000, ms))).toISOString();
  for (let i = 0; i < 5_000; i++) {
    const a = iso(pool[rand(pool.length)] ?? 0);
    const b = iso(pool[rand(pool.length)] ?? 0);
    if (a.length !== 24) continue;
    const expected = Math.sign(Date.parse(a) - Date.parse(b));
    assertEqual(sign(compareCursor(c(a, "1"), c(b, "1"))), expected);
    // The same instant in another spelling takes the parsing path and agrees.
    const offset = `${a.slice(0, 19)}${a.slice(19, 23) === ".000" ? "" : a.slice(19, 23)}+00:00`;
    assertEqual(sign(compareCursor(c(offset, "1"), c(b, "1"))), expected);
  }
});

test("isoInstant: the same answer every time, for short and long strings", () => {
  const texts = ["2024-01-01T00:00:00Z", "2024-01-01 01:00:00+01:00", "May 5", "2024-02-01T00:00:00.123456Z"];
  const first = texts.map((t) => isoInstant(t));
  assertDeepEqual(first, [
    "2024-01-01T00:00:00.000Z",
    "2024-01-01T00:00:00.000Z",
    null,
    "2024-02-01T00:00:00.123Z",
  ]);
  for (let i = 0; i < 25_000; i++) isoInstant(new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString());
  assertDeepEqual(
    texts.map((t) => isoInstant(t)),
    first,
  );
  const long = `2024-01-01T00:00:00${"0".repeat(100)}Z`;
  assertEqual(isoInstant(long), isoInstant(long));
});

/** isoInstant as it was before its canonical shortcut: the model the randomized test compares against. */
function isoInstantModel(s: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i.test(s))
    return null;
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(withZone.replace(" ", "T"));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

test("isoInstant: the canonical UTC shortcut answers as parsing does, for real and impossible dates (randomized)", () => {
  let seed = 777;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  const years = [0, 4, 100, 400, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 9999];
  for (let i = 0; i < 20_000; i++) {
    const y = rand(3) === 0 ? (years[rand(years.length)] ?? 2024) : rand(10_000);
    // Fields past their ranges on purpose: month 0/13, day 0/29-32, hour 24, minute and second 60.
    const text = `${pad(y, 4)}-${pad(rand(14), 2)}-${pad(rand(33), 2)}T${pad(rand(25), 2)}:${pad(rand(61), 2)}:${pad(rand(61), 2)}${rand(2) ? `.${pad(rand(1000), 3)}` : ""}Z`;
    assertEqual(isoInstant(text), isoInstantModel(text), text);
  }
  for (const text of [
    "2024-02-29T12:00:00Z",
    "2023-02-29T12:00:00Z",
    "1900-02-29T00:00:00.000Z",
    "2000-02-29T23:59:59.999Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01t00:00:00z",
    "2024-01-01T00:00:00.5Z",
  ]) {
    assertEqual(isoInstant(text), isoInstantModel(text), text);
  }
});

import { fullJitterBackoffMs, parseHttpDate, parseRetryAfter } from "../../src/core/backoff";
import { assertEqual, assertTrue, test } from "./harness";

const opts = { baseMs: 100, capMs: 10_000 };

test("backoff: ceiling doubles per attempt and is capped", () => {
  const top = () => 0.999999999;
  assertEqual(fullJitterBackoffMs(0, opts, top), 100);
  assertEqual(fullJitterBackoffMs(1, opts, top), 200);
  assertEqual(fullJitterBackoffMs(5, opts, top), 3200);
  assertEqual(fullJitterBackoffMs(7, opts, top), 10_000);
  assertEqual(fullJitterBackoffMs(5000, opts, top), 10_000);
  assertEqual(
    fullJitterBackoffMs(3, opts, () => 0),
    0,
  );
  assertEqual(fullJitterBackoffMs(-2, opts, top), 100);
});

test("backoff: default random stays within [0, ceiling]", () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    for (let i = 0; i < 50; i++) {
      const d = fullJitterBackoffMs(attempt, opts);
      assertTrue(
        Number.isInteger(d) && d >= 0 && d <= Math.min(10_000, 100 * 2 ** attempt),
        `attempt ${attempt}: ${d}`,
      );
    }
  }
});

test("retry-after: delta seconds", () => {
  assertEqual(parseRetryAfter("120", 0), 120_000);
  assertEqual(parseRetryAfter(" 0 ", 0), 0);
  assertEqual(parseRetryAfter("1.5", 0), 1500);
});

test("retry-after: absent or invalid is null", () => {
  assertEqual(parseRetryAfter(null, 0), null);
  assertEqual(parseRetryAfter("", 0), null);
  assertEqual(parseRetryAfter("-5", 0), null);
  assertEqual(parseRetryAfter("soon", 0), null);
  assertEqual(parseRetryAfter("Sun, 06 Foo 1994 08:49:37 GMT", 0), null);
});

test("retry-after: HTTP-date in all three RFC 9110 forms", () => {
  const at = Date.UTC(1994, 10, 6, 8, 49, 37);
  assertEqual(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), at);
  assertEqual(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), at);
  assertEqual(parseHttpDate("Sun Nov  6 08:49:37 1994"), at);
  assertEqual(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", at - 30_000), 30_000);
  // A date already past means retry now.
  assertEqual(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", at + 5_000), 0);
});

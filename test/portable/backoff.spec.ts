import {
  equalJitterBackoffMs,
  equalJitterMinTotalMs,
  fullJitterBackoffMs,
  parseHttpDate,
  parseRetryAfter,
} from "../../src/core/backoff";
import { isDatabaseUnreachable } from "../../src/core/db-outage";
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

test("equal jitter: every delay keeps half its ceiling; the floor of a total is the sum of halves", () => {
  const top = () => 0.999999999;
  assertEqual(
    equalJitterBackoffMs(0, opts, () => 0),
    50,
  );
  assertEqual(equalJitterBackoffMs(0, opts, top), 100);
  assertEqual(
    equalJitterBackoffMs(3, opts, () => 0),
    400,
  );
  assertEqual(equalJitterBackoffMs(3, opts, top), 800);
  assertEqual(
    equalJitterBackoffMs(50, opts, () => 0),
    5_000,
  );
  assertEqual(equalJitterBackoffMs(50, opts, top), 10_000);
  // 50 + 100 + 200 + 400 + 800 + 1600 + 3200 + 5000 (capped)
  assertEqual(equalJitterMinTotalMs(8, opts), 11_350);
  for (let i = 0; i < 100; i++) {
    let total = 0;
    for (let attempt = 0; attempt < 8; attempt++) total += equalJitterBackoffMs(attempt, opts);
    assertTrue(total >= 11_350, `total ${total}`);
  }
});

test("database outage: unreachable Postgres is told apart from Postgres refusing", () => {
  const wrapped = (cause: unknown) => Object.assign(new Error("Failed query: select 1\nparams: "), { cause });
  assertTrue(isDatabaseUnreachable(wrapped(new Error("Connection terminated unexpectedly"))), "terminated");
  // The Neon driver in workerd with the proxy down: an ErrorEvent-like cause.
  assertTrue(isDatabaseUnreachable(wrapped({ message: "Uncaught Error: Network connection lost." })), "lost");
  assertTrue(isDatabaseUnreachable(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), "refused");
  for (const code of ["57P01", "57P02", "57P03", "08006", "08001"])
    assertTrue(isDatabaseUnreachable(wrapped(Object.assign(new Error("server"), { code }))), code);
  for (const code of ["22P02", "23505", "40P01", "55P03", "57014", "42703"])
    assertTrue(!isDatabaseUnreachable(wrapped(Object.assign(new Error("server"), { code }))), code);
  // A wrapper's own text (the statement, a payload) is not read as a socket error.
  assertTrue(
    !isDatabaseUnreachable(new Error("Failed query: insert 'websocket fetch failed'")),
    "query text",
  );
  assertTrue(!isDatabaseUnreachable(new TypeError("cannot read properties of undefined")), "bug");
  assertTrue(!isDatabaseUnreachable(null), "null");
});

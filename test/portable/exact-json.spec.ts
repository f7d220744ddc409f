import { isLossyNumber, parseJsonExact, quoteLossyNumbers } from "../../src/core/exact-json";
import { assertDeepEqual, assertEqual, test } from "./harness";

test("exact-json: numbers a double can't hold keep their digits as strings; the rest parse as JSON.parse", () => {
  assertDeepEqual(parseJsonExact('{"a":1,"b":[2.5,-3e2]}'), { a: 1, b: [2.5, -300] });
  assertDeepEqual(
    parseJsonExact(
      '{"id":9007199254740993,"n":[18446744073709551617,-123456789012345678901234567890,1e400,9007199254740991]}',
    ),
    {
      id: "9007199254740993",
      n: ["18446744073709551617", "-123456789012345678901234567890", "1e400", 9007199254740991],
    },
  );
  // Digits inside strings are text already; escaped quotes don't end a string.
  assertDeepEqual(parseJsonExact('{"s":"12345678901234567890 \\" 99999999999999999999","x":1}'), {
    s: '12345678901234567890 " 99999999999999999999',
    x: 1,
  });
  assertEqual(isLossyNumber("1.5e300"), false);
  assertEqual(isLossyNumber("-9007199254740992"), true);
  assertEqual(quoteLossyNumbers("[1,2]"), "[1,2]");
});

test("exact-json: 20,000 levels deep with a big number parse without running out of stack", () => {
  const depth = 20_000;
  const text = `${"[".repeat(depth)}18446744073709551617${"]".repeat(depth)}`;
  let v = parseJsonExact(text);
  for (let i = 0; i < depth; i++) v = (v as unknown[])[0];
  assertEqual(v, "18446744073709551617");
});

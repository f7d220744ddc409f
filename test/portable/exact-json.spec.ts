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

/** The character-by-character scan the string skip replaced: the model the randomized test compares against. */
function quoteLossyModel(text: string): string {
  let out = "";
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (m && (c === "-" || (c !== undefined && c >= "0" && c <= "9"))) {
      if (isLossyNumber(m[0])) {
        out += `${text.slice(from, i)}"${m[0]}"`;
        from = i + m[0].length;
      }
      i += m[0].length;
      continue;
    }
    i++;
  }
  return out + text.slice(from);
}

test("exact-json: strings with runs of backslashes, escaped quotes and digits scan as the model does", () => {
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ["\\", '\\"', "\\\\", "12345678901234567890", "a", " ", "\\u0041", "é", "😀"];
  const str = () => {
    let s = "";
    for (let k = next(6); k > 0; k--) s += pieces[next(pieces.length)];
    return `"${s}"`;
  };
  const nums = ["1", "-2.5", "9007199254740993", "1e400", "18446744073709551617", "0", "3e-7"];
  for (let round = 0; round < 2_000; round++) {
    const parts: string[] = [];
    for (let k = 1 + next(8); k > 0; k--) {
      parts.push(next(2) === 0 ? `${str()}:${nums[next(nums.length)]}` : `${str()}:${str()}`);
    }
    const text = `{${parts.join(",")}}`;
    assertEqual(quoteLossyNumbers(text), quoteLossyModel(text));
  }
  // A string left open at the end of the text leaves the rest as it is, as before.
  assertEqual(quoteLossyNumbers('["abc\\"'), quoteLossyModel('["abc\\"'));
});

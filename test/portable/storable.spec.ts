import {
  asWrapper,
  decodeStorable,
  escapeReason,
  exactEscapeReason,
  findUnholdable,
  jsonDepth,
  MAX_STORABLE_DEPTH,
  storableText,
  stringifyIteratively,
  stringReason,
  tooDeep,
  toStorableJson,
} from "../../src/core/storable";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const deepArray = (n: number) => JSON.parse("[".repeat(n) + "]".repeat(n)) as unknown;

test("storable: plain values are JSON.stringify's text, untouched", () => {
  const value = { id: 1, name: "Zoë 😀", note: "tab\there\u0001", big: 2 ** 60, nested: { a: [1, 2] } };
  assertEqual(toStorableJson(value), JSON.stringify(value));
  assertEqual(toStorableJson(undefined), "null");
});

test("storable: NUL and lone surrogates are wrapped and decode back exactly", () => {
  for (const [value, reason] of [
    [{ id: 1, name: "a\u0000b" }, "nul"],
    [{ id: 2, name: "x\udc00y" }, "lone_surrogate"],
    [{ id: 3, name: "\ud83d" }, "lone_surrogate"],
    [{ id: 4, "k\u0000": 1 }, "nul"],
  ] as const) {
    const json = toStorableJson(value);
    assertTrue(!json.includes("\u0000"), "no raw NUL in the encoding");
    assertEqual(escapeReason(json), null, "the encoding itself is storable");
    const parsed = JSON.parse(json) as unknown;
    assertEqual(asWrapper(parsed)?.reason, reason);
    assertDeepEqual(decodeStorable(parsed), value);
  }
});

test("storable: an escaped backslash before u0000 is not an escape, a paired surrogate is fine", () => {
  assertEqual(escapeReason(JSON.stringify({ s: "\\u0000" })), null);
  assertEqual(escapeReason(JSON.stringify({ s: "\\\u0000" })), "nul");
  assertEqual(escapeReason(JSON.stringify({ s: "😀" })), null);
  // A sender may escape a pair; the exact check accepts it, a lone one in the same spelling is refused.
  const pair = '{"s":"\\ud83d\\ude00"}';
  assertEqual(exactEscapeReason(pair, JSON.parse(pair)), null);
  const lone = '{"s":"\\uD83D x"}';
  assertEqual(exactEscapeReason(lone, JSON.parse(lone)), "lone_surrogate");
});

test("storable: a value that looks like the wrapper is wrapped itself, so decoding is unambiguous", () => {
  const value = { reason: "nul", $unstorable: "1" };
  const parsed = JSON.parse(toStorableJson(value)) as unknown;
  assertEqual(asWrapper(parsed)?.reason, "reserved_key");
  assertDeepEqual(decodeStorable(parsed), value);
});

test("storable: deep nesting is wrapped as too_deep (whether or not the engine's stringify copes)", () => {
  const value = { id: 1, deep: deepArray(50_000) };
  const json = toStorableJson(value, { checkDepth: true });
  const parsed = JSON.parse(json) as unknown;
  assertEqual(asWrapper(parsed)?.reason, "too_deep");
  assertEqual(jsonDepth(json), 1);
  assertEqual(jsonDepth((asWrapper(parsed) as { $unstorable: string }).$unstorable), 50_001);
});

test("storable: depth counts arrays and objects, not brackets inside strings; webhook-sized bodies are checked", () => {
  assertEqual(jsonDepth('{"a":"[[[[\\"[[","b":[{}]}'), 3);
  assertEqual(tooDeep("[[[[]]]]", 3), true);
  assertEqual(tooDeep("[[[]]]", 3), false);
  const shallow = JSON.stringify({ a: "x".repeat(50_000) });
  assertEqual(storableText(shallow, JSON.parse(shallow)).reason, null);
  const body = "[".repeat(MAX_STORABLE_DEPTH + 1) + "]".repeat(MAX_STORABLE_DEPTH + 1);
  assertEqual(storableText(body, JSON.parse(body)).reason, "too_deep");
});

test("storable: the iterative stringify matches JSON.stringify", () => {
  const value = { a: [1, 'x"\\', null, true, { b: undefined, c: 1.5 }], d: {}, e: [], f: Number.NaN };
  assertEqual(stringifyIteratively(value), JSON.stringify(value));
  assertEqual(stringifyIteratively("s"), '"s"');
});

test("storable: unholdable strings are found by path, never by value", () => {
  assertEqual(stringReason("fine \u0001 😀"), null);
  assertEqual(stringReason("a\u0000"), "nul");
  assertEqual(stringReason("\udfff"), "lone_surrogate");
  assertDeepEqual(findUnholdable({ a: { b: ["ok", "bad\u0000"] } }, "raw"), {
    path: "raw.a.b[1]",
    reason: "nul",
  });
  assertDeepEqual(findUnholdable({ "k\ud800": 1 }), { path: "(a key)", reason: "lone_surrogate" });
  assertEqual(findUnholdable({ a: "😀", b: [1, null] }), null);
});

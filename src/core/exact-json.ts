// JSON numbers a double cannot hold (integers beyond 2^53, magnitudes beyond 1.8e308) would silently become
// other numbers (or Infinity, then null) the moment a page is parsed. They are kept instead as their exact
// decimal text, a JSON string: the documented encoding of such numbers in staged and core records. A typed field
// expecting a number then fails validation with its reason (an id beyond 2^53 is never rounded onto another
// record's id), and an untyped field keeps the provider's exact digits.

/** Could the text hold a number a double can't: 16+ digits in a row, or a three-digit exponent. */
const SUSPECT = /[0-9]{16}|[eE][+-]?[0-9]{3}/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** A number literal whose double is not the number it writes (beyond 2^53 as an integer, or not finite). */
export function isLossyNumber(literal: string): boolean {
  const value = Number(literal);
  if (!Number.isFinite(value)) return true;
  return /^-?[0-9]+$/.test(literal) && !Number.isSafeInteger(value);
}

/**
 * Index just past the string that opens at `open`: strings are most of a provider page, so the closing quote
 * is found by indexOf (native speed) and accepted when an even number of backslashes precedes it.
 */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let back = quote - 1;
    while (back > open && text.charCodeAt(back) === 92 /* \ */) back--;
    if ((quote - 1 - back) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * The JSON text with every lossy number literal outside strings turned into a string holding its digits. A
 * single pass without recursion, so nesting depth costs nothing; invalid JSON stays invalid for JSON.parse to
 * report.
 */
export function quoteLossyNumbers(text: string): string {
  let out = "";
  let from = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) {
        i++;
        continue;
      }
      const literal = m[0];
      if (isLossyNumber(literal)) {
        out += `${text.slice(from, i)}"${literal}"`;
        from = i + literal.length;
      }
      i += literal.length;
      continue;
    }
    i++;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * JSON.parse, except that numbers a double cannot hold exactly stay their source text. Costs one regex test on
 * the common path; the text is rewritten only when it could hold such a number.
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(SUSPECT.test(text) ? quoteLossyNumbers(text) : text);
}

/**
 * SkySlope's file bodies can carry raw control characters (U+0001, U+001A, even U+0000) inside strings, which
 * strict JSON parsers refuse: one such byte would fail a whole page. Inside strings they become JSON escapes,
 * so the text is kept; U+0000 is dropped, since Postgres text can hold no NUL and the record would otherwise
 * fail as unstorable. Outside strings (where only whitespace may stand) they are dropped. A body without raw
 * control characters is returned as it is.
 */
export function repairSkyslopeBody(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is repaired here.
  if (!/[\u0000-\u001f]/.test(text)) return text;
  let out = "";
  let inString = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) {
        i++; // an escape: the next character is part of it
        continue;
      }
      if (code === 0x22) {
        inString = false;
        continue;
      }
      if (code < 0x20) {
        out += text.slice(from, i);
        if (code !== 0) out += `\\u${code.toString(16).padStart(4, "0")}`;
        from = i + 1;
      }
    } else if (code === 0x22) inString = true;
    else if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

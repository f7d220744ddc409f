import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../core/encoding";
import { AppError } from "../core/errors";

/**
 * An opaque paging cursor over a bigserial id, tagged per list (`f` failed records, `r` runs) so one list's
 * cursor is refused by another. Anything this API didn't hand out is a 400, never a 5xx.
 */
export function idCursor(tag: string) {
  const shape = new RegExp(`^${tag}:(\\d{1,15})$`);
  return {
    encode: (id: number) => toBase64Url(utf8(`${tag}:${id}`)),
    decode(cursor: string | undefined): number | undefined {
      if (cursor === undefined) return undefined;
      let text = "";
      try {
        text = fromUtf8(fromBase64Url(cursor));
      } catch {
        // falls through to the 400 below
      }
      const match = shape.exec(text);
      if (!match) throw new AppError(400, "invalid_cursor", "cursor is not one this API returned");
      return Number(match[1]);
    },
  };
}

import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/errors";
import { stringReason } from "../core/storable";

/** Account and connection ids as this API creates them; anything else cannot name an existing one. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function couldBeId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** Longest URL path and query this API reads; real ones are a fraction of it. */
const MAX_PATH = 2048;
const MAX_QUERY = 4096;

/**
 * Percent-decoding that never throws: null for malformed escapes (`%`, `%ZZ`, a cut sequence) and for bytes
 * that are not UTF-8 (an encoded lone surrogate), which decodeURIComponent rejects with URIError.
 */
export function decodeSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** Text that could be stored or compared: no NUL, no lone surrogate, no other control character. */
export function isCleanText(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  return stringReason(value) === null && !/[\u0000-\u001f\u007f]/.test(value);
}

/**
 * Rejects URLs no route could serve before any route reads them: malformed percent-encoding anywhere in the
 * path or query, control characters or lone surrogates in a query, and over-long URLs. Path segments that
 * decode to something no id can be are left to the routes, which answer them as the missing resource (404).
 */
export const rejectMalformedUrl: MiddlewareHandler = async (c, next) => {
  const url = new URL(c.req.url);
  if (url.pathname.length > MAX_PATH) throw new AppError(414, "uri_too_long", "the URL path is too long");
  for (const segment of url.pathname.split("/")) {
    if (decodeSegment(segment) === null) {
      throw new AppError(400, "invalid_path", "the URL path holds malformed percent-encoding");
    }
  }
  const query = url.search.slice(1);
  if (query.length > MAX_QUERY) throw new AppError(414, "uri_too_long", "the query string is too long");
  if (query) {
    for (const part of query.split("&")) {
      for (const piece of part.split("=")) {
        const decoded = decodeSegment(piece.replaceAll("+", " "));
        if (decoded === null || !isCleanText(decoded)) {
          throw new AppError(400, "invalid_query", "the query string holds malformed or control characters");
        }
      }
    }
  }
  return next();
};

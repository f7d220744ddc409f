import { isoInstant } from "../../core/iso-instant";

/**
 * Lofty writes times in at least four ways, by endpoint: `2026-05-25T00:00:00GMT` (lead fields), ISO-8601 with
 * `Z` (lead inquiries), `yyyy-MM-dd HH:mm:ss` in UTC (notes, calls) and epoch milliseconds (activities, v2
 * transactions), and `-1` for "unset". Each reads as an ISO instant; `null` is unset, `undefined` unreadable.
 */
export function loftyInstant(v: unknown): string | null | undefined {
  if (v === null || v === undefined || v === -1 || v === "-1" || v === "") return null;
  if (typeof v === "number") return epochMs(v);
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  if (/^\d{10,16}$/.test(s)) return epochMs(Number(s));
  const gmt = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)\s?GMT$/.exec(s);
  if (gmt) return isoInstant(`${gmt[1]}T${gmt[2]}Z`) ?? undefined;
  const plain = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)$/.exec(s);
  if (plain) return isoInstant(`${plain[1]}T${plain[2]}Z`) ?? undefined;
  return isoInstant(s) ?? undefined;
}

/** Epoch milliseconds as ISO; only the range a record can carry (1990 to 2200), so seconds are not misread. */
function epochMs(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 631_152_000_000 || n > 7_258_118_400_000) return undefined;
  return new Date(n).toISOString();
}

/** Whether a value is a time Lofty could have written (or unset). */
export const isLoftyTime = (v: unknown): boolean => loftyInstant(v) !== undefined;

/** The instant, or null for unset and unreadable values (validation has refused the unreadable ones). */
export const instantOf = (v: unknown): string | null => loftyInstant(v) ?? null;

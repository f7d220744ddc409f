// SkySlope writes times without an offset (`2020-10-13T18:38:42.997`, with 0 to 7 fraction digits) and says
// nothing about their zone. Public clients read them as UTC, so that is the default; a connection whose account
// sees local times sets `settings.timeZone` (an IANA name). Conversion uses Intl only, so it runs in any runtime.

/** The zone a connection's SkySlope times are read in when its settings name none. */
export const SKYSLOPE_DEFAULT_TIME_ZONE = "UTC";

/** The .NET "no value" date SkySlope sends for unset dates. */
const UNSET_YEAR = "0001";

const NAIVE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is a time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone named by a connection's settings, or the default; an unknown name is an error, never a guess. */
export function zoneOf(settings: Record<string, unknown> | undefined): string {
  const zone = settings?.timeZone;
  if (zone === undefined || zone === null || zone === "") return SKYSLOPE_DEFAULT_TIME_ZONE;
  if (typeof zone !== "string" || !isTimeZone(zone))
    throw new Error("settings.timeZone is not a known time zone");
  return zone;
}

/** The wall-clock fields of an instant (whole seconds) in a zone, as if they were UTC: epoch seconds. */
function wallSeconds(zone: string, epochSeconds: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(epochSeconds * 1000))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const y = parts.year ?? 1970;
  return (
    Date.UTC(
      y,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    ) / 1000
  );
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * The UTC instant (ISO, `Z`) of a wall-clock time in `zone`; fraction digits are kept (to microseconds, what
 * Postgres holds). A wall time skipped by a spring-forward is read with the offset before the change; one
 * repeated by a fall-back is the earlier of its two instants (what Temporal calls "compatible"): the text
 * itself cannot say which was meant.
 */
export function naiveToInstant(naive: string, zone: string): string | null {
  const m = NAIVE.exec(naive);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = "00", frac = ""] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (!Number.isFinite(wall) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59)
    return null;
  let epoch = wall;
  if (zone !== "UTC") {
    // The offsets in force half a day either side cover any one change; of the instants that show this wall
    // time the earliest wins, and a wall time no instant shows (skipped) takes the offset from before.
    const offsets = [wall - 43_200, wall, wall + 43_200].map((t) => wallSeconds(zone, t) - t);
    const shows = offsets.map((o) => wall - o).filter((t) => wallSeconds(zone, t) === wall);
    epoch = shows.length > 0 ? Math.min(...shows) : wall - (offsets[0] ?? 0);
  }
  const date = new Date(epoch * 1000);
  const whole = `${date.getUTCFullYear().toString().padStart(4, "0")}-${pad(date.getUTCMonth() + 1)}-${pad(
    date.getUTCDate(),
  )}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  const digits = frac.slice(0, 6);
  return `${whole}${digits ? `.${digits}` : ""}Z`;
}

/**
 * A SkySlope time as an instant: with an offset it is read as written, without one in `zone`. Null for the
 * unset date (0001-01-01), null, or text that is no time at all.
 */
export function skyslopeInstant(value: unknown, zone: string): string | null {
  if (typeof value !== "string" || value === "" || value.startsWith(UNSET_YEAR)) return null;
  if (OFFSET.test(value)) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
  }
  return naiveToInstant(value, zone);
}

/** A date-only field (`2020-10-15T00:00:00`) as a date; null when unset or not a date. */
export function skyslopeDate(value: unknown): string | null {
  if (typeof value !== "string" || value.startsWith(UNSET_YEAR)) return null;
  const m = /^(\d{4}-\d{2}-\d{2})(?:T|$)/.exec(value);
  return m?.[1] ?? null;
}

/**
 * An instant written as SkySlope writes times: the wall clock in `zone`, no offset, milliseconds kept. The
 * bound of a `modifiedAfter` filter, so it must name the same moment the provider's own times would.
 */
export function instantToNaive(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error("not an instant");
  const seconds = Math.floor(ms / 1000);
  const wall = zone === "UTC" ? seconds : wallSeconds(zone, seconds);
  const date = new Date(wall * 1000);
  const millis = ms - seconds * 1000;
  return `${date.getUTCFullYear().toString().padStart(4, "0")}-${pad(date.getUTCMonth() + 1)}-${pad(
    date.getUTCDate(),
  )}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(millis, 3)}`;
}

// SkySlope writes times as the server's wall clock without an offset, in .NET's form: fraction digits up to 7
// with trailing zeros dropped ("...42.997", "...21.14", none at all). Written from the facts file, independent
// of the connector: the simulator keeps instants and renders them this way.

const formatters = new Map<string, Intl.DateTimeFormat>();

function parts(zone: string, ms: number): Record<string, number> {
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
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== "literal") out[p.type] = Number(p.value);
  return out;
}

const two = (n: number | undefined) => String(n ?? 0).padStart(2, "0");

/**
 * An instant as SkySlope prints it. `ticks` are the 100 ns units below the second (0..9,999,999), so a time
 * can carry more digits than a millisecond.
 */
export function wallText(zone: string, epochSecond: number, ticks: number): string {
  const p = parts(zone, epochSecond * 1000);
  const base = `${String(p.year).padStart(4, "0")}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
  const frac = String(ticks).padStart(7, "0").replace(/0+$/, "");
  return frac ? `${base}.${frac}` : base;
}

/** The instant in ISO UTC with its fraction to microseconds (what Postgres keeps). */
export function instantText(epochSecond: number, ticks: number): string {
  const base = new Date(epochSecond * 1000).toISOString().slice(0, 19);
  const frac = String(ticks).padStart(7, "0").slice(0, 6).replace(/0+$/, "");
  return `${base}${frac ? `.${frac}` : ""}Z`;
}

/** A wall time written by a client, padded so two of them compare as text ("2020-10-13T18:38:42.9970000"). */
export function comparableWall(text: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(text);
  if (!m) return null;
  return `${m[1]}:${m[2] ?? "00"}.${(m[3] ?? "").slice(0, 7).padEnd(7, "0")}`;
}

export function isZone(zone: string): boolean {
  try {
    parts(zone, 0);
    return true;
  } catch {
    return false;
  }
}

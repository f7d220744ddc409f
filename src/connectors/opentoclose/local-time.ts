/**
 * Open To Close sends wall-clock times without an offset (`created: "2025-05-22 05:01:56"`) next to the
 * property's zone (`timezone: "US/Mountain"`). These helpers turn them into instants and calendar dates in that
 * zone. A value or zone that does not read leaves the result null: a field never fails its record.
 */

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(zone: string): Intl.DateTimeFormat | null {
  if (!formatters.has(zone)) {
    let f: Intl.DateTimeFormat | null = null;
    try {
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
    } catch {
      f = null;
    }
    formatters.set(zone, f);
  }
  return formatters.get(zone) ?? null;
}

type Parts = { y: number; mo: number; d: number; h: number; mi: number; s: number };

function wallClockOf(f: Intl.DateTimeFormat, epochMs: number): Parts {
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(epochMs))) {
    if (part.type !== "literal") p[part.type] = Number(part.value);
  }
  return {
    y: p.year ?? 0,
    mo: p.month ?? 0,
    d: p.day ?? 0,
    h: p.hour ?? 0,
    mi: p.minute ?? 0,
    s: p.second ?? 0,
  };
}

const utcOf = (p: Parts) => Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** "YYYY-MM-DD[ HH:MM[:SS]]" read as wall-clock time in `zone`, as an ISO instant; null when either fails. */
export function localToInstant(
  local: string | null | undefined,
  zone: string | null | undefined,
): string | null {
  if (!local || !zone) return null;
  const m = LOCAL.exec(local.trim());
  const f = formatter(zone);
  if (!m || !f) return null;
  const wanted: Parts = {
    y: Number(m[1]),
    mo: Number(m[2]),
    d: Number(m[3]),
    h: Number(m[4] ?? 0),
    mi: Number(m[5] ?? 0),
    s: Number(m[6] ?? 0),
  };
  const asUtc = utcOf(wanted);
  if (!Number.isFinite(asUtc)) return null;
  // The zone's offset at the guess, then once more at the corrected instant (the two differ across a DST change).
  let instant = asUtc - (utcOf(wallClockOf(f, asUtc)) - asUtc);
  instant = asUtc - (utcOf(wallClockOf(f, instant)) - instant);
  const back = new Date(instant);
  return Number.isNaN(back.getTime()) ? null : back.toISOString();
}

function validDate(y: number, mo: number, d: number): string | null {
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/**
 * A date field's value as a calendar date in the property's zone. The published samples are all empty, so the
 * format is unknown: "YYYY-MM-DD" (with or without a wall-clock time), "MM/DD/YYYY", and an instant with an
 * offset or `Z` (converted to the property's zone) are read; anything else is null.
 */
export function localDate(value: string | null | undefined, zone: string | null | undefined): string | null {
  if (!value) return null;
  const v = value.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/.exec(v);
  if (iso) return validDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v);
  if (us) return validDate(Number(us[3]), Number(us[1]), Number(us[2]));
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    const t = Date.parse(v);
    const f = zone ? formatter(zone) : null;
    if (Number.isNaN(t)) return null;
    if (!f) return new Date(t).toISOString().slice(0, 10);
    const p = wallClockOf(f, t);
    return validDate(p.y, p.mo, p.d);
  }
  return null;
}

/** A number field's value ("450000", "1,250.50", "$3,000"); null when it is not one. */
export function decimalOf(value: string | null | undefined): string | null {
  if (!value) return null;
  const v = value.trim().replace(/^\$/, "").replace(/,/g, "");
  return /^-?\d+(?:\.\d+)?$/.test(v) ? v : null;
}

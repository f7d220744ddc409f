/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = header.map(
    (_, i) =>
      rows.some((r) => /\d/.test(r[i] ?? "")) && rows.every((r) => /^(-|[\d,.]+%?)$/.test(r[i] ?? "-")),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export const num = (n: number | null | undefined) =>
  n === null || n === undefined ? "-" : n.toLocaleString("en-US");

/** "12s ago" / "in 4m" relative to now; "-" when there is no time. */
export function relative(at: string | number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return "-";
  const t = typeof at === "number" ? at : Date.parse(at);
  if (Number.isNaN(t)) return "-";
  const d = t - now;
  const text = duration(Math.abs(d));
  return d > 0 ? `in ${text}` : `${text} ago`;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

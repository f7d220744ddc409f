import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/** A counter increment: a metric name, its labels, and how much it grew. */
export type CounterIncrement = { name: string; labels?: Record<string, string>; by?: number };

/** The Workers Analytics Engine dataset's one call this code needs (absent: nothing is written). */
export type MetricsDataset = {
  writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void;
};

/** Labels in one stable text form (sorted `k="v"` pairs), the key of a counter's row. */
export function labelText(labels: Record<string, string> = {}): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`)
    .join(",");
}

export const escapeLabel = (v: string) =>
  v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

/**
 * Adds increments to the durable counters (one statement) and, when the binding exists, writes each to
 * Analytics Engine. Counters live in Postgres because a Worker's isolates each count only what they saw.
 */
export async function countEvents(
  db: Db,
  increments: CounterIncrement[],
  dataset?: MetricsDataset,
): Promise<void> {
  if (increments.length === 0) return;
  const rows = increments.map((i) => ({ name: i.name, labels: labelText(i.labels), by: i.by ?? 1 }));
  await db.execute(sql`
    insert into metric_counters (name, labels, value)
    select name, labels, sum(by)::bigint from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(name text, labels text, by bigint)
    group by name, labels
    on conflict (name, labels) do update
      set value = metric_counters.value + excluded.value, updated_at = now()`);
  for (const i of increments) writePoint(dataset, i.name, i.labels ?? {}, i.by ?? 1);
}

/** One Analytics Engine data point (name as index and first blob, label values after it); never throws. */
export function writePoint(
  dataset: MetricsDataset | undefined,
  name: string,
  labels: Record<string, string>,
  value: number,
): void {
  if (!dataset) return;
  try {
    const keys = Object.keys(labels).sort();
    dataset.writeDataPoint({
      indexes: [name],
      blobs: [name, ...keys.map((k) => `${k}=${labels[k]}`)],
      doubles: [value],
    });
  } catch {
    // Metrics are best effort: a refused data point must not fail the work it describes.
  }
}

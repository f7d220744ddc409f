import { sql } from "drizzle-orm";
import { logger } from "../core/log";
import type { Db } from "../db/client";

const log = logger("scheduler");

export type LastTick = { startedAt: string; durationMs: number; report: Record<string, number> };

/** The last tick of each scheduled job, by job name (`delta`). */
export async function lastTicks(db: Db): Promise<Record<string, LastTick>> {
  const result = await db.execute(sql`
    select job, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as started_at,
           duration_ms, report
    from scheduler_ticks order by job`);
  const out: Record<string, LastTick> = {};
  for (const r of result.rows as {
    job: string;
    started_at: string;
    duration_ms: number;
    report: Record<string, number>;
  }[]) {
    out[r.job] = { startedAt: r.started_at, durationMs: r.duration_ms, report: r.report };
  }
  return out;
}

/**
 * Logs a tick (one JSON line, counts only) and keeps it as the job's last tick. Reporting never fails the
 * job: its work is done by then.
 */
export async function recordTick(
  db: Db,
  job: string,
  started: number,
  report: Record<string, number> & { durationMs: number },
): Promise<void> {
  log.info("scheduler_tick", { event: "scheduler_tick", job, ...report });
  try {
    await db.execute(sql`
      insert into scheduler_ticks (job, started_at, duration_ms, report)
      values (${job}, ${new Date(started).toISOString()}::timestamptz, ${report.durationMs},
              ${JSON.stringify(report)}::jsonb)
      on conflict (job) do update set started_at = excluded.started_at, duration_ms = excluded.duration_ms,
        report = excluded.report`);
  } catch (error) {
    log.warn("scheduler tick not recorded", { error: error instanceof Error ? error.name : "unknown" });
  }
}

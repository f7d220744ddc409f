import { sql as pg } from "drizzle-orm";
import type { BreakerState } from "../src/core/breaker";
import type { Db } from "../src/db/client";

/**
 * Failed pushes after which a report stops arming its own retry timer. It stays pending (and logged as
 * stuck): any later alarm's push or the breaker's next change still carries it.
 */
export const BREAKER_REPORT_ATTEMPTS = 8;
/** The timer that retries a failed push; the push itself runs at the end of every alarm. */
export const BREAKER_REPORT_TIMER = "breaker-report";

/**
 * Open for the alert: forced open, open, or probing half-open. A breaker that cycles open → half-open → open
 * through a long outage is one outage, so it stays open until it closes.
 */
export function breakerIsOpen(s: BreakerState): boolean {
  if (s.forced) return s.forced === "open";
  return s.state !== "closed";
}

type Report = { connection_id: string; open: number; since: number | null; gen: number; attempts: number };

/**
 * Notes a change of the breaker's open/closed state for Postgres, synchronously with the breaker's own write
 * (no await, so it can never hold up the provider call that caused it). Only changes are noted: calls that
 * leave the breaker as it was cost one indexed read.
 */
export function noteBreakerState(sql: SqlStorage, connectionId: string, s: BreakerState, now: number): void {
  const open = breakerIsOpen(s) ? 1 : 0;
  const prev = sql
    .exec<{ open: number; gen: number }>(
      "select open, gen from breaker_reports where connection_id = ?",
      connectionId,
    )
    .toArray()[0];
  if (prev ? prev.open === open : open === 0) return;
  sql.exec(
    `insert into breaker_reports (connection_id, open, since, gen, pushed, attempts, last_error)
     values (?, ?, ?, ?, 0, 0, null)
     on conflict (connection_id) do update set open = excluded.open, since = excluded.since, gen = excluded.gen,
       pushed = 0, attempts = 0, last_error = null`,
    connectionId,
    open,
    open ? (s.openedAt ?? now) : null,
    // Above the last report, and at least the clock: a fresh object (its SQLite lost) still outranks old rows.
    Math.max((prev?.gen ?? 0) + 1, now),
  );
}

/** Reports not yet in Postgres. */
export function pendingBreakerReports(sql: SqlStorage): Report[] {
  return sql
    .exec<Report>("select connection_id, open, since, gen, attempts from breaker_reports where pushed = 0")
    .toArray();
}

/**
 * Writes the reports into `connection_breakers` in one statement, on the account's tenant connection. A
 * report only replaces an older one; a connection Postgres no longer has is skipped.
 */
export async function pushBreakerReports(db: Db, accountId: string, reports: Report[]): Promise<void> {
  if (reports.length === 0) return;
  const rows = reports.map((r) => ({
    connection_id: r.connection_id,
    open: r.open === 1,
    since: r.since,
    gen: r.gen,
  }));
  await db.execute(pg`
    insert into connection_breakers (connection_id, account_id, provider, state, open_since, gen, updated_at)
    select r.connection_id, c.account_id, c.provider, case when r.open then 'open' else 'closed' end,
           case when r.open and r.since is not null then to_timestamp(r.since / 1000.0) end, r.gen, now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(connection_id text, open boolean, since bigint,
      gen bigint)
    join connections c on c.id = r.connection_id and c.account_id = ${accountId}
    on conflict (connection_id) do update set account_id = excluded.account_id, provider = excluded.provider,
      state = excluded.state, open_since = excluded.open_since, gen = excluded.gen, updated_at = now()
    where connection_breakers.gen < excluded.gen`);
}

/** Marks the reports pushed, unless the breaker changed again meanwhile (its newer report is still due). */
export function markBreakerReportsPushed(sql: SqlStorage, reports: Report[]): void {
  for (const r of reports)
    sql.exec(
      "update breaker_reports set pushed = 1, last_error = null where connection_id = ? and gen = ?",
      r.connection_id,
      r.gen,
    );
}

/**
 * Counts a failed push on each report; returns the retry timer's due time, or null once every report has
 * spent its attempts (they stay pending for the next alarm or change).
 */
export function markBreakerPushFailed(
  sql: SqlStorage,
  reports: Report[],
  error: string,
  now: number,
): { retryAt: number | null; exhausted: string[] } {
  let attempts = Number.POSITIVE_INFINITY;
  const exhausted: string[] = [];
  for (const r of reports) {
    sql.exec(
      "update breaker_reports set attempts = attempts + 1, last_error = ? where connection_id = ? and gen = ?",
      error,
      r.connection_id,
      r.gen,
    );
    if (r.attempts + 1 >= BREAKER_REPORT_ATTEMPTS) exhausted.push(r.connection_id);
    else attempts = Math.min(attempts, r.attempts + 1);
  }
  if (!Number.isFinite(attempts)) return { retryAt: null, exhausted };
  // 10 s, 20 s, 40 s ... capped at 10 min: a Postgres outage is waited out, not hammered.
  return { retryAt: now + Math.min(10_000 * 2 ** (attempts - 1), 600_000), exhausted };
}

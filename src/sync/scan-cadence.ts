import { and, eq } from "drizzle-orm";
import { withTenant } from "../accounts/tenant";
import type { Db } from "../db/client";
import { connections } from "../db/schema";

/** Share of a connection's rate budget its scheduled complete scans may spend; the rest is webhooks' and fetches'. */
export const SCAN_BUDGET_SHARE = 0.5;
/** The scheduler's default interval (connections.delta_interval_minutes): the cadence never goes below it. */
export const MIN_SCAN_INTERVAL_MINUTES = 15;
/** A week: past this an account is too large for its budget to be kept current by scans at all. */
export const MAX_SCAN_INTERVAL_MINUTES = 7 * 24 * 60;

/**
 * How often a connection whose entities are listed whole on every run (no updated filter) can be scanned: the
 * requests one round of complete scans took, spread so scans use at most SCAN_BUDGET_SHARE of the budget. A
 * team of 1,000 leads (40 pages) on a 10-a-minute key scans every 15 minutes; of 10,000 (400 pages), every 80.
 */
export function scanIntervalMinutes(args: { requests: number; limit: number; windowMs: number }): number {
  const perMinute = (Math.max(1, args.limit) * 60_000) / Math.max(1, args.windowMs);
  const minutes = Math.ceil(Math.max(0, args.requests) / (perMinute * SCAN_BUDGET_SHARE));
  return Math.min(MAX_SCAN_INTERVAL_MINUTES, Math.max(MIN_SCAN_INTERVAL_MINUTES, minutes));
}

/** Sets the connection's scheduled cadence (the scheduler places its next slot by it). */
export async function setScanInterval(db: Db, accountId: string, connectionId: string, minutes: number) {
  await withTenant(db, accountId, (tx) =>
    tx
      .update(connections)
      .set({ deltaIntervalMinutes: minutes })
      .where(and(eq(connections.id, connectionId), eq(connections.accountId, accountId))),
  );
}

import { sql } from "drizzle-orm";
import { connectorFor } from "../connectors/registry";
import type { SyncMode } from "../connectors/types";
import type { Db } from "../db/client";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "./concurrency";

export type DueConnection = { accountId: string; connectionId: string; provider: string };

/** Connections one claim takes; a tick claims page after page while its time lasts. */
export const CLAIM_PAGE = 100;

/** Seconds in the reconciliation period. */
const DAY_SECONDS = 86_400;

/**
 * A connection's phase within a period of `period` seconds: a stable hash of its id, so the fleet's connections
 * fall evenly across the period and each keeps its place from one period to the next.
 */
const phase = (period: ReturnType<typeof sql>) =>
  sql`mod(mod(hashtextextended(connections.id, 0), ${period}) + ${period}, ${period})`;
const epoch = (at: Date) => sql`extract(epoch from ${at.toISOString()}::timestamptz)`;

/**
 * Active connections whose delta slot has come, claimed by moving the slot to the same phase of the next
 * interval. The next slot is the first one at least half an interval ahead, so a tick that runs late (or a
 * connection's first claim at an arbitrary time) never leads to two syncs within half an interval.
 */
export async function claimDueConnections(
  db: Db,
  opts: { limit?: number; now?: Date; accountIds?: string[] } = {},
): Promise<DueConnection[]> {
  const now = opts.now ?? new Date();
  const period = sql`(delta_interval_minutes * 60)::bigint`;
  // The claimed ids are materialized once: a limited subquery inside the update's condition may be evaluated
  // again by the plan and claim more than the limit.
  const result = await db.execute(sql`
    with due as materialized (
      select id from connections
      where status = 'active' and ${inAccounts(opts.accountIds)}
        and (next_delta_at is null or next_delta_at <= ${now.toISOString()}::timestamptz)
      order by next_delta_at nulls first
      limit ${opts.limit ?? CLAIM_PAGE}
      for update skip locked)
    update connections set last_delta_at = ${now.toISOString()}::timestamptz,
      next_delta_at = to_timestamp(
        (floor((${epoch(now)} + ${period} / 2.0 - ${phase(period)}) / ${period}) + 1) * ${period} + ${phase(period)})
    from due where connections.id = due.id
    returning connections.account_id, connections.id, connections.provider`);
  return dueRows(result.rows);
}

/**
 * Active connections whose reconciliation slot of the day has come, claimed by moving the slot to the same time
 * of the next day. A connection without a slot yet (new, or from before slots) first gets its next one, within a
 * day. Spread over the day this way, a fleet of thousands reconciles a few connections a minute instead of all
 * at once.
 */
export async function claimDueReconciliations(
  db: Db,
  opts: { limit?: number; now?: Date; accountIds?: string[] } = {},
): Promise<DueConnection[]> {
  const now = opts.now ?? new Date();
  const day = sql`${DAY_SECONDS}::bigint`;
  const nextSlot = sql`to_timestamp((floor((${epoch(now)} - ${phase(day)}) / ${day}) + 1) * ${day} + ${phase(day)})`;
  await db.execute(sql`
    update connections set next_reconcile_at = ${nextSlot}
    where status = 'active' and ${inAccounts(opts.accountIds)} and next_reconcile_at is null`);
  const result = await db.execute(sql`
    with due as materialized (
      select id from connections
      where status = 'active' and ${inAccounts(opts.accountIds)}
        and next_reconcile_at <= ${now.toISOString()}::timestamptz
      order by next_reconcile_at
      limit ${opts.limit ?? CLAIM_PAGE}
      for update skip locked)
    update connections set next_reconcile_at = ${nextSlot}
    from due where connections.id = due.id
    returning connections.account_id, connections.id, connections.provider`);
  return dueRows(result.rows);
}

/** Connections whose delta slot has come and no tick has claimed yet (what a tick that ran out of time left). */
export async function countDueConnections(db: Db, now: Date, accountIds?: string[]): Promise<number> {
  const result = await db.execute(sql`
    select count(*)::int as n from connections
    where status = 'active' and ${inAccounts(accountIds)}
      and (next_delta_at is null or next_delta_at <= ${now.toISOString()}::timestamptz)`);
  return Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
}

export type SyncStarter = (req: {
  accountId: string;
  connectionId: string;
  provider: string;
  entities: string[];
  mode: SyncMode;
  origin?: string;
}) => Promise<unknown>;

/** Starts a delta run of every entity of every due connection, each through its account's object. */
export async function fanOutDeltaSyncs(
  due: DueConnection[],
  start: SyncStarter,
): Promise<{ connections: number; failed: number; failedConnections: DueConnection[] }> {
  const results = await settleWithLimit(due, INVOCATION_CONNECTIONS, (c) =>
    start({
      accountId: c.accountId,
      connectionId: c.connectionId,
      provider: c.provider,
      entities: Object.keys(connectorFor(c.provider).entities),
      mode: "delta",
      origin: "schedule",
    }),
  );
  const failed = due.filter((_, i) => results[i]?.status === "rejected");
  return { connections: due.length, failed: failed.length, failedConnections: failed };
}

/**
 * Gives connections whose run could not be started their slot back, due at the next tick instead of a whole
 * interval later (a claim moves the slot before the start is tried). Not this tick: a start that fails now
 * would fail again at once.
 */
export async function releaseClaims(
  db: Db,
  failed: DueConnection[],
  now: Date = new Date(),
): Promise<number> {
  if (failed.length === 0) return 0;
  const result = await db.execute(sql`
    update connections set next_delta_at = ${new Date(now.getTime() + 60_000).toISOString()}::timestamptz
    where id in (select jsonb_array_elements_text(${JSON.stringify(failed.map((c) => c.connectionId))}::jsonb))
    returning id`);
  return result.rows.length;
}

/** Every active connection in the given accounts, for an operator's reconciliation of those accounts now. */
export async function activeConnections(db: Db, accountIds?: string[]): Promise<DueConnection[]> {
  const result = await db.execute(sql`
    select account_id, id, provider from connections
    where status = 'active' and ${inAccounts(accountIds)} order by account_id, id`);
  return dueRows(result.rows);
}

const dueRows = (rows: unknown[]) =>
  (rows as { account_id: string; id: string; provider: string }[]).map((r) => ({
    accountId: r.account_id,
    connectionId: r.id,
    provider: r.provider,
  }));

const inAccounts = (accountIds?: string[]) =>
  accountIds
    ? sql`account_id in (select jsonb_array_elements_text(${JSON.stringify(accountIds)}::jsonb))`
    : sql`true`;

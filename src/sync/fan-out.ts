import { sql } from "drizzle-orm";
import { connectorFor } from "../connectors/registry";
import type { SyncMode } from "../connectors/types";
import type { Db } from "../db/client";
import { INVOCATION_CONNECTIONS, settleWithLimit } from "./concurrency";

export type DueConnection = { accountId: string; connectionId: string; provider: string };

/** Active connections whose delta interval has elapsed; claims them by stamping last_delta_at. */
export async function claimDueConnections(
  db: Db,
  limit = 500,
  accountIds?: string[],
): Promise<DueConnection[]> {
  const result = await db.execute(sql`
    update connections set last_delta_at = now()
    where id in (
      select id from connections
      where status = 'active' and ${inAccounts(accountIds)}
        and (last_delta_at is null or last_delta_at <= now() - make_interval(mins => delta_interval_minutes) + interval '30 seconds')
      order by last_delta_at nulls first
      limit ${limit}
      for update skip locked)
    returning account_id, id, provider`);
  return (result.rows as { account_id: string; id: string; provider: string }[]).map((r) => ({
    accountId: r.account_id,
    connectionId: r.id,
    provider: r.provider,
  }));
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
): Promise<{ connections: number; failed: number }> {
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
  return { connections: due.length, failed: results.filter((r) => r.status === "rejected").length };
}

/** Every active connection, for the daily reconciliation. */
export async function activeConnections(db: Db, accountIds?: string[]): Promise<DueConnection[]> {
  const result = await db.execute(sql`
    select account_id, id, provider from connections
    where status = 'active' and ${inAccounts(accountIds)} order by account_id, id`);
  return (result.rows as { account_id: string; id: string; provider: string }[]).map((r) => ({
    accountId: r.account_id,
    connectionId: r.id,
    provider: r.provider,
  }));
}

const inAccounts = (accountIds?: string[]) =>
  accountIds
    ? sql`account_id in (select jsonb_array_elements_text(${JSON.stringify(accountIds)}::jsonb))`
    : sql`true`;

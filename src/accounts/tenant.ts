import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/** A transaction handle with the same query API as Db. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Runs fn in a transaction that row-level security limits to one account (when connected as etl_app).
 * The setting is transaction-local, so a pooled connection never carries one tenant into the next use.
 */
export async function withTenant<T>(db: Db, accountId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.account_id', ${accountId}, true)`);
    return fn(tx);
  });
}

/**
 * For system paths that legitimately span accounts (queue consumer, DLQ, cron fan-out, the webhook routing
 * lookup and inbox sweep/prune). Request handlers acting for a caller must use withTenant.
 */
export async function withAllAccounts<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.all_accounts', 'on', true)`);
    return fn(tx);
  });
}

/** withTenant for code written against Db (a transaction has the same query API). */
export function inTenant<T>(db: Db, accountId: string, fn: (db: Db) => Promise<T>): Promise<T> {
  return withTenant(db, accountId, (tx) => fn(tx as unknown as Db));
}

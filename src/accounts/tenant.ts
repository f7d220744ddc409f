import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/** A transaction handle with the same query API as Db. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Runs fn in a transaction that row-level security limits to one account (for etl_app and etl_system alike).
 * The setting is transaction-local, so a pooled connection never carries one tenant into the next use.
 */
export async function withTenant<T>(db: Db, accountId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.account_id', ${accountId}, true)`);
    return fn(tx);
  });
}

/**
 * For system paths that legitimately span accounts (queue consumer, DLQ, cron fan-out, sweeps, the webhook
 * routing lookup). Only the system role's policy honours the flag, so on the request role's connection it would
 * silently see no rows: that misuse throws instead. Request handlers acting for a caller use withTenant.
 */
export async function withAllAccounts<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await spanAccounts(tx);
    return fn(tx);
  });
}

/**
 * A boolean SQL expression that sets the all-accounts flag for the current transaction and is true only when
 * the role honours it (etl_system, or a role that bypasses row-level security anyway).
 */
export const spanAccountsExpr = sql`(set_config('app.all_accounts', 'on', true) is not null
  and (pg_has_role('etl_system', 'USAGE')
       or exists (select 1 from pg_roles where rolname = current_user and (rolsuper or rolbypassrls))))`;

export const NOT_SYSTEM_ROLE =
  "this connection's role cannot span accounts: use the system database connection";

/** Sets the all-accounts flag for the current transaction; throws unless the role honours it. */
export async function spanAccounts(tx: Pick<Db, "execute">): Promise<void> {
  const result = await tx.execute(sql`select ${spanAccountsExpr} as spans`);
  assertSpans(result.rows[0]);
}

/** Throws unless a row carries `spans: true` (see spanAccountsExpr). */
export function assertSpans(row: unknown): void {
  if ((row as { spans?: unknown } | undefined)?.spans !== true) throw new Error(NOT_SYSTEM_ROLE);
}

/** withTenant for code written against Db (a transaction has the same query API). */
export function inTenant<T>(db: Db, accountId: string, fn: (db: Db) => Promise<T>): Promise<T> {
  return withTenant(db, accountId, (tx) => fn(tx as unknown as Db));
}

import { and, eq, gt, sql } from "drizzle-orm";
import { connectorFor } from "../connectors/registry";
import type { Credentials } from "../connectors/types";
import { type Keyring, randomToken, sha256Hex } from "../core/crypto";
import { AppError } from "../core/errors";
import type { Db } from "../db/client";
import { accounts, connections } from "../db/schema";
import { encryptCredentials } from "./connections";
import { inTenant, withAllAccounts } from "./tenant";

/** Ids as the admin API accepts or generates them. */
const CONNECTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type AccountView = { id: string; name: string; createdAt: string };
export type ConnectionView = {
  id: string;
  accountId: string;
  provider: string;
  baseUrl: string | null;
  status: string;
  settings: unknown;
  createdAt: string;
};

/** Creates an account and its API key; the key is returned once and only its hash is stored. */
export async function createAccount(db: Db, input: { id?: string; name: string }) {
  const id = input.id ?? `acc_${randomToken(9)}`;
  const apiKey = `etl_${randomToken(24)}`;
  const apiKeyHash = await sha256Hex(apiKey);
  const inserted = await inTenant(db, id, (t) =>
    t.insert(accounts).values({ id, name: input.name, apiKeyHash }).onConflictDoNothing().returning(),
  );
  const row = inserted[0];
  if (!row) throw new AppError(409, "account_exists", `account "${id}" already exists`);
  return { account: accountView(row), apiKey };
}

export async function getAccount(db: Db, accountId: string): Promise<AccountView> {
  const found = await inTenant(db, accountId, (t) =>
    t.select().from(accounts).where(eq(accounts.id, accountId)).limit(1),
  );
  const row = found[0];
  if (!row) throw new AppError(404, "account_not_found", `account "${accountId}" not found`);
  return accountView(row);
}

/**
 * Every account, by id, at most `limit` after `after` (the operator's list; spans accounts, so the system
 * role's connection).
 */
export async function listAccounts(
  db: Db,
  opts: { limit: number; after?: string },
): Promise<{ accounts: AccountView[]; next: string | null }> {
  const rows = await withAllAccounts(db, (t) =>
    t
      .select()
      .from(accounts)
      .where(opts.after === undefined ? undefined : gt(accounts.id, opts.after))
      .orderBy(accounts.id)
      .limit(opts.limit + 1),
  );
  const page = rows.slice(0, opts.limit).map(accountView);
  return { accounts: page, next: rows.length > opts.limit ? (page.at(-1)?.id ?? null) : null };
}

export type AccountPurge = {
  accountId: string;
  /** Rows removed per Postgres table (every table with an account_id column, and `accounts`). */
  removed: Record<string, number>;
};

/**
 * Removes every row of the account from every account-scoped table, then the account itself, in one
 * transaction: a failed purge leaves the account as it was, so it can simply be asked for again. The tables
 * are found through information_schema (each with an `account_id` column), so a table added later is purged
 * without anyone listing it here. Runs inside the account's tenant scope: it needs no cross-account bypass
 * and can touch no other account's rows. 404 when there was nothing of the account at all.
 */
export async function purgeAccount(db: Db, accountId: string): Promise<AccountPurge> {
  const removed = await inTenant(db, accountId, async (t) => {
    // Deletes scale with the account's size, and a purge is rare and deliberate: it may run longer than the
    // statement limit meant for request and pipeline queries.
    await t.execute(sql`select set_config('statement_timeout', '15min', true)`);
    const tables = await t.execute(sql`
      select c.table_name::text as name
      from information_schema.columns c
      join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name
      where c.table_schema = current_schema() and c.column_name = 'account_id' and tb.table_type = 'BASE TABLE'
        and c.table_name <> 'accounts'
      order by 1`);
    const counts: Record<string, number> = {};
    for (const { name } of tables.rows as { name: string }[]) {
      const table = sql.raw(`"${name.replaceAll('"', '""')}"`);
      const result = await t.execute(sql`delete from ${table} where account_id = ${accountId}`);
      counts[name] = result.rowCount ?? 0;
    }
    const account = await t.delete(accounts).where(eq(accounts.id, accountId)).returning({ id: accounts.id });
    counts.accounts = account.length;
    return counts;
  });
  if (Object.values(removed).every((n) => n === 0)) {
    throw new AppError(404, "account_not_found", `account "${accountId}" not found`);
  }
  return { accountId, removed };
}

/** Deleting an account is purging it: leaving its data behind would keep what the customer asked to remove. */
export async function deleteAccount(db: Db, accountId: string): Promise<void> {
  await purgeAccount(db, accountId);
}

export async function createConnection(
  db: Db,
  keyring: Keyring,
  input: {
    accountId: string;
    id?: string;
    provider: string;
    credentials: Credentials;
    baseUrl?: string;
    settings?: Record<string, unknown>;
  },
): Promise<ConnectionView> {
  connectorFor(input.provider);
  await getAccount(db, input.accountId);
  const id = input.id ?? `con_${randomToken(9)}`;
  const credentialsEnc = await encryptCredentials(keyring, input.accountId, id, input.credentials);
  const inserted = await inTenant(db, input.accountId, (t) =>
    t
      .insert(connections)
      .values({
        id,
        accountId: input.accountId,
        provider: input.provider,
        baseUrl: input.baseUrl ?? null,
        credentialsEnc,
        settings: input.settings ?? {},
      })
      .onConflictDoNothing()
      .returning(),
  );
  const row = inserted[0];
  if (!row) throw new AppError(409, "connection_exists", `connection "${id}" already exists`);
  return connectionView(row);
}

export async function listConnections(db: Db, accountId: string): Promise<ConnectionView[]> {
  const rows = await inTenant(db, accountId, (t) =>
    t.select().from(connections).where(eq(connections.accountId, accountId)),
  );
  return rows.map(connectionView);
}

export async function getConnectionView(
  db: Db,
  accountId: string,
  connectionId: string,
): Promise<ConnectionView> {
  // An id no connection can have is answered without a query (Postgres refuses NUL in a parameter).
  const found = CONNECTION_ID.test(connectionId)
    ? (await listConnections(db, accountId)).find((c) => c.id === connectionId)
    : undefined;
  if (!found) {
    const shown = CONNECTION_ID.test(connectionId) ? `"${connectionId}"` : "with that id";
    throw new AppError(404, "connection_not_found", `connection ${shown} not found`);
  }
  return found;
}

export async function deleteConnection(db: Db, accountId: string, connectionId: string): Promise<void> {
  await getConnectionView(db, accountId, connectionId);
  await inTenant(db, accountId, (t) =>
    t.delete(connections).where(and(eq(connections.id, connectionId), eq(connections.accountId, accountId))),
  );
}

function accountView(row: typeof accounts.$inferSelect): AccountView {
  return { id: row.id, name: row.name, createdAt: row.createdAt };
}

// Credentials never leave through a view.
function connectionView(row: typeof connections.$inferSelect): ConnectionView {
  return {
    id: row.id,
    accountId: row.accountId,
    provider: row.provider,
    baseUrl: row.baseUrl,
    status: row.status,
    settings: row.settings,
    createdAt: row.createdAt,
  };
}

import { env } from "cloudflare:test";
import type { sql } from "drizzle-orm";
import { type Db, openDb } from "../../src/db/client";

/**
 * Runs fn against the test Postgres through the same Neon driver the Worker uses, as the tables' owner:
 * test setup and assertions look across accounts, which the Worker's own role (etl_app) cannot.
 */
export async function withTestDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDb(ownerEnv());
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

export async function rows<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]> {
  return withTestDb(async (db) => (await db.execute(query)).rows as T[]);
}

export function uniqueId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** The Worker's env with the owner's connection string, for test actors that are not the Worker. */
export function ownerEnv(): typeof env {
  return { ...env, DATABASE_URL: env.TEST_OWNER_DATABASE_URL };
}

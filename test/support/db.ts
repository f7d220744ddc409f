import { env } from "cloudflare:test";
import type { sql } from "drizzle-orm";
import { type Db, openDb } from "../../src/db/client";

/** Runs fn against the test Postgres through the same Neon driver the Worker uses. */
export async function withTestDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDb(env);
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

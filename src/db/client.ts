import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema";

export type Db = NeonDatabase<typeof schema>;
export type DbHandle = { db: Db; pool: Pool; close(): Promise<void> };

export type DbConfig = {
  DATABASE_URL: string;
  DB_WS_PROXY?: string;
  /** Called for each new Postgres connection (each is a WebSocket, a subrequest): an invocation meter's hook. */
  onDbConnect?: () => void;
};

/** What system paths connect with: the system role's connection string when configured. */
export type SystemDbConfig = DbConfig & { SYSTEM_DATABASE_URL?: string };

/**
 * The connection for cross-account system work (queue consumer, cron, sweeps, webhook routing). Without
 * SYSTEM_DATABASE_URL it falls back to DATABASE_URL, which works only when that role may span accounts, a
 * configuration /health reports as failed.
 */
export function systemDb<T extends SystemDbConfig>(config: T): T {
  return config.SYSTEM_DATABASE_URL ? { ...config, DATABASE_URL: config.SYSTEM_DATABASE_URL } : config;
}

/**
 * One pool per invocation: a Pool's sockets belong to the request that opened them, so a module-scoped pool
 * breaks on the next request. Callers close it (usually via ctx.waitUntil).
 */
export function openDb(config: DbConfig): DbHandle {
  if (!config.DATABASE_URL) throw new Error("DATABASE_URL is not configured");
  if (config.DB_WS_PROXY) {
    const proxy = config.DB_WS_PROXY;
    neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 4 });
  // An idle client erroring (e.g. Postgres restarted) must not become an unhandled rejection.
  pool.on("error", () => {});
  const onConnect = config.onDbConnect;
  if (onConnect) pool.on("connect", () => onConnect());
  const db = drizzle({ client: pool, schema });
  return { db, pool, close: () => pool.end() };
}

/** Runs fn with a fresh pool and always closes it. */
export async function withDb<T>(config: DbConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDb(config);
  try {
    return await fn(handle.db);
  } finally {
    await handle.close().catch(() => {});
  }
}

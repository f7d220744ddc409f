import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { connectorFor, knownProviders } from "../../src/connectors/registry";
import { mirrorDdl } from "../../src/sync/mirrors";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

/** Applies drizzle-kit's SQL migrations; safe to run on every start (already applied ones are skipped). */
export async function applyMigrations(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  // A client the pool is still closing when the server goes away must not become an unhandled error;
  // query failures still reject their promise.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    await migrate(drizzle(pool), { migrationsFolder: MIGRATIONS_DIR });
    await applyMirrors(pool);
  } finally {
    await pool.end();
  }
}

/**
 * Creates or completes every registered provider's sync-state mirrors from its connector's entity list
 * (idempotent), so adding a provider or an entity to the registry needs no migration of its own.
 */
export async function applyMirrors(pool: pg.Pool): Promise<void> {
  for (const provider of knownProviders()) {
    const statements = mirrorDdl(provider, Object.keys(connectorFor(provider).entities));
    const client = await pool.connect();
    try {
      await client.query("begin");
      for (const statement of statements) await client.query(statement);
      await client.query("commit");
    } catch (e) {
      await client.query("rollback").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }
}

/** Local-only passwords of the Worker's roles; production sets its own when it creates the logins. */
export const LOCAL_APP_PASSWORD = "etl_app_local";
export const LOCAL_SYSTEM_PASSWORD = "etl_system_local";

export type RoleUrls = {
  /** The request role (etl_app): held to one account by forced row-level security. Worker DATABASE_URL. */
  appUrl: string;
  /** The system role (etl_system): may span accounts for system work. Worker SYSTEM_DATABASE_URL. */
  systemUrl: string;
};

/**
 * The Worker connects as `etl_app` for requests and as `etl_system` for cross-account system work (neither
 * the owner, neither BYPASSRLS), so row-level security holds both. Makes sure every account-scoped table
 * carries the forced tenant policy (for databases where the migration's event trigger could not be installed)
 * and gives both roles a login; returns the Worker's two connection strings.
 */
export async function prepareRoles(
  ownerUrl: string,
  passwords = { app: LOCAL_APP_PASSWORD, system: LOCAL_SYSTEM_PASSWORD },
): Promise<RoleUrls> {
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("select etl_enable_rls_all()");
    for (const [role, password] of [
      ["etl_app", passwords.app],
      ["etl_system", passwords.system],
    ] as const) {
      await client.query(`alter role ${role} with login password '${password.replaceAll("'", "''")}'`);
    }
  } finally {
    await client.end();
  }
  const as = (role: string, password: string) => {
    const url = new URL(ownerUrl);
    url.username = role;
    url.password = password;
    return url.toString();
  };
  return { appUrl: as("etl_app", passwords.app), systemUrl: as("etl_system", passwords.system) };
}

import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

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
  } finally {
    await pool.end();
  }
}

/** Local-only password of the Worker's role; production sets its own when it creates the login. */
export const LOCAL_APP_PASSWORD = "etl_app_local";

/**
 * The Worker connects as `etl_app` (not the owner, no BYPASSRLS) so row-level security is enforced on it.
 * Makes sure every account-scoped table carries the tenant policy (for databases where the migration's event
 * trigger could not be installed) and gives the role a login; returns the Worker's connection string.
 */
export async function prepareAppRole(ownerUrl: string, password = LOCAL_APP_PASSWORD): Promise<string> {
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("select etl_enable_rls_all()");
    await client.query(`alter role etl_app with login password '${password.replaceAll("'", "''")}'`);
  } finally {
    await client.end();
  }
  const url = new URL(ownerUrl);
  url.username = "etl_app";
  url.password = password;
  return url.toString();
}

import { applyMigrations, prepareRoles } from "../../tools/lib/migrate";
import { ensurePostgres, type PostgresHandle } from "../../tools/lib/postgres";
import { startWsProxy, type WsProxyHandle } from "../../tools/lib/ws-proxy";

export type TestServices = {
  /** What the Worker uses: the etl_app role, under row-level security. */
  databaseUrl: string;
  /** What the Worker's system paths use: the etl_system role (may span accounts). */
  systemDatabaseUrl: string;
  /** The tables' owner, for test setup and assertions that look across accounts. */
  ownerDatabaseUrl: string;
  wsProxy: string;
  stop(): Promise<void>;
};

/** A throwaway real Postgres (or DATABASE_URL), migrated, behind the WebSocket proxy the Neon driver needs. */
export async function startTestServices(): Promise<TestServices> {
  const pg: PostgresHandle = await ensurePostgres({ mode: "test" });
  await applyMigrations(pg.url);
  const roles = await prepareRoles(pg.url);
  const proxy: WsProxyHandle = await startWsProxy(0);
  return {
    databaseUrl: roles.appUrl,
    systemDatabaseUrl: roles.systemUrl,
    ownerDatabaseUrl: pg.url,
    wsProxy: `127.0.0.1:${proxy.port}`,
    stop: async () => {
      await proxy.close();
      await pg.stop();
    },
  };
}

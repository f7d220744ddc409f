import { applyMigrations, prepareAppRole } from "../../tools/lib/migrate";
import { ensurePostgres, type PostgresHandle } from "../../tools/lib/postgres";
import { startWsProxy, type WsProxyHandle } from "../../tools/lib/ws-proxy";

export type TestServices = {
  /** What the Worker uses: the etl_app role, under row-level security. */
  databaseUrl: string;
  /** The tables' owner, for test setup and assertions that look across accounts. */
  ownerDatabaseUrl: string;
  wsProxy: string;
  stop(): Promise<void>;
};

/** A throwaway real Postgres (or DATABASE_URL), migrated, behind the WebSocket proxy the Neon driver needs. */
export async function startTestServices(): Promise<TestServices> {
  const pg: PostgresHandle = await ensurePostgres({ mode: "test" });
  await applyMigrations(pg.url);
  const appUrl = await prepareAppRole(pg.url);
  const proxy: WsProxyHandle = await startWsProxy(0);
  return {
    databaseUrl: appUrl,
    ownerDatabaseUrl: pg.url,
    wsProxy: `127.0.0.1:${proxy.port}`,
    stop: async () => {
      await proxy.close();
      await pg.stop();
    },
  };
}

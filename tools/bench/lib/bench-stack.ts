import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AdminClient } from "../../lib/admin-client";
import { SimulatorClient } from "../../lib/simulator-client";
import { type Stack, startStack } from "../../lib/stack";
import { type Cluster, startCluster } from "./cluster";
import { tapSimulator } from "./sim-tap";

export type BenchStack = {
  stack: Stack;
  cluster: Cluster;
  admin: AdminClient;
  sim: SimulatorClient;
  tap: ReturnType<typeof tapSimulator>;
  /** Last lines wrangler printed, for a failure report. */
  workerLog: string[];
  stop(): Promise<void>;
};

/**
 * The local stack on a Postgres this tool owns (so it can read pg_stat_statements and restart it): the
 * stack's own Postgres resolver takes DATABASE_URL as given.
 */
export async function startBenchStack(
  opts: { statements?: boolean; extraVars?: Record<string, string>; log?: (line: string) => void } = {},
): Promise<BenchStack> {
  const cluster = await startCluster({ statements: opts.statements });
  const persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-bench-"));
  const workerLog: string[] = [];
  const previous = process.env.DATABASE_URL;
  process.env.DATABASE_URL = cluster.url;
  let stack: Stack;
  try {
    stack = await startStack({
      mode: "test",
      adminToken: "bench-admin-token",
      credentialsKey: "bench1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      persistTo,
      extraVars: opts.extraVars,
      log: (line) => {
        workerLog.push(line);
        if (workerLog.length > 300) workerLog.splice(0, workerLog.length - 300);
        opts.log?.(line);
      },
    });
  } catch (error) {
    await cluster.destroy();
    rmSync(persistTo, { recursive: true, force: true });
    throw error;
  } finally {
    if (previous === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previous;
  }
  const tap = tapSimulator(stack.simulator);
  return {
    stack,
    cluster,
    admin: new AdminClient(stack.workerUrl, stack.adminToken),
    sim: new SimulatorClient(stack.simulatorUrl),
    tap,
    workerLog,
    async stop() {
      tap.restore();
      await stack.stop();
      await cluster.destroy();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

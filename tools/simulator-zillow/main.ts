// Serves the Zillow simulator (SEEDS-DERIVED: nothing of Zillow's API is public, see contract.ts) on
// whatever runtime runs this file:
//   node (tsx) tools/simulator-zillow/main.ts --port 8796
//   bun tools/simulator-zillow/main.ts --port 8796
//   deno run -A --sloppy-imports tools/simulator-zillow/main.ts --port 8796
// Options: --port N (default $ZILLOW_SIM_PORT or 8796), --host H (default 127.0.0.1),
//   --client id:secret (repeatable; default zillow-client:zillow-secret), --agents N, --seed N.
// Also exports startSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, serveSimulator, simulatorArgs } from "../lib/serve-anywhere";
import { createSimulator, type Simulator, type SimulatorOptions } from "./app";

export interface RunningSimulator {
  url: string;
  port: number;
  sim: Simulator;
  close(): Promise<void>;
}

/** Start on the current runtime. port 0 picks a free port (reported in `url`). */
export async function startSimulator(
  port: number,
  opts: SimulatorOptions & { host?: string } = {},
): Promise<RunningSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const sim = createSimulator(opts);
  const running = await serveSimulator(sim, { port, host });
  return running;
}

export function parseArgs(args: string[]): { port: number; host: string; options: SimulatorOptions } {
  const { port, host, one, many } = simulatorArgs(args, {
    defaultPort: 8796,
    portEnv: "ZILLOW_SIM_PORT",
    one: ["agents", "seed"],
    many: ["client"],
  });
  const options: SimulatorOptions = {};
  if (one.agents !== undefined) options.counts = { agents: Number(one.agents) };
  if (one.seed !== undefined) options.seed = Number(one.seed);
  const clients: Record<string, string> = {};
  for (const v of many.client) {
    const [id, secret] = v.split(":");
    if (id && secret) clients[id] = secret;
  }
  if (Object.keys(clients).length > 0) options.clients = clients;
  return { port, host, options };
}

if (isMainModule(import.meta)) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`zillow simulator (seeds-derived) listening on ${running.url}`);
}

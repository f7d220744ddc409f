// Serves the reZEN simulator (community-derived) on whatever runtime runs this file:
//   node (tsx) tools/simulator-rezen/main.ts --port 8794
//   bun tools/simulator-rezen/main.ts --port 8794
//   deno run -A --sloppy-imports tools/simulator-rezen/main.ts --port 8794
// Every host is a path prefix of the one port: <url>/arrakis/api/v1, <url>/yenta/api/v1, ...
// Options: --port N (default $REZEN_SIM_PORT or 8794), --host H (default 127.0.0.1), --key K (repeatable;
//   default rezen-key), --transactions N, --seed N. Also exports startSimulator() for Node tests and tools.

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
    defaultPort: 8794,
    portEnv: "REZEN_SIM_PORT",
    one: ["transactions", "seed"],
    many: ["key"],
  });
  const options: SimulatorOptions = {};
  if (one.transactions !== undefined) options.counts = { transactions: Number(one.transactions) };
  if (one.seed !== undefined) options.seed = Number(one.seed);
  if (many.key.length > 0) options.keys = many.key;
  return { port, host, options };
}

if (isMainModule(import.meta)) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`rezen simulator listening on ${running.url}`);
}

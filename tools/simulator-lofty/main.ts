// Serves the Lofty simulator on whatever runtime runs this file:
//   node (tsx) tools/simulator-lofty/main.ts --port 8791
//   bun tools/simulator-lofty/main.ts --port 8791
//   deno run -A --sloppy-imports tools/simulator-lofty/main.ts --port 8791
// Options: --port N (default $LOFTY_SIM_PORT or 8791), --host H (default 127.0.0.1),
//   --key key:perMinute (repeatable; default lofty-key:10), --token token:perMinute (repeatable),
//   --leads N, --seed N. Also exports startSimulator() for Node tests and tools.

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
  if (!opts.baseUrl) sim.setBaseUrl(running.url);
  return running;
}

export function parseArgs(args: string[]): { port: number; host: string; options: SimulatorOptions } {
  const { port, host, one, many } = simulatorArgs(args, {
    defaultPort: 8791,
    portEnv: "LOFTY_SIM_PORT",
    one: ["leads", "seed"],
    many: ["key", "token"],
  });
  const perMinute = (values: string[]) => {
    const into: Record<string, number> = {};
    for (const v of values) {
      const [name, limit] = v.split(":");
      if (name) into[name] = Number(limit ?? 10) || 10;
    }
    return into;
  };
  const options: SimulatorOptions = {};
  if (one.leads !== undefined) options.counts = { leads: Number(one.leads) };
  if (one.seed !== undefined) options.seed = Number(one.seed);
  const keys = perMinute(many.key);
  const tokens = perMinute(many.token);
  if (Object.keys(keys).length > 0) options.keys = keys;
  if (Object.keys(tokens).length > 0) options.tokens = tokens;
  return { port, host, options };
}

if (isMainModule(import.meta)) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`lofty simulator listening on ${running.url}`);
}

// Serves the reZEN simulator (community-derived) on whatever runtime runs this file:
//   node (tsx) tools/simulator-rezen/main.ts --port 8794
//   bun tools/simulator-rezen/main.ts --port 8794
//   deno run -A --sloppy-imports tools/simulator-rezen/main.ts --port 8794
// Every host is a path prefix of the one port: <url>/arrakis/api/v1, <url>/yenta/api/v1, ...
// Options: --port N (default $REZEN_SIM_PORT or 8794), --host H (default 127.0.0.1), --key K (repeatable;
//   default rezen-key), --transactions N, --seed N. Also exports startSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, runtimeEnv, serveSimulator } from "../lib/serve-anywhere";
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
  let port = Number(runtimeEnv("REZEN_SIM_PORT") ?? 8794);
  let host = "127.0.0.1";
  const keys: string[] = [];
  const options: SimulatorOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const value = (): string => {
      const eq = a.indexOf("=");
      if (eq >= 0) return a.slice(eq + 1);
      i++;
      return args[i] ?? "";
    };
    if (a === "--port" || a.startsWith("--port=")) port = Number(value());
    else if (a === "--host" || a.startsWith("--host=")) host = value();
    else if (a === "--key" || a.startsWith("--key=")) keys.push(value());
    else if (a === "--transactions" || a.startsWith("--transactions="))
      options.counts = { transactions: Number(value()) };
    else if (a === "--seed" || a.startsWith("--seed=")) options.seed = Number(value());
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}`);
  if (keys.length > 0) options.keys = keys;
  return { port, host, options };
}

if (isMainModule(import.meta)) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`rezen simulator listening on ${running.url}`);
}

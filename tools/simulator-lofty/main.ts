// Serves the Lofty simulator on whatever runtime runs this file:
//   node (tsx) tools/simulator-lofty/main.ts --port 8791
//   bun tools/simulator-lofty/main.ts --port 8791
//   deno run -A --sloppy-imports tools/simulator-lofty/main.ts --port 8791
// Options: --port N (default $LOFTY_SIM_PORT or 8791), --host H (default 127.0.0.1),
//   --key key:perMinute (repeatable; default lofty-key:10), --token token:perMinute (repeatable),
//   --leads N, --seed N. Also exports startSimulator() for Node tests and tools.

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
  if (!opts.baseUrl) sim.setBaseUrl(running.url);
  return running;
}

export function parseArgs(args: string[]): { port: number; host: string; options: SimulatorOptions } {
  let port = Number(runtimeEnv("LOFTY_SIM_PORT") ?? 8791);
  let host = "127.0.0.1";
  const keys: Record<string, number> = {};
  const tokens: Record<string, number> = {};
  const options: SimulatorOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const value = (): string => {
      const eq = a.indexOf("=");
      if (eq >= 0) return a.slice(eq + 1);
      i++;
      return args[i] ?? "";
    };
    const pair = (into: Record<string, number>) => {
      const [name, perMinute] = value().split(":");
      if (name) into[name] = Number(perMinute ?? 10) || 10;
    };
    if (a === "--port" || a.startsWith("--port=")) port = Number(value());
    else if (a === "--host" || a.startsWith("--host=")) host = value();
    else if (a === "--key" || a.startsWith("--key=")) pair(keys);
    else if (a === "--token" || a.startsWith("--token=")) pair(tokens);
    else if (a === "--leads" || a.startsWith("--leads=")) options.counts = { leads: Number(value()) };
    else if (a === "--seed" || a.startsWith("--seed=")) options.seed = Number(value());
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}`);
  if (Object.keys(keys).length > 0) options.keys = keys;
  if (Object.keys(tokens).length > 0) options.tokens = tokens;
  return { port, host, options };
}

if (isMainModule(import.meta)) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`lofty simulator listening on ${running.url}`);
}

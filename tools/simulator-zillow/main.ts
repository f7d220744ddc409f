// Serves the Zillow simulator (SEEDS-DERIVED: nothing of Zillow's API is public, see contract.ts) on
// whatever runtime runs this file:
//   node (tsx) tools/simulator-zillow/main.ts --port 8796
//   bun tools/simulator-zillow/main.ts --port 8796
//   deno run -A --sloppy-imports tools/simulator-zillow/main.ts --port 8796
// Options: --port N (default $ZILLOW_SIM_PORT or 8796), --host H (default 127.0.0.1),
//   --client id:secret (repeatable; default zillow-client:zillow-secret), --agents N, --seed N.
// Also exports startSimulator() for Node tests and tools.

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
  let port = Number(runtimeEnv("ZILLOW_SIM_PORT") ?? 8796);
  let host = "127.0.0.1";
  const clients: Record<string, string> = {};
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
    else if (a === "--client" || a.startsWith("--client=")) {
      const [id, secret] = value().split(":");
      if (id && secret) clients[id] = secret;
    } else if (a === "--agents" || a.startsWith("--agents=")) options.counts = { agents: Number(value()) };
    else if (a === "--seed" || a.startsWith("--seed=")) options.seed = Number(value());
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}`);
  if (Object.keys(clients).length > 0) options.clients = clients;
  return { port, host, options };
}

if (isMainModule(import.meta)) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`zillow simulator (seeds-derived) listening on ${running.url}`);
}

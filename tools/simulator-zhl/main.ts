// Serves the seeds-derived ZHL simulator on whatever runtime runs this file:
//   tsx tools/simulator-zhl/main.ts --port 8792 [--account name:apiKey[:territories[:referrals]]]...
// Default: one account `demo` with key `zhl-demo-key`, 3 territories, 10 referrals.
// Also exports startSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, runtimeEnv, serveSimulator } from "../lib/serve-anywhere";
import { type AccountConfig, createSimulator, type Simulator, type SimulatorOptions } from "./app";

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

export function parseArgs(args: string[]): {
  port: number;
  accounts: Record<string, AccountConfig & { apiKey: string }>;
} {
  let port = Number(runtimeEnv("ZHL_SIM_PORT") ?? 8792);
  const accounts: Record<string, AccountConfig & { apiKey: string }> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const value = () => (a.includes("=") ? a.slice(a.indexOf("=") + 1) : (args[++i] ?? ""));
    if (a === "--port" || a.startsWith("--port=")) port = Number(value());
    else if (a === "--account" || a.startsWith("--account=")) {
      const [name, apiKey, territories, referrals] = value().split(":");
      if (name && apiKey)
        accounts[name] = {
          apiKey,
          ...(territories ? { territories: Number(territories) } : {}),
          ...(referrals ? { referrals: Number(referrals) } : {}),
        };
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}`);
  if (Object.keys(accounts).length === 0) accounts.demo = { apiKey: "zhl-demo-key" };
  return { port, accounts };
}

if (isMainModule(import.meta)) {
  const { port, accounts } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { accounts });
  console.log(`zhl simulator (seeds-derived) listening on ${running.url}`);
}

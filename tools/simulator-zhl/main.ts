// Serves the seeds-derived ZHL simulator on whatever runtime runs this file:
//   tsx tools/simulator-zhl/main.ts --port 8792 [--account name:apiKey[:territories[:referrals]]]...
// Default: one account `demo` with key `zhl-demo-key`, 3 territories, 10 referrals.
// Also exports startSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, serveSimulator, simulatorArgs } from "../lib/serve-anywhere";
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
  const { port, many } = simulatorArgs(args, {
    defaultPort: 8792,
    portEnv: "ZHL_SIM_PORT",
    many: ["account"],
  });
  const accounts: Record<string, AccountConfig & { apiKey: string }> = {};
  for (const v of many.account) {
    const [name, apiKey, territories, referrals] = v.split(":");
    if (name && apiKey)
      accounts[name] = {
        apiKey,
        ...(territories ? { territories: Number(territories) } : {}),
        ...(referrals ? { referrals: Number(referrals) } : {}),
      };
  }
  if (Object.keys(accounts).length === 0) accounts.demo = { apiKey: "zhl-demo-key" };
  return { port, accounts };
}

if (isMainModule(import.meta)) {
  const { port, accounts } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { accounts });
  console.log(`zhl simulator (seeds-derived) listening on ${running.url}`);
}

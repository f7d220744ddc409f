// Serves the Open To Close simulator on whatever runtime runs this file:
//   tsx tools/simulator-opentoclose/main.ts --port 8790 [--account name:token[:properties[:fields]]]...
// Default: one account `demo` with token `otc-demo-token`, 10 properties, 134 fields.
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
  accounts: Record<string, AccountConfig & { token: string }>;
} {
  const { port, many } = simulatorArgs(args, {
    defaultPort: 8790,
    portEnv: "OPENTOCLOSE_SIM_PORT",
    many: ["account"],
  });
  const accounts: Record<string, AccountConfig & { token: string }> = {};
  for (const v of many.account) {
    const [name, token, properties, fields] = v.split(":");
    if (name && token)
      accounts[name] = {
        token,
        ...(properties ? { properties: Number(properties) } : {}),
        ...(fields ? { fields: Number(fields) } : {}),
      };
  }
  if (Object.keys(accounts).length === 0) accounts.demo = { token: "otc-demo-token" };
  return { port, accounts };
}

if (isMainModule(import.meta)) {
  const { port, accounts } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { accounts });
  console.log(`opentoclose simulator listening on ${running.url}`);
}

// Serves the simulator on whatever runtime runs this file:
//   node (tsx) tools/simulator/main.ts --port 8788
//   bun tools/simulator/main.ts --port 8788
//   deno run -A --sloppy-imports tools/simulator/main.ts --port 8788
// Options: --port N (default $SIM_PORT or 8788), --host H (default 127.0.0.1),
//   --tenant apiKey[:systemKey[:people]] (repeatable) to create tenants at start.
// Also exports startSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, serveSimulator, simulatorArgs } from "../lib/serve-anywhere";
import { createSimulator, type Simulator, type SimulatorOptions, type TenantConfig } from "./app";

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

export function parseArgs(args: string[]): {
  port: number;
  host: string;
  tenants: Record<string, TenantConfig>;
} {
  const { port, host, many } = simulatorArgs(args, {
    defaultPort: 8788,
    portEnv: "SIM_PORT",
    many: ["tenant"],
  });
  const tenants: Record<string, TenantConfig> = {};
  for (const v of many.tenant) {
    const [apiKey, systemKey, people] = v.split(":");
    if (apiKey)
      tenants[apiKey] = {
        ...(systemKey ? { systemKey } : {}),
        ...(people ? { counts: { people: Number(people) } } : {}),
      };
  }
  return { port, host, tenants };
}

if (isMainModule(import.meta)) {
  const { port, host, tenants } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, tenants });
  console.log(`simulator listening on ${running.url}`);
}

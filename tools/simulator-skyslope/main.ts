// Serves the SkySlope simulator on whatever runtime runs this file:
//   tsx tools/simulator-skyslope/main.ts --port 8791 [--zone America/Los_Angeles] [--seed 1]
// Also exports startSkyslopeSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, serveAnywhere, simulatorArgs } from "../lib/serve-anywhere";
import { createSkyslopeSimulator, type SkyslopeSimOptions, type SkyslopeSimulator } from "./app";

export interface RunningSkyslopeSimulator {
  url: string;
  port: number;
  sim: SkyslopeSimulator;
  close(): Promise<void>;
}

/** Start on a port (0: any free one, reported in `url`). */
export async function startSkyslopeSimulator(
  port: number,
  opts: SkyslopeSimOptions & { host?: string } = {},
): Promise<RunningSkyslopeSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const sim = createSkyslopeSimulator(opts);
  const served = await serveAnywhere((r) => sim.fetch(r), { port, host });
  return { url: served.url, port: served.port, sim, close: () => served.close() };
}

if (isMainModule(import.meta)) {
  const { port, host, one } = simulatorArgs(runtimeArgs(), {
    defaultPort: 8791,
    portEnv: "SKYSLOPE_SIM_PORT",
    one: ["zone", "seed"],
  });
  const running = await startSkyslopeSimulator(port, {
    host,
    timeZone: one.zone ?? "UTC",
    seed: Number(one.seed ?? 1),
  });
  console.log(`skyslope simulator listening on ${running.url}`);
}

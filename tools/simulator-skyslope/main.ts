// Serves the SkySlope simulator on whatever runtime runs this file:
//   tsx tools/simulator-skyslope/main.ts --port 8791 [--zone America/Los_Angeles] [--seed 1]
// Also exports startSkyslopeSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, runtimeEnv, serveAnywhere } from "../lib/serve-anywhere";
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

function arg(name: string): string | undefined {
  const argv = runtimeArgs();
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
}

if (isMainModule(import.meta)) {
  const running = await startSkyslopeSimulator(
    Number(arg("port") ?? runtimeEnv("SKYSLOPE_SIM_PORT") ?? 8791),
    {
      timeZone: arg("zone") ?? "UTC",
      seed: Number(arg("seed") ?? 1),
    },
  );
  console.log(`skyslope simulator listening on ${running.url}`);
}

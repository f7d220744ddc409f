// Serves the SkySlope simulator on Node:
//   tsx tools/simulator-skyslope/main.ts --port 8791 [--zone America/Los_Angeles] [--seed 1]
// Also exports startSkyslopeSimulator() for Node tests and tools.

import { serve } from "@hono/node-server";
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
  const started = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch: sim.fetch, port, hostname: host }, (info) =>
      resolve({ server, port: info.port }),
    );
    server.once("error", reject);
  });
  return {
    url: `http://${host}:${started.port}`,
    port: started.port,
    sim,
    async close() {
      const s = started.server as unknown as {
        closeAllConnections?: () => void;
        close(cb: () => void): void;
      };
      s.closeAllConnections?.();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
}

const self = decodeURIComponent(new URL(import.meta.url).pathname);
if (process.argv[1] && self.replace(/\.ts$/, "") === process.argv[1].replace(/\.ts$/, "")) {
  const running = await startSkyslopeSimulator(Number(arg("port") ?? process.env.SKYSLOPE_SIM_PORT ?? 8791), {
    timeZone: arg("zone") ?? "UTC",
    seed: Number(arg("seed") ?? 1),
  });
  console.log(`skyslope simulator listening on ${running.url}`);
}

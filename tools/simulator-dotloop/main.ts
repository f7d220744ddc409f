// Serves the Dotloop simulator on whatever runtime runs this file:
//   node (tsx) tools/simulator-dotloop/main.ts --port 8789
//   bun tools/simulator-dotloop/main.ts --port 8789
//   deno run -A --sloppy-imports tools/simulator-dotloop/main.ts --port 8789
// Options: --port N (default $DOTLOOP_SIM_PORT or 8789), --host H (default 127.0.0.1),
//   --client clientId:secret (repeatable; default dotloop-client:dotloop-secret),
//   --user id[:loopsPerProfile[:contacts]] (repeatable; default user 1).
// Also exports startSimulator() for Node tests and tools.

import { isMainModule, runtimeArgs, serveSimulator, simulatorArgs } from "../lib/serve-anywhere";
import { createSimulator, type Simulator, type SimulatorOptions, type UserConfig } from "./app";

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
  clients: Record<string, string>;
  users: Record<number, UserConfig>;
} {
  const { port, host, many } = simulatorArgs(args, {
    defaultPort: 8789,
    portEnv: "DOTLOOP_SIM_PORT",
    many: ["client", "user"],
  });
  const clients: Record<string, string> = {};
  for (const v of many.client) {
    const colon = v.indexOf(":");
    if (colon > 0) clients[v.slice(0, colon)] = v.slice(colon + 1);
  }
  const users: Record<number, UserConfig> = {};
  for (const v of many.user) {
    const [id, loops, contacts] = v.split(":");
    const n = Number(id);
    if (Number.isSafeInteger(n) && n > 0)
      users[n] = {
        counts: {
          ...(loops ? { loopsPerProfile: Number(loops) } : {}),
          ...(contacts ? { contacts: Number(contacts) } : {}),
        },
      };
  }
  if (Object.keys(clients).length === 0) clients["dotloop-client"] = "dotloop-secret";
  if (Object.keys(users).length === 0) users[1] = {};
  return { port, host, clients, users };
}

if (isMainModule(import.meta)) {
  const { port, host, clients, users } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, clients, users });
  console.log(`dotloop simulator listening on ${running.url}`);
}

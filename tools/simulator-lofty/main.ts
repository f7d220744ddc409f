// Serves the Lofty simulator on whatever runtime runs this file:
//   node (tsx) tools/simulator-lofty/main.ts --port 8791
//   bun tools/simulator-lofty/main.ts --port 8791
//   deno run -A --sloppy-imports tools/simulator-lofty/main.ts --port 8791
// Options: --port N (default $LOFTY_SIM_PORT or 8791), --host H (default 127.0.0.1),
//   --key key:perMinute (repeatable; default lofty-key:10), --token token:perMinute (repeatable),
//   --leads N, --seed N. Also exports startSimulator() for Node tests and tools.

import { createSimulator, type Simulator, type SimulatorOptions } from "./app";

interface BunLike {
  serve(o: {
    port: number;
    hostname: string;
    fetch: (r: Request) => Response | Promise<Response>;
    idleTimeout?: number;
  }): { port: number; stop(force?: boolean): void | Promise<void> };
  argv: string[];
  env: Record<string, string | undefined>;
}
interface DenoLike {
  serve(
    o: { port: number; hostname: string; onListen?: (a: { port: number }) => void },
    handler: (r: Request) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  args: string[];
  env: { get(k: string): string | undefined };
}
interface NodeProcessLike {
  argv: string[];
  env: Record<string, string | undefined>;
}

const g = globalThis as unknown as { Bun?: BunLike; Deno?: DenoLike; process?: NodeProcessLike };

export interface RunningSimulator {
  url: string;
  port: number;
  sim: Simulator;
  close(): Promise<void>;
}

function hostUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Start on the current runtime. port 0 picks a free port (reported in `url`). */
export async function startSimulator(
  port: number,
  opts: SimulatorOptions & { host?: string } = {},
): Promise<RunningSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const sim = createSimulator(opts);
  const fetchHandler = (r: Request) => sim.app.fetch(r);
  if (g.Bun) {
    const server = g.Bun.serve({ port, hostname: host, fetch: fetchHandler, idleTimeout: 0 });
    const url = hostUrl(host, server.port);
    if (!opts.baseUrl) sim.setBaseUrl(url);
    return {
      url,
      port: server.port,
      sim,
      async close() {
        await sim.close();
        await server.stop(true);
      },
    };
  }
  if (g.Deno) {
    const server = g.Deno.serve({ port, hostname: host, onListen: () => {} }, fetchHandler);
    const url = hostUrl(host, server.addr.port);
    if (!opts.baseUrl) sim.setBaseUrl(url);
    return {
      url,
      port: server.addr.port,
      sim,
      async close() {
        await sim.close();
        await server.shutdown();
      },
    };
  }
  const { serve } = await import("@hono/node-server");
  const actual = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch: fetchHandler, port, hostname: host }, (info) =>
      resolve({ server, port: info.port }),
    );
    server.once("error", reject);
  });
  const url = hostUrl(host, actual.port);
  if (!opts.baseUrl) sim.setBaseUrl(url);
  return {
    url,
    port: actual.port,
    sim,
    async close() {
      await sim.close();
      const s = actual.server as unknown as { closeAllConnections?: () => void; close(cb: () => void): void };
      s.closeAllConnections?.();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

function runtimeArgs(): string[] {
  if (g.Deno) return g.Deno.args;
  if (g.Bun) return g.Bun.argv.slice(2);
  return g.process?.argv.slice(2) ?? [];
}

function env(name: string): string | undefined {
  if (g.Deno) return g.Deno.env.get(name);
  return (g.Bun?.env ?? g.process?.env)?.[name];
}

export function parseArgs(args: string[]): { port: number; host: string; options: SimulatorOptions } {
  let port = Number(env("LOFTY_SIM_PORT") ?? 8791);
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

function isMain(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const argv1 = g.process?.argv[1];
  if (!argv1) return false;
  const self = decodeURIComponent(new URL(import.meta.url).pathname);
  return self === argv1 || self.replace(/\.ts$/, "") === argv1.replace(/\.ts$/, "");
}

if (isMain()) {
  const { port, host, options } = parseArgs(runtimeArgs());
  const running = await startSimulator(port, { host, ...options });
  console.log(`lofty simulator listening on ${running.url}`);
}

// Serves a fetch handler on whichever runtime runs the file (Node through @hono/node-server, Bun, Deno), so the
// simulators and tools start the same way under all three.

import { parseArgs } from "node:util";

type Handler = (r: Request) => Response | Promise<Response>;

interface BunLike {
  serve(o: { port: number; hostname: string; fetch: Handler; idleTimeout?: number }): {
    port: number;
    stop(force?: boolean): void | Promise<void>;
  };
  argv: string[];
  env: Record<string, string | undefined>;
}
interface DenoLike {
  serve(
    o: { port: number; hostname: string; onListen?: (a: { port: number }) => void },
    handler: Handler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  args: string[];
  env: { get(k: string): string | undefined };
}
interface NodeProcessLike {
  argv: string[];
  env: Record<string, string | undefined>;
}

const g = globalThis as unknown as { Bun?: BunLike; Deno?: DenoLike; process?: NodeProcessLike };

export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function hostUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Listens on host:port (0: any free port, reported in `url`) with the current runtime's server. */
export async function serveAnywhere(fetch: Handler, opts: { port: number; host: string }): Promise<Served> {
  const { port, host } = opts;
  if (g.Bun) {
    const server = g.Bun.serve({ port, hostname: host, fetch, idleTimeout: 0 });
    return {
      url: hostUrl(host, server.port),
      port: server.port,
      async close() {
        await server.stop(true);
      },
    };
  }
  if (g.Deno) {
    const server = g.Deno.serve({ port, hostname: host, onListen: () => {} }, fetch);
    return {
      url: hostUrl(host, server.addr.port),
      port: server.addr.port,
      async close() {
        await server.shutdown();
      },
    };
  }
  const { serve } = await import("@hono/node-server");
  const actual = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host }, (info) => resolve({ server, port: info.port }));
    server.once("error", reject);
  });
  return {
    url: hostUrl(host, actual.port),
    port: actual.port,
    async close() {
      const s = actual.server as unknown as { closeAllConnections?: () => void; close(cb: () => void): void };
      s.closeAllConnections?.();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

/** The command-line arguments after the script, on any runtime. */
export function runtimeArgs(): string[] {
  if (g.Deno) return g.Deno.args;
  if (g.Bun) return g.Bun.argv.slice(2);
  return g.process?.argv.slice(2) ?? [];
}

/** An environment variable, on any runtime. */
export function runtimeEnv(name: string): string | undefined {
  if (g.Deno) return g.Deno.env.get(name);
  return (g.Bun?.env ?? g.process?.env)?.[name];
}

/** Whether the module whose `import.meta` this is was started as the program (not imported). */
export function isMainModule(meta: ImportMeta): boolean {
  const m = meta as ImportMeta & { main?: boolean };
  if (typeof m.main === "boolean") return m.main;
  const argv1 = g.process?.argv[1];
  if (!argv1) return false;
  const self = decodeURIComponent(new URL(meta.url).pathname);
  return self === argv1 || self.replace(/\.ts$/, "") === argv1.replace(/\.ts$/, "");
}

/** A simulator (its Hono app and its own close) served on the current runtime; closing stops both. */
export async function serveSimulator<S extends { app: { fetch: Handler }; close(): Promise<void> }>(
  sim: S,
  opts: { port: number; host: string },
): Promise<Served & { sim: S }> {
  const served = await serveAnywhere((r) => sim.app.fetch(r), opts);
  return {
    url: served.url,
    port: served.port,
    sim,
    async close() {
      await sim.close();
      await served.close();
    },
  };
}

/**
 * A simulator's command line (`--name value` or `--name=value`, through node:util's parser, which Bun and Deno
 * provide too): `--port` (else the environment variable, else the default; checked), `--host` (default
 * 127.0.0.1), the simulator's own options once each, and its repeatable ones in order. Unknown options are
 * ignored, as a simulator started by a test or a script may be handed more than it knows.
 */
export function simulatorArgs<One extends string = never, Many extends string = never>(
  args: string[],
  spec: { defaultPort: number; portEnv?: string; one?: readonly One[]; many?: readonly Many[] },
): { port: number; host: string; one: Partial<Record<One, string>>; many: Record<Many, string[]> } {
  const options: Record<string, { type: "string"; multiple?: boolean }> = {
    port: { type: "string" },
    host: { type: "string" },
  };
  for (const name of spec.one ?? []) options[name] = { type: "string" };
  for (const name of spec.many ?? []) options[name] = { type: "string", multiple: true };
  const { values } = parseArgs({ args, options, strict: false, allowPositionals: true });
  const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const port = Number(
    text(values.port) ?? (spec.portEnv ? runtimeEnv(spec.portEnv) : undefined) ?? spec.defaultPort,
  );
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}`);
  const one: Partial<Record<One, string>> = {};
  for (const name of spec.one ?? []) {
    const v = text(values[name]);
    if (v !== undefined) one[name] = v;
  }
  const many = {} as Record<Many, string[]>;
  for (const name of spec.many ?? []) {
    const v = values[name];
    many[name] = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  }
  return { port, host: text(values.host) ?? "127.0.0.1", one, many };
}

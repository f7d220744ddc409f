import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drainInspector, type InspectorDrain } from "./inspector-drain";
import { freePort } from "./postgres";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");

export type WorkerProcessOptions = {
  port: number;
  persistTo: string;
  /** A dotenv file with the Worker's secrets and vars (kept out of argv, where `ps` would show them). */
  envFile?: string;
  vars?: Record<string, string>;
  log?: (line: string) => void;
  /**
   * "drain" (default): attach to wrangler's inspector so it does not hold every runtime event in memory (see
   * inspector-drain.ts). "devtools": leave it free for Chrome DevTools; memory then grows with each subrequest.
   */
  inspector?: "drain" | "devtools";
};

export type WorkerProcess = {
  url: string;
  child(): ChildProcess;
  /** Port of wrangler's inspector proxy (chrome://inspect → Configure → 127.0.0.1:port). */
  inspectorPort(): number;
  /** Starts the runtime's CPU profiler (needs the default inspector drain); see InspectorDrain.profile. */
  profile(): Promise<() => Promise<unknown>>;
  /** Stops wrangler and its workerd (the whole process group). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Kills (default SIGKILL, as a crash would) and starts it again on the same port and state. */
  restart(signal?: NodeJS.Signals): Promise<void>;
};

/** Runs the Worker in the local Workers runtime with `wrangler dev` (workerd via Miniflare). */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const url = `http://127.0.0.1:${opts.port}`;
  let inspectorPort = await freePort();
  let child = spawnWrangler(opts, inspectorPort);
  let drain: InspectorDrain | null = null;
  const attach = () => {
    drain?.stop();
    drain = opts.inspector === "devtools" ? null : drainInspector(inspectorPort);
  };
  await waitForHealth(url, child);
  attach();
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    drain?.stop();
    await killGroup(child, signal);
  };
  return {
    url,
    child: () => child,
    inspectorPort: () => inspectorPort,
    profile: () => {
      if (!drain) throw new Error('profiling needs the inspector drain (inspector: "drain")');
      return drain.profile();
    },
    stop,
    async restart(signal: NodeJS.Signals = "SIGKILL") {
      drain?.stop();
      await killGroup(child, signal);
      inspectorPort = await freePort();
      child = spawnWrangler(opts, inspectorPort);
      await waitForHealth(url, child);
      attach();
    },
  };
}

function spawnWrangler(opts: WorkerProcessOptions, inspectorPort: number): ChildProcess {
  const args = [
    "dev",
    "--port",
    String(opts.port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    opts.persistTo,
    "--test-scheduled",
    "--show-interactive-dev-session=false",
    "--log-level",
    process.env.WRANGLER_LOG_LEVEL ?? "warn",
    "--inspector-port",
    String(inspectorPort),
  ];
  if (opts.envFile) args.push("--env-file", opts.envFile);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push("--var", `${k}:${v}`);
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "1" },
  });
  const log = opts.log ?? (() => {});
  child.stdout?.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n")) if (line.trim()) log(line);
  });
  child.stderr?.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n")) if (line.trim()) log(line);
  });
  return child;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      // 503 means the Worker is up but Postgres isn't reachable yet; keep waiting for both.
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Worker at ${url} did not become healthy within ${timeoutMs} ms`);
}

async function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The package's bin, run as a child process the way an operator runs it. */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../tools/cli/edge-etl.mjs");

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs `edge-etl args` with exactly `env` (undefined values left out) and collects its output and exit code. */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * `wrangler dev` rebuilds and restarts workerd whenever a watched source file changes, which kills in-flight
 * steps and stalls a long run for a lease TTL each time. Long runs therefore measure a frozen copy: the
 * committed tree at HEAD plus this tool's own files, sharing node_modules.
 */
export function makeSnapshot(): { dir: string; commit: string } {
  const commit = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-etl-snapshot-"));
  execFileSync("sh", ["-c", `git -C "${ROOT}" archive HEAD | tar -x -C "${dir}"`]);
  for (const own of ["tools/bench", "tools/chaos"]) {
    cpSync(path.join(ROOT, own), path.join(dir, own), { recursive: true });
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return { dir, commit };
}

/** Runs `script` (relative to the repository) from a fresh snapshot, in this cwd so output paths keep meaning. */
export async function runInSnapshot(script: string, args: string[]): Promise<number> {
  const { dir, commit } = makeSnapshot();
  console.log(`running on a snapshot of ${commit.slice(0, 12)} in ${dir} (--live to use the working tree)`);
  const child = spawn(
    path.join(ROOT, "node_modules", ".bin", "tsx"),
    [path.join(dir, script), ...args, "--live", "--commit", commit],
    { stdio: "inherit" },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  rmSync(dir, { recursive: true, force: true });
  return code;
}

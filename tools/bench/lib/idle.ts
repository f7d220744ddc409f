import type { BenchStack } from "./bench-stack";
import { memoryGroups } from "./groups";
import { childPids, procStat } from "./rss";

const TICKS_PER_SEC = 100;

/** CPU seconds (user + system) the processes have used so far; processes that exited count as 0. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = procStat(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SEC;
}

/** The stack's processes other than this one: what keeps working after a phase's load has stopped. */
function backgroundPids(b: BenchStack): number[] {
  return memoryGroups(b)
    .filter((g) => g.withDescendants)
    .flatMap((g) => g.roots().flatMap((root) => (root > 0 ? [root, ...childPids(root)] : [])));
}

/**
 * Waits until the Worker runtime and Postgres are idle (below `maxCores` over a `windowMs` window), so the
 * next measured phase doesn't pay for the backlog of the one before: a webhook phase leaves events to copy,
 * fetch and transform after the last acknowledgement. Returns how long it waited and whether it got there.
 */
export async function waitForIdle(
  b: BenchStack,
  opts: { maxCores?: number; windowMs?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; idle: boolean }> {
  const maxCores = opts.maxCores ?? 0.15;
  const windowMs = opts.windowMs ?? 1_000;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const pids = backgroundPids(b);
    const before = cpuSeconds(pids);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const cores = (cpuSeconds(pids) - before) / ((performance.now() - t0) / 1000);
    if (cores < maxCores) return { waitedMs: Math.round(performance.now() - started), idle: true };
  }
  return { waitedMs: Math.round(performance.now() - started), idle: false };
}

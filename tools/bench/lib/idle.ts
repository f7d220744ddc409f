import { readdirSync, readFileSync } from "node:fs";
import type { BenchStack } from "./bench-stack";
import { exec } from "./cluster";

const TICKS_PER_SEC = 100;
const SECTOR_BYTES = 512;

/**
 * Busy CPU seconds of the whole machine so far. Per-process sums miss Postgres backends that start and exit
 * between two readings (the runtime opens a connection per invocation), which made a busy stack look idle.
 */
function machineBusySeconds(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1, 9);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SEC
  );
}

/** Bytes written so far to the machine's disks (whole devices only: no partitions, loop or RAM devices). */
function diskWrittenBytes(): number {
  let disks: Set<string>;
  try {
    disks = new Set(readdirSync("/sys/block").filter((d) => !/^(loop|ram|zram)/.test(d)));
  } catch {
    return 0;
  }
  let sectors = 0;
  for (const line of readFileSync("/proc/diskstats", "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[2] && disks.has(f[2])) sectors += Number(f[9] ?? 0);
  }
  return sectors * SECTOR_BYTES;
}

/**
 * Waits until the machine is quiet, so the next measured phase doesn't pay for the backlog of the ones
 * before. A webhook phase leaves events to copy, fetch and transform; a raw baseline leaves gigabytes of dirty
 * Postgres buffers that the checkpointer would otherwise write out during the next phase, on the disk every
 * durable object commit fsyncs to. So: a CHECKPOINT first (at full speed, not spread), then wait for CPU below
 * `maxCores` and disk writes below `maxDiskMBps` over a `windowMs` window.
 */
export async function waitForIdle(
  b: BenchStack,
  opts: { maxCores?: number; maxDiskMBps?: number; windowMs?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; idle: boolean }> {
  const maxCores = opts.maxCores ?? 0.2;
  const maxDiskMBps = opts.maxDiskMBps ?? 2;
  const windowMs = opts.windowMs ?? 1_000;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = performance.now();
  await exec(b.cluster.url, "/* bench */ checkpoint");
  while (performance.now() - started < timeoutMs) {
    const cpu0 = machineBusySeconds();
    const disk0 = diskWrittenBytes();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const seconds = (performance.now() - t0) / 1000;
    const cores = (machineBusySeconds() - cpu0) / seconds;
    const diskMBps = (diskWrittenBytes() - disk0) / seconds / 1e6;
    if (cores < maxCores && diskMBps < maxDiskMBps)
      return { waitedMs: Math.round(performance.now() - started), idle: true };
  }
  return { waitedMs: Math.round(performance.now() - started), idle: false };
}

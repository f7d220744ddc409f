import { readdirSync, readFileSync } from "node:fs";

export type ProcessGroup = { name: string; roots: () => number[]; withDescendants: boolean };

/** Peak memory of one group of processes: RSS of the biggest member and PSS summed over members. */
export type MemoryPeak = {
  name: string;
  processes: number;
  peakRssMb: number;
  peakPssSumMb: number;
  samples: number;
};

function readKb(file: string, key: string): number {
  try {
    const text = readFileSync(file, "utf8");
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m?.[1] ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (state first, then ppid, …, utime at [11], stime at
 * [12]), or null if the process is gone.
 */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is parenthesised and may contain spaces; fields after it are space separated.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

function childrenMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(Number(entry));
    if (!fields) continue;
    const ppid = Number(fields[1]);
    const list = map.get(ppid) ?? [];
    list.push(Number(entry));
    map.set(ppid, list);
  }
  return map;
}

function withDescendants(roots: number[], children: Map<number, number[]>): number[] {
  const out: number[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * Samples /proc at least every interval: PSS splits shared pages (Postgres shared buffers, workerd's mapped
 * code) among the processes that map them, so the per-group PSS sum doesn't count them once per backend.
 *
 * Reading smaps_rollup walks a process's page tables in the kernel: with ~30 Postgres backends mapping shared
 * buffers and a large workerd it cost 50-100 ms of CPU per sample here, which at a fixed 500 ms took 10-20 % of
 * a core from the pipeline being measured. So each pause is at least 100 times the last sample's own CPU time
 * (at most 1 % of a core); memory moves slowly, and stop() samples once more at the end.
 */
export function startMemorySampler(groups: ProcessGroup[], intervalMs = 500, maxShare = 0.01) {
  const peaks = new Map<string, MemoryPeak>();
  for (const g of groups) {
    peaks.set(g.name, { name: g.name, processes: 0, peakRssMb: 0, peakPssSumMb: 0, samples: 0 });
  }
  let costMs = 0;
  const sample = () => {
    const before = process.cpuUsage();
    const children = groups.some((g) => g.withDescendants) ? childrenMap() : new Map<number, number[]>();
    for (const g of groups) {
      const peak = peaks.get(g.name) as MemoryPeak;
      const roots = g.roots().filter((p) => p > 0);
      const pids = g.withDescendants ? withDescendants(roots, children) : roots;
      let maxRss = 0;
      let pss = 0;
      let alive = 0;
      for (const pid of pids) {
        const rss = readKb(`/proc/${pid}/status`, "VmRSS");
        if (rss === 0) continue;
        alive++;
        maxRss = Math.max(maxRss, rss);
        pss += readKb(`/proc/${pid}/smaps_rollup`, "Pss");
      }
      if (alive === 0) continue;
      peak.samples++;
      peak.processes = Math.max(peak.processes, alive);
      peak.peakRssMb = Math.max(peak.peakRssMb, round(maxRss / 1024));
      peak.peakPssSumMb = Math.max(peak.peakPssSumMb, round(pss / 1024));
    }
    const used = process.cpuUsage(before);
    costMs = (used.user + used.system) / 1000;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const next = () => {
    timer = setTimeout(
      () => {
        sample();
        if (!stopped) next();
      },
      Math.max(intervalMs, costMs / maxShare),
    );
  };
  sample();
  next();
  return {
    stop(): MemoryPeak[] {
      if (!stopped) {
        stopped = true;
        clearTimeout(timer);
        sample();
      }
      return [...peaks.values()];
    },
  };
}

/** Direct children of pid whose command name matches. */
export function childPids(pid: number | undefined, comm?: RegExp): number[] {
  if (!pid) return [];
  const all = withDescendants([pid], childrenMap()).filter((p) => p !== pid);
  if (!comm) return all;
  return all.filter((p) => {
    try {
      return comm.test(readFileSync(`/proc/${p}/comm`, "utf8").trim());
    } catch {
      return false;
    }
  });
}

const round = (x: number) => Math.round(x * 10) / 10;

import http from "node:http";

export type LoadRequest = { method: string; path: string; headers?: Record<string, string>; body?: string };

export type LoadResult = {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  durationSec: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
};

/**
 * Closed-loop load: `concurrency` workers each send their next request when the previous one is answered,
 * over keep-alive connections, for `durationMs`. node:http rather than fetch keeps the generator's own CPU
 * cost low; it shares the machine with the Worker it measures.
 */
export async function runLoad(opts: {
  baseUrl: string;
  concurrency: number;
  durationMs: number;
  next: (seq: number) => LoadRequest | Promise<LoadRequest>;
}): Promise<LoadResult> {
  const url = new URL(opts.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  const deadline = start + opts.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const req = await opts.next(seq++);
      const t0 = performance.now();
      try {
        const status = await send(agent, url, req);
        statuses[status] = (statuses[status] ?? 0) + 1;
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const durationSec = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    statuses,
    durationSec: round(durationSec, 2),
    rps: round(latencies.length / durationSec, 1),
    p50Ms: round(percentile(latencies, 0.5), 2),
    p99Ms: round(percentile(latencies, 0.99), 2),
  };
}

function send(agent: http.Agent, base: URL, req: LoadRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers: { ...(req.body ? { "Content-Length": Buffer.byteLength(req.body) } : {}), ...req.headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    r.setTimeout(30_000, () => r.destroy(new Error("timeout")));
    r.on("error", reject);
    if (req.body) r.write(req.body);
    r.end();
  });
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

import type { RunningSimulator } from "../../simulator/main";

export type TappedRequest = { at: number; status: number; path: string };

/**
 * Records every FUB API request the simulator answers (time, status), by wrapping the Hono app's fetch the
 * server calls per request. The simulator's own counters have no timestamps; rate-budget use needs them.
 */
export function tapSimulator(sim: RunningSimulator) {
  const app = sim.sim.app;
  const original = app.fetch;
  let log: TappedRequest[] = [];
  app.fetch = async (request: Request, ...rest: unknown[]) => {
    const res = await (original as (r: Request, ...x: unknown[]) => Promise<Response>)(request, ...rest);
    const path = new URL(request.url).pathname;
    if (path.startsWith("/v1/")) log.push({ at: Date.now(), status: res.status, path });
    return res;
  };
  return {
    take(): TappedRequest[] {
      const out = log;
      log = [];
      return out;
    },
    peek: () => log,
    restore() {
      app.fetch = original;
    },
  };
}

export type BudgetUse = {
  requests: number;
  served: number;
  rateLimited: number;
  durationSec: number;
  /** served requests after the first window over what the limit allows in that time */
  steadyShare: number;
  /** served over limit x (duration / window), first-window burst included */
  wholeRunShare: number;
};

/**
 * Share of the allowed rate a run used. The first window is left out of the steady share: a sliding window
 * lets a fresh client burst a whole window's worth at once, which would flatter the figure.
 */
export function budgetUse(requests: TappedRequest[], limit: number, windowSec: number): BudgetUse {
  const served = requests.filter((r) => r.status !== 429);
  const rateLimited = requests.length - served.length;
  if (served.length < 2) {
    return {
      requests: requests.length,
      served: served.length,
      rateLimited,
      durationSec: 0,
      steadyShare: 0,
      wholeRunShare: 0,
    };
  }
  const t0 = (served[0] as TappedRequest).at;
  const t1 = (served[served.length - 1] as TappedRequest).at;
  const durationSec = (t1 - t0) / 1000;
  const perSec = limit / windowSec;
  const afterFirst = served.filter((r) => r.at > t0 + windowSec * 1000).length;
  const steadySec = durationSec - windowSec;
  return {
    requests: requests.length,
    served: served.length,
    rateLimited,
    durationSec: round(durationSec),
    steadyShare: steadySec > 0 ? round(afterFirst / (steadySec * perSec), 3) : 0,
    wholeRunShare: durationSec > 0 ? round(served.length / (durationSec * perSec), 3) : 0,
  };
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

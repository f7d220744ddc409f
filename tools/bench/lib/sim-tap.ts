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
  /** whole windows observed, from the first served request */
  windows: number;
  /** served in the whole windows after the first, over limit x those windows */
  steadyShare: number;
  /** served in all whole windows over limit x windows, the first window's burst included */
  wholeRunShare: number;
};

/**
 * The share of what a sliding-window limit allowed that the sync used. Windows are laid end to end from the
 * first served request up to `endAt`; a sliding window of `limit` per `windowSec` admits at most `limit` in
 * each, and a client that spends every slot reaches exactly `limit` in each, so the share can't pass 1. Steady
 * leaves out the first window (the run's start-up); both count only whole windows.
 */
export function budgetUse(
  requests: TappedRequest[],
  limit: number,
  windowSec: number,
  endAt: number,
): BudgetUse {
  const served = requests.filter((r) => r.status !== 429);
  const rateLimited = requests.length - served.length;
  const t0 = served[0]?.at;
  const windowMs = windowSec * 1000;
  const windows = t0 === undefined ? 0 : Math.floor((endAt - t0) / windowMs);
  const inWindows = (from: number, to: number) =>
    served.filter((r) => r.at >= (t0 as number) + from * windowMs && r.at < (t0 as number) + to * windowMs)
      .length;
  return {
    requests: requests.length,
    served: served.length,
    rateLimited,
    durationSec: t0 === undefined ? 0 : round((endAt - t0) / 1000),
    windows,
    steadyShare: windows >= 2 ? round(inWindows(1, windows) / ((windows - 1) * limit), 3) : 0,
    wholeRunShare: windows >= 1 ? round(inWindows(0, windows) / (windows * limit), 3) : 0,
  };
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

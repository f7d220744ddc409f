import { CliError, EXIT } from "./errors";
import { type Api, seg } from "./http";
import { type EntityView, type StatusView, TERMINAL } from "./status";
import { duration, num } from "./table";

export type Target = { connectionId: string; entity: string };

export type FollowOptions = {
  intervalMs: number;
  timeoutMs: number;
  /** How long to wait, after the fetch side ends, for the run's staged records to be transformed. */
  settleMs: number;
  out: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): boolean };
};

/** Consecutive failed polls tolerated before giving up: the Worker may restart under a deploy. */
const MAX_POLL_FAILURES = 5;

export type Before = Map<string, { runId: string | null; status: string }>;

const keyOf = (t: Target) => `${t.connectionId}/${t.entity}`;

export function snapshot(s: StatusView): Before {
  const m: Before = new Map();
  for (const c of s.connections) {
    for (const e of c.entities) m.set(`${c.id}/${e.entity}`, { runId: e.runId ?? null, status: e.status });
  }
  return m;
}

function find(s: StatusView, t: Target): EntityView | undefined {
  return s.connections.find((c) => c.id === t.connectionId)?.entities.find((e) => e.entity === t.entity);
}

/**
 * The run this command started (or joined) has ended on the fetch side: a terminal status on a run other than
 * the one before the request, or on the same one when that was still going (joined).
 */
function ended(e: EntityView | undefined, before: Before, t: Target): boolean {
  if (!e || !TERMINAL.has(e.status)) return false;
  const b = before.get(keyOf(t));
  if (!b) return true;
  return (e.runId ?? null) !== b.runId || !TERMINAL.has(b.status);
}

/** Every fetched record of the run has been transformed (written, unchanged or failed). */
function transformed(e: EntityView): boolean {
  // A run that failed has no count to reach: its verdict stands whatever is still being transformed.
  if (e.status === "ERROR") return true;
  const r = e.lastRun;
  if (!r || r.runId !== e.runId) return false;
  return r.written + r.unchanged + r.failed >= r.fetched;
}

export function progressLine(s: StatusView, targets: Target[], startedAt: number, now: number): string {
  const views = targets.map((t) => find(s, t));
  let records = 0;
  let total: number | null = 0;
  let eta: number | null = 0;
  let done = 0;
  for (const e of views) {
    const p = e?.progress;
    records += p?.records ?? 0;
    if (total !== null) total = p?.total === null || p?.total === undefined ? null : total + p.total;
    if (e && TERMINAL.has(e.status)) done++;
    else if (eta !== null) eta = p?.etaMs === null || p?.etaMs === undefined ? null : Math.max(eta, p.etaMs);
  }
  const elapsed = duration(now - startedAt);
  const ents = `${done}/${targets.length} entities`;
  if (total !== null && total > 0) {
    const ratio = Math.min(1, records / total);
    const width = 24;
    const filled = Math.round(ratio * width);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
    const etaText = eta === null ? "eta ?" : `eta ${duration(eta)}`;
    return `${bar} ${Math.floor(ratio * 100)}% ${num(records)}/${num(total)} records  ${ents}  ${etaText}  ${elapsed}`;
  }
  return `${num(records)} records  ${ents}  ${elapsed}`;
}

/**
 * Polls the status until every target's run has ended and its records are transformed (bounded by settleMs),
 * drawing a progress line; returns the final status. A TTY gets one redrawn line, anything else a line per change.
 */
export async function follow(
  api: Api,
  accountId: string,
  targets: Target[],
  before: Before,
  opts: FollowOptions,
): Promise<StatusView> {
  const startedAt = Date.now();
  const deadline = startedAt + opts.timeoutMs;
  let settleDeadline: number | null = null;
  let failures = 0;
  let lastLine = "";
  const draw = (line: string, final = false) => {
    if (opts.out.isTTY) opts.out.write(`\r\u001b[2K${line}${final ? "\n" : ""}`);
    else if (line !== lastLine) opts.out.write(`${line}\n`);
    lastLine = line;
  };
  for (;;) {
    let status: StatusView;
    try {
      status = await api.call<StatusView>("GET", `/admin/accounts/${seg(accountId)}/status`);
      failures = 0;
    } catch (error) {
      const transient = error instanceof CliError && error.exitCode === EXIT.server;
      if (!transient || ++failures >= MAX_POLL_FAILURES) throw error;
      await sleep(opts.intervalMs);
      continue;
    }
    const now = Date.now();
    const views = targets.map((t) => find(status, t));
    const allEnded = targets.every((t, i) => ended(views[i], before, t));
    if (allEnded) {
      settleDeadline ??= now + opts.settleMs;
      const settled = views.every((e) => e && transformed(e));
      if (settled || now >= settleDeadline) {
        draw(progressLine(status, targets, startedAt, now), true);
        if (!settled) opts.out.write("note: some fetched records were still being transformed\n");
        return status;
      }
    }
    draw(progressLine(status, targets, startedAt, now));
    if (now >= deadline) {
      if (opts.out.isTTY) opts.out.write("\n");
      throw new CliError(
        EXIT.followTimeout,
        `the run was still going after ${duration(opts.timeoutMs)}; it continues on the server (see status)`,
      );
    }
    await sleep(opts.intervalMs);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The verdict of a followed run: the worst status among its entities. */
export function outcome(
  s: StatusView,
  targets: Target[],
): { status: string; exitCode: number; lines: string[] } {
  const lines: string[] = [];
  let worst = "COMPLETED";
  for (const t of targets) {
    const e = find(s, t);
    const st = e?.status ?? "UNKNOWN";
    if (st === "ERROR" || (st !== "COMPLETED" && worst !== "ERROR")) worst = st;
    const extra = e?.errorMessage ? `  ${e.errorMessage}` : "";
    const failed = e?.failedRecords ? `  ${num(e.failedRecords)} failed records` : "";
    lines.push(`${t.connectionId} ${t.entity}: ${st}${failed}${extra}`);
  }
  return { status: worst, exitCode: worst === "COMPLETED" ? EXIT.ok : EXIT.runFailed, lines };
}

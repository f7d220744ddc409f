import { duration, num, relative, table } from "./table";

/** The parts of `GET /admin/accounts/:id/status` the CLI reads; everything else passes through with --json. */
export type RunView = {
  runId: string;
  mode: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  pages: number;
  fetched: number;
  written: number;
  unchanged: number;
  failed: number;
  deleted: number;
};

export type EntityView = {
  entity: string;
  status: string;
  runId?: string | null;
  mode?: string;
  nextRunAt?: number | null;
  lastSyncAt?: number | null;
  errorMessage?: string | null;
  progress: {
    pages: number;
    records: number;
    total: number | null;
    etaMs: number | null;
    parents: { done: number; total: number } | null;
  } | null;
  counts: { provider: number | null; ours: number | null; reconciledAt: string | null };
  failedRecords: number;
  lastRun: RunView | null;
};

export type ConnectionStatusView = {
  id: string;
  provider: string;
  status: string;
  breaker: { state: string; mode: string } | null;
  entities: EntityView[];
};

export type StatusView = { accountId: string; paused: boolean; connections: ConnectionStatusView[] };

/** Statuses after which a run does nothing more. */
export const TERMINAL = new Set(["COMPLETED", "COMPLETED_WITH_ERRORS", "ERROR"]);

/** The account's status as one aligned table per connection. */
export function renderStatus(s: StatusView, now = Date.now()): string {
  const out: string[] = [`account ${s.accountId}${s.paused ? "  (PAUSED)" : ""}`];
  if (s.connections.length === 0) out.push("no connections");
  for (const c of s.connections) {
    out.push(
      "",
      `connection ${c.id}  provider ${c.provider}  ${c.status}  breaker ${c.breaker ? c.breaker.state : "-"}`,
    );
    const rows = c.entities.map((e) => [
      e.entity,
      e.status,
      relative(e.lastRun?.finishedAt ?? e.lastRun?.startedAt ?? null, now),
      relative(e.nextRunAt ?? null, now),
      progressCell(e),
      num(e.lastRun?.written),
      num(e.counts.provider),
      num(e.counts.ours),
      num(e.failedRecords),
    ]);
    out.push(
      table(
        ["ENTITY", "STATUS", "LAST RUN", "NEXT RUN", "PROGRESS", "WRITTEN", "PROVIDER", "OURS", "FAILED"],
        rows,
      ),
    );
    for (const e of c.entities) {
      if (e.errorMessage) out.push(`  ${e.entity}: ${e.errorMessage}`);
    }
  }
  return out.join("\n");
}

function progressCell(e: EntityView): string {
  const p = e.progress;
  if (!p) return "-";
  const of = p.parents ? `${num(p.parents.done)}/${num(p.parents.total)} parents` : null;
  const records = p.total !== null ? `${num(p.records)}/${num(p.total)}` : num(p.records);
  const eta = e.status === "IN_PROGRESS" && p.etaMs !== null ? ` eta ${duration(p.etaMs)}` : "";
  return `${of ?? records}${eta}`;
}

/** The latest run of every entity, as the status carries it. */
/** A row of `GET /admin/accounts/:id/runs`: one entity of a run. */
export type HistoryRun = RunView & {
  id: number;
  connectionId: string;
  entity: string;
  trigger: string | null;
  requests: number;
  rateLimited: number;
  error: string | null;
};

export function renderRuns(accountId: string, items: HistoryRun[], now = Date.now()): string {
  if (items.length === 0) return `account ${accountId}: no runs yet`;
  return table(
    [
      "CONNECTION",
      "ENTITY",
      "RUN",
      "MODE",
      "STATUS",
      "TRIGGER",
      "STARTED",
      "TOOK",
      "REQUESTS",
      "429S",
      "FETCHED",
      "WRITTEN",
      "UNCHANGED",
      "FAILED",
      "DELETED",
    ],
    items.map((r) => [
      r.connectionId,
      r.entity,
      r.runId,
      r.mode,
      r.status,
      r.trigger ?? "-",
      relative(r.startedAt, now),
      r.finishedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : "-",
      num(r.requests),
      num(r.rateLimited),
      num(r.fetched),
      num(r.written),
      num(r.unchanged),
      num(r.failed),
      num(r.deleted),
    ]),
  );
}

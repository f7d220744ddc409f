import { type SQL, sql } from "drizzle-orm";
import { withTenant } from "../accounts/tenant";
import type { Db } from "../db/client";

/** Log lines kept per run: the oldest; the run counts the rest in `logs_dropped`. */
export const RUN_LOG_LIMIT = 200;

export type RunLogLevel = "info" | "warn" | "error";

/** One line of a run's log. The message is ours (counts, states, safe error messages), never provider data. */
export type RunLogLine = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  runId: string;
  level: RunLogLevel;
  message: string;
};

const MAX_MESSAGE = 1_000;

/**
 * Appends lines to their runs' logs in one statement, keeping at most RUN_LOG_LIMIT per run: lines past the
 * bound are counted in the run's `logs_dropped` instead of stored. Two writers racing may each see room for
 * their lines, so a run can end a few lines over the bound; never unboundedly.
 */
export async function appendRunLogs(db: Db, lines: RunLogLine[]): Promise<void> {
  if (lines.length === 0) return;
  const rows = lines.map((l, i) => ({
    account_id: l.accountId,
    connection_id: l.connectionId,
    provider: l.provider,
    entity: l.entity,
    run_id: l.runId,
    level: l.level,
    message: l.message.slice(0, MAX_MESSAGE),
    ord: i,
  }));
  await db.execute(sql`
    with r as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r(account_id text, connection_id text, provider text, entity text, run_id text, level text,
             message text, ord int)
    ), ranked as (
      select r.*, row_number() over (partition by connection_id, entity, run_id order by ord) as rn,
             (select count(*) from sync_run_logs l
              where l.connection_id = r.connection_id and l.entity = r.entity and l.run_id = r.run_id) as have
      from r
    ), ins as (
      insert into sync_run_logs (account_id, connection_id, provider, entity, run_id, level, message)
      select account_id, connection_id, provider, entity, run_id, level, message from ranked
      where have + rn <= ${RUN_LOG_LIMIT}
      order by ord
    ), dropped as (
      select connection_id, entity, run_id, count(*)::int as n from ranked
      where have + rn > ${RUN_LOG_LIMIT} group by connection_id, entity, run_id
    )
    update sync_runs s set logs_dropped = s.logs_dropped + d.n
    from dropped d
    where s.connection_id = d.connection_id and s.entity = d.entity and s.run_id = d.run_id`);
}

/**
 * A run no sync state announces (a webhook fetch, a replay), as what carried it out reports it. Requests add
 * up over attempts (each was sent); pages and fetched are the latest attempt's, since a retry rewrites the
 * same pages.
 */
export type ReportedRun = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  runId: string;
  mode: "webhook" | "replay";
  /** COMPLETED once staged (the transform adds written / unchanged / failed), PENDING while retried, ERROR. */
  status: "COMPLETED" | "PENDING" | "ERROR";
  pages: number;
  fetched: number;
  requests: number;
  rateLimited: number;
  providerErrors: number;
  /** A safe message: ours, never a payload. */
  error: string | null;
};

/** Writes the run's row (created or brought up to date) and then its lines, on the caller's tenant. */
export async function recordReportedRun(
  db: Db,
  run: ReportedRun,
  lines: { level: RunLogLevel; message: string }[],
): Promise<void> {
  await db.execute(sql`
    insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, trigger, status, finished_at,
      pages, fetched, requests, rate_limited, provider_errors, error_message)
    values (${run.accountId}, ${run.connectionId}, ${run.provider}, ${run.entity}, ${run.runId}, ${run.mode},
      ${run.mode}, ${run.status}, ${run.status === "PENDING" ? null : sql`now()`}, ${run.pages}, ${run.fetched},
      ${run.requests}, ${run.rateLimited}, ${run.providerErrors}, ${run.error})
    on conflict (connection_id, entity, run_id) do update
      set status = excluded.status, finished_at = excluded.finished_at, pages = excluded.pages,
          fetched = excluded.fetched, requests = sync_runs.requests + excluded.requests,
          rate_limited = sync_runs.rate_limited + excluded.rate_limited,
          provider_errors = sync_runs.provider_errors + excluded.provider_errors,
          error_message = excluded.error_message, updated_at = now()`);
  const ids = {
    accountId: run.accountId,
    connectionId: run.connectionId,
    provider: run.provider,
    entity: run.entity,
    runId: run.runId,
  };
  await appendRunLogs(
    db,
    lines.map((l) => ({ ...ids, ...l })),
  );
}

/**
 * Ends the webhook runs still PENDING that the given events led (their own run, and runs of groups they led:
 * `webhook:<eventId>+<n>`), except `keep`, with one statement for the rows and one for their closing lines.
 */
async function endWebhookRunsLedBy(
  db: Db,
  scope: { accountId: string; connectionId: string; eventIds: string[]; keep?: string },
  end: { status: "ERROR" | "ABANDONED"; error: string | null; level: RunLogLevel; message: string },
): Promise<number> {
  const { accountId, connectionId, eventIds } = scope;
  if (eventIds.length === 0) return 0;
  const result = await db.execute(sql`
    update sync_runs r set status = ${end.status}, finished_at = now(), error_message = ${end.error},
      updated_at = now()
    from jsonb_array_elements_text(${JSON.stringify(eventIds)}::jsonb) as e(id)
    where r.account_id = ${accountId} and r.connection_id = ${connectionId} and r.mode = 'webhook'
      and r.status = 'PENDING' and r.run_id <> ${scope.keep ?? ""}
      and (r.run_id = 'webhook:' || e.id or left(r.run_id, length(e.id) + 9) = 'webhook:' || e.id || '+')
    returning r.provider, r.entity, r.run_id`);
  const ended = result.rows as { provider: string; entity: string; run_id: string }[];
  await appendRunLogs(
    db,
    ended.map((r) => ({
      accountId,
      connectionId,
      provider: r.provider,
      entity: r.entity,
      runId: r.run_id,
      level: end.level,
      message: end.message,
    })),
  );
  return ended.length;
}

/** Ends the waiting runs of events that were just parked, as ERROR with the reason and a line saying so. */
export function endParkedWebhookRuns(
  db: Db,
  accountId: string,
  connectionId: string,
  eventIds: string[],
  reason: string,
): Promise<number> {
  return endWebhookRunsLedBy(
    db,
    { accountId, connectionId, eventIds },
    {
      status: "ERROR",
      error: reason,
      level: "error",
      message: `run ended: its events were parked (${reason})`,
    },
  );
}

/**
 * Ends the waiting runs led by events now done in another run (`byRunId`): retries regroup events, so the group
 * an attempt was recorded under may never be tried again as such and would otherwise wait forever. They end
 * ABANDONED, with a line naming the run that took their events on; events of theirs still waiting have runs of
 * their own.
 */
export function supersedeWebhookRuns(
  db: Db,
  accountId: string,
  connectionId: string,
  eventIds: string[],
  byRunId: string,
): Promise<number> {
  return endWebhookRunsLedBy(
    db,
    { accountId, connectionId, eventIds, keep: byRunId },
    {
      status: "ABANDONED",
      error: null,
      level: "info",
      message: `run ended: its events were regrouped and went on in ${byRunId}`,
    },
  );
}

export type RunFilter = { connectionId?: string; entity?: string; status?: string };

export type RunView = {
  /** The history's id of the run (one per entity of a run). */
  id: number;
  runId: string;
  connectionId: string;
  provider: string;
  entity: string;
  mode: string;
  trigger: string | null;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  pages: number;
  requests: number;
  rateLimited: number;
  fetched: number;
  written: number;
  unchanged: number;
  deleted: number;
  failed: number;
  error: string | null;
  logsDropped: number;
};

type RunRow = {
  id: string | number;
  run_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  mode: string;
  trigger: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  pages: number;
  requests: number;
  rate_limited: number;
  fetched: string | number;
  written: string | number;
  unchanged: string | number;
  deleted: string | number;
  failed: string | number;
  error_message: string | null;
  logs_dropped: number;
};

const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);

const view = (r: RunRow): RunView => {
  const startedAt = new Date(r.started_at).toISOString();
  const finishedAt = iso(r.finished_at);
  return {
    id: Number(r.id),
    runId: r.run_id,
    connectionId: r.connection_id,
    provider: r.provider,
    entity: r.entity,
    mode: r.mode,
    trigger: r.trigger,
    status: r.status,
    startedAt,
    finishedAt,
    durationMs: finishedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : null,
    pages: r.pages,
    requests: r.requests,
    rateLimited: r.rate_limited,
    fetched: Number(r.fetched),
    written: Number(r.written),
    unchanged: Number(r.unchanged),
    deleted: Number(r.deleted),
    failed: Number(r.failed),
    error: r.error_message,
    logsDropped: r.logs_dropped,
  };
};

const COLUMNS =
  sql.raw(`id, run_id, connection_id, provider, entity, mode, trigger, status, started_at, finished_at,
  pages, requests, rate_limited, fetched, written, unchanged, deleted, failed, error_message, logs_dropped`);

function where(accountId: string, f: RunFilter): SQL {
  return sql`account_id = ${accountId}
    ${f.connectionId ? sql`and connection_id = ${f.connectionId}` : sql``}
    ${f.entity ? sql`and entity = ${f.entity}` : sql``}
    ${f.status ? sql`and status = ${f.status}` : sql``}`;
}

/** An account's runs, newest first, `limit` per page after the history id `beforeId`. */
export async function listRuns(
  db: Db,
  accountId: string,
  filter: RunFilter,
  page: { limit: number; beforeId?: number },
): Promise<{ items: RunView[]; nextBeforeId: number | null }> {
  return withTenant(db, accountId, async (tx) => {
    const result = await tx.execute(sql`
      select ${COLUMNS} from sync_runs
      where ${where(accountId, filter)} ${page.beforeId ? sql`and id < ${page.beforeId}` : sql``}
      order by id desc limit ${page.limit + 1}`);
    const rows = result.rows as RunRow[];
    const items = rows.slice(0, page.limit).map(view);
    return { items, nextBeforeId: rows.length > page.limit ? (items.at(-1)?.id ?? null) : null };
  });
}

/** The run's rows (one per entity it ran), found by its run id or its history id. */
export async function getRun(db: Db, accountId: string, runId: string): Promise<RunView[]> {
  return withTenant(db, accountId, async (tx) => {
    const byId = /^\d{1,15}$/.test(runId) ? sql`or id = ${Number(runId)}` : sql``;
    const result = await tx.execute(sql`
      select ${COLUMNS} from sync_runs where account_id = ${accountId} and (run_id = ${runId} ${byId})
      order by id`);
    return (result.rows as RunRow[]).map(view);
  });
}

export type RunLogView = { at: string; level: string; entity: string; message: string };

/**
 * A run's log lines in the order written, each entity's lines followed by a line saying how many more were
 * dropped when the run passed its bound.
 */
export async function listRunLogs(db: Db, accountId: string, runs: RunView[]): Promise<RunLogView[]> {
  if (runs.length === 0) return [];
  return withTenant(db, accountId, async (tx) => {
    const keys = runs.map((r) => ({ connection_id: r.connectionId, entity: r.entity, run_id: r.runId }));
    const result = await tx.execute(sql`
      select l.at, l.level, l.entity, l.message from sync_run_logs l
      join jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(connection_id text, entity text, run_id text)
        on l.connection_id = k.connection_id and l.entity = k.entity and l.run_id = k.run_id
      where l.account_id = ${accountId}
      order by l.id`);
    const lines = (result.rows as { at: string; level: string; entity: string; message: string }[]).map(
      (r) => ({ at: new Date(r.at).toISOString(), level: r.level, entity: r.entity, message: r.message }),
    );
    for (const run of runs) {
      if (run.logsDropped > 0) {
        const last = lines.filter((l) => l.entity === run.entity).at(-1);
        lines.push({
          at: last?.at ?? run.startedAt,
          level: "warn",
          entity: run.entity,
          message: `${run.logsDropped} more lines dropped (a run keeps its first ${RUN_LOG_LIMIT})`,
        });
      }
    }
    return lines;
  });
}

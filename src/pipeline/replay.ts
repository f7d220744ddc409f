import { sql } from "drizzle-orm";
import { withTenant } from "../accounts/tenant";
import { logger } from "../core/log";
import { safeErrorMessage } from "../core/safe-error";
import { decodeStorable } from "../core/storable";
import type { Db } from "../db/client";
import { unparkInboxEvents, WEBHOOK_FAILURE_ENTITY } from "../webhooks/parking";
import { sendTransforms, type TransformMessage } from "./messages";
import { recordReportedRun } from "./run-history";
import { stagePage } from "./staging";

/**
 * Attempts after which a failed record is exhausted: replay leaves it out unless forced, so a record that
 * fails the same way every time isn't sent round again by every replay. It stays open and listed (with
 * `exhausted: true`) for an operator to fix or force.
 */
export const MAX_FAILED_ATTEMPTS = 10;

export type FailedFilter = {
  entity?: string;
  errorCode?: string;
  connectionId?: string;
  /** On last_seen_at, inclusive from / exclusive to. */
  from?: string;
  to?: string;
};

export type FailedRecordView = {
  id: number;
  connectionId: string;
  provider: string;
  entity: string;
  sourceId: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  /** Attempts reached MAX_FAILED_ATTEMPTS: replay skips it unless forced. */
  exhausted: boolean;
  payload: unknown;
};

type FailedRow = {
  id: string | number;
  connection_id: string;
  provider: string;
  entity: string;
  source_id: string;
  error_code: string;
  error_message: string;
  attempts: number;
  first_seen_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  payload: unknown;
};

function where(accountId: string, f: FailedFilter, status: "open" | "resolved" | "all") {
  return sql`f.account_id = ${accountId}
    ${status === "open" ? sql`and f.resolved_at is null` : status === "resolved" ? sql`and f.resolved_at is not null` : sql``}
    ${f.entity ? sql`and f.entity = ${f.entity}` : sql``}
    ${f.errorCode ? sql`and f.error_code = ${f.errorCode}` : sql``}
    ${f.connectionId ? sql`and f.connection_id = ${f.connectionId}` : sql``}
    ${f.from ? sql`and f.last_seen_at >= ${f.from}::timestamptz` : sql``}
    ${f.to ? sql`and f.last_seen_at < ${f.to}::timestamptz` : sql``}`;
}

const view = (r: FailedRow): FailedRecordView => ({
  id: Number(r.id),
  connectionId: r.connection_id,
  provider: r.provider,
  entity: r.entity,
  sourceId: r.source_id,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  attempts: r.attempts,
  firstSeenAt: new Date(r.first_seen_at).toISOString(),
  lastSeenAt: new Date(r.last_seen_at).toISOString(),
  resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
  exhausted: r.attempts >= MAX_FAILED_ATTEMPTS,
  payload: r.payload,
});

/** The value a stored payload stands for (staging encodes it again where it must). */
function decoded(payload: unknown): unknown {
  try {
    return decodeStorable(payload);
  } catch {
    return payload;
  }
}

/** Keyset pages by id: stable while new failures arrive, unlike offsets. */
export async function listFailed(
  db: Db,
  accountId: string,
  filter: FailedFilter & { status?: "open" | "resolved" | "all" },
  page: { limit: number; afterId?: number },
): Promise<{ items: FailedRecordView[]; nextAfterId: number | null }> {
  const rows = await withTenant(db, accountId, async (tx) => {
    const result = await tx.execute(sql`
      select f.id, f.connection_id, f.provider, f.entity, f.source_id, f.error_code, f.error_message, f.attempts,
             f.first_seen_at, f.last_seen_at, f.resolved_at, f.payload
      from failed_records f
      where ${where(accountId, filter, filter.status ?? "open")}
        ${page.afterId ? sql`and f.id > ${page.afterId}` : sql``}
      order by f.id
      limit ${page.limit + 1}`);
    return result.rows as FailedRow[];
  });
  const items = rows.slice(0, page.limit).map(view);
  const last = items.at(-1);
  return { items, nextAfterId: rows.length > page.limit && last ? last.id : null };
}

const PAGE = 100;

const log = logger("replay");

/**
 * Sends open failed records back through staging under a fresh run (`replay:<uuid>`), as the pull path
 * would: staged pages plus one transform message each. A record that lands is resolved by the consumer; one
 * still bad counts another attempt. Replaying twice stages twice, and the idempotent upsert lands it once.
 * Exhausted failures (MAX_FAILED_ATTEMPTS) are left out unless `force`. A parked webhook event (entity
 * "webhook") is not staged: its inbox row goes back to pending, and the cron sweep hands it to its account's
 * object again. An encoded payload is decoded first and staging encodes it again, exactly once.
 */
export async function replayFailed(
  db: Db,
  queue: Queue<TransformMessage>,
  accountId: string,
  filter: FailedFilter & { limit: number; force?: boolean },
  newRunId: () => string = () => `replay:${crypto.randomUUID()}`,
): Promise<{ runId: string; records: number; messages: number; webhookEvents: number; exhausted: number }> {
  const runId = newRunId();
  const { selected, exhausted } = await withTenant(db, accountId, async (tx) => {
    const bounded = filter.force ? sql`` : sql`and f.attempts < ${MAX_FAILED_ATTEMPTS}`;
    const result = await tx.execute(sql`
      select f.id, f.connection_id, f.provider, f.entity, f.source_id, f.payload
      from failed_records f
      where ${where(accountId, filter, "open")} and f.payload is not null ${bounded}
      order by f.connection_id, f.entity, f.id
      limit ${filter.limit}`);
    const skipped = filter.force
      ? { rows: [{ n: 0 }] }
      : await tx.execute(sql`
          select count(*)::int as n from failed_records f
          where ${where(accountId, filter, "open")} and f.attempts >= ${MAX_FAILED_ATTEMPTS}`);
    return {
      selected: result.rows as Pick<
        FailedRow,
        "id" | "connection_id" | "provider" | "entity" | "source_id" | "payload"
      >[],
      exhausted: Number((skipped.rows[0] as { n: number } | undefined)?.n ?? 0),
    };
  });
  const webhookEvents = await unparkInboxEvents(
    db,
    accountId,
    selected
      .filter((r) => r.entity === WEBHOOK_FAILURE_ENTITY)
      .map((r) => ({ connectionId: r.connection_id, sourceId: r.source_id })),
  );
  const rows = selected.filter((r) => r.entity !== WEBHOOK_FAILURE_ENTITY);
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const key = `${r.connection_id}\u0000${r.provider}\u0000${r.entity}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const messages: TransformMessage[] = [];
  const runs: { key: Omit<TransformMessage, "v" | "pageNo" | "records">; records: number; pages: number }[] =
    [];
  for (const list of groups.values()) {
    const first = list[0];
    if (!first) continue;
    runs.push({
      key: {
        accountId,
        connectionId: first.connection_id,
        provider: first.provider,
        entity: first.entity,
        runId,
      },
      records: list.length,
      pages: Math.ceil(list.length / PAGE),
    });
    for (let start = 0, pageNo = 0; start < list.length; start += PAGE, pageNo++) {
      const slice = list.slice(start, start + PAGE);
      const key = {
        accountId,
        connectionId: first.connection_id,
        provider: first.provider,
        entity: first.entity,
        runId,
        pageNo,
      };
      await withTenant(db, accountId, (tx) =>
        stagePage(
          tx as unknown as Db,
          key,
          // The failed row's source id, not one re-read from the payload: a record that fails again must
          // count against the same failed row.
          slice.map((r) => ({ sourceId: r.source_id, op: "upsert" as const, payload: decoded(r.payload) })),
        ),
      );
      messages.push({ v: 1, ...key, records: slice.length });
    }
  }
  try {
    await sendTransforms(queue, messages);
  } catch (error) {
    // Unsent pages would sit pending forever; the failures stay open, so the operator can replay again.
    await withTenant(db, accountId, (tx) =>
      tx.execute(
        sql`update stage_records set done_at = now()
            where account_id = ${accountId} and run_id = ${runId} and done_at is null`,
      ),
    );
    await recordReplayRuns(db, runs, exhausted, safeErrorMessage(error));
    throw error;
  }
  await recordReplayRuns(db, runs, exhausted, null);
  return { runId, records: rows.length, messages: messages.length, webhookEvents, exhausted };
}

/**
 * Each entity's share of a replay in the run history: its row (no provider requests: the payloads are the
 * stored ones; written / unchanged / failed follow as the transform lands its pages) and its log lines. Best
 * effort: the replay itself is staged (or undone) already.
 */
async function recordReplayRuns(
  db: Db,
  runs: { key: Omit<TransformMessage, "v" | "pageNo" | "records">; records: number; pages: number }[],
  exhausted: number,
  error: string | null,
): Promise<void> {
  try {
    for (const [i, run] of runs.entries()) {
      const lines: { level: "info" | "warn" | "error"; message: string }[] = [
        {
          level: "info",
          message: `replay started: ${run.records} failed ${run.key.entity} record(s) in ${run.pages} page(s), from their stored payloads (no provider requests)`,
        },
      ];
      // The filter's exhausted count is the replay's, not one entity's: said once.
      if (i === 0 && exhausted > 0)
        lines.push({
          level: "warn",
          message: `${exhausted} exhausted failed record(s) left out (attempts at the bound; replay with force to include them)`,
        });
      lines.push(
        error
          ? {
              level: "error",
              message: `replay failed: its pages could not be queued (${error}); nothing was replayed`,
            }
          : {
              level: "info",
              message: `run finished: ${run.records} record(s) staged for transform; written, unchanged and failed follow as its pages land`,
            },
      );
      await withTenant(db, run.key.accountId, (tx) =>
        recordReportedRun(
          tx as unknown as Db,
          {
            ...run.key,
            mode: "replay",
            status: error ? "ERROR" : "COMPLETED",
            pages: run.pages,
            fetched: run.records,
            requests: 0,
            rateLimited: 0,
            providerErrors: 0,
            error,
          },
          lines,
        ),
      );
    }
  } catch (e) {
    log.warn("replay run history not written", { error: safeErrorMessage(e) });
  }
}

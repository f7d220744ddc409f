import { getTableName, type SQL, sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import { connectorFor, knownProviders } from "../connectors/registry";
import type { Db } from "../db/client";
import { tableShape } from "./upsert";

export const DEFAULT_STAGING_RETENTION_HOURS = 72;
export const DEFAULT_TOMBSTONE_RETENTION_DAYS = 30;
export const DEFAULT_FAILED_RECORD_RETENTION_DAYS = 30;
export const DEFAULT_INBOX_RETENTION_DAYS = 7;
export const DEFAULT_HELD_DELETE_RETENTION_DAYS = 30;
export const DEFAULT_RUN_HISTORY_RETENTION_DAYS = 30;

/** How long each kind of finished row is kept (README, Configuration). */
export type RetentionConfig = {
  stagingHours: number;
  tombstoneDays: number;
  failedRecordDays: number;
  inboxDays: number;
  heldDeleteDays: number;
  runHistoryDays: number;
};

/**
 * Bounds of one pruning call: `chunk` rows per statement (short locks, small WAL bursts), at most `maxChunks`
 * statements, and no chunk started after `deadline` (epoch ms) so a call ends inside its invocation.
 * `accountIds` limits the call to some accounts (an operator re-running one account; tests sharing a database).
 */
export type PruneOptions = { chunk?: number; maxChunks?: number; deadline?: number; accountIds?: string[] };

export type PruneResult = { deleted: number; more: boolean };

const ids = (accountIds: string[] | undefined) => (accountIds ? JSON.stringify(accountIds) : null);

/** `account_id` of `alias` is one of accountIds, or anything when unscoped. */
function inScope(alias: string, accountIds: string[] | undefined): SQL {
  const list = ids(accountIds);
  if (list === null) return sql`true`;
  return sql`${sql.raw(`${alias}.account_id`)} in (select jsonb_array_elements_text(${list}::jsonb))`;
}

/** Runs `deleteChunk(limit)` until it deletes fewer than a chunk, or the call's bounds are reached. */
async function inChunks(
  db: Db,
  opts: PruneOptions,
  deleteChunk: (limit: number) => SQL,
): Promise<PruneResult> {
  const chunk = opts.chunk ?? 5_000;
  const maxChunks = opts.maxChunks ?? 20;
  let deleted = 0;
  for (let i = 0; i < maxChunks; i++) {
    if (opts.deadline !== undefined && Date.now() >= opts.deadline) return { deleted, more: true };
    const result = await withAllAccounts(db, (tx) => tx.execute(deleteChunk(chunk)));
    const n = result.rowCount ?? 0;
    deleted += n;
    if (n < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}

const cutoffHours = (hours: number) => sql`now() - ${Math.max(0, hours)}::float8 * interval '1 hour'`;

/** Closed runs one call takes on (webhook deliveries are runs of one page each, so there can be very many). */
const RUNS_PER_CALL = 2_000;

/**
 * Deletes transformed staging rows older than the retention, in bounded chunks so one call never holds
 * long locks or outlives its invocation; `more` says another call would find more to prune. Pending rows
 * (not yet transformed, or deletes awaiting their run) are never pruned.
 *
 * Nor is any row of a run that may still be open: a run's staged rows are its seen-set and its first
 * fetch_seq, which its completion diffs core against, so pruning a long run's early pages would make its
 * full scan delete what it saw. The rule, cheap and needing no run registry: a run's rows go only once none
 * of them is pending and none was staged or transformed within the retention (a run still fetching stages
 * pages, so its newest row is recent), and no `sync_runs` row marks the run IN_PROGRESS. A run idle for
 * longer than the retention is therefore treated as finished unless sync_runs says otherwise.
 *
 * A call finds the closed runs once (one pass over the rows older than the retention), then deletes each
 * run's rows along the run's own index in key order, so the cost per call is linear in what it removes
 * rather than in what is left. Every chunk re-checks sync_runs and each row's own age and state.
 */
export async function pruneStaging(
  db: Db,
  olderThanHours: number = DEFAULT_STAGING_RETENTION_HOURS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const chunk = opts.chunk ?? 5_000;
  const maxChunks = opts.maxChunks ?? 20;
  const cutoff = cutoffHours(olderThanHours);
  const runs = await withAllAccounts(db, async (tx) => {
    const result = await tx.execute(sql`
      with cutoff as (select ${cutoff} as at),
      candidates as (
        -- staged_at <= done_at, so the staged_at index bounds the scan to rows old enough to qualify.
        select distinct s.connection_id, s.entity, s.run_id
        from stage_records s, cutoff
        where s.staged_at < cutoff.at and s.done_at is not null and s.done_at < cutoff.at
          and ${inScope("s", opts.accountIds)}
      )
      -- Each candidate run is probed once through the (connection, entity, run, page, seq) index.
      select c.connection_id, c.entity, c.run_id from candidates c, cutoff
      where not exists (
          select 1 from stage_records o
          where o.connection_id = c.connection_id and o.entity = c.entity and o.run_id = c.run_id
            and (o.done_at is null or o.staged_at >= cutoff.at or o.done_at >= cutoff.at))
        and not exists (
          select 1 from sync_runs r
          where r.connection_id = c.connection_id and r.entity = c.entity and r.run_id = c.run_id
            and r.status = 'IN_PROGRESS')
      limit ${RUNS_PER_CALL}`);
    return result.rows as { connection_id: string; entity: string; run_id: string }[];
  });

  let deleted = 0;
  let chunks = 0;
  for (const run of runs) {
    let after = { page: -1, seq: -1 };
    for (;;) {
      if (chunks >= maxChunks || (opts.deadline !== undefined && Date.now() >= opts.deadline)) {
        return { deleted, more: true };
      }
      chunks++;
      const result = await withAllAccounts(db, (tx) =>
        tx.execute(sql`
          with victims as (
            select s.id, s.page_no, s.seq from stage_records s
            where s.connection_id = ${run.connection_id} and s.entity = ${run.entity} and s.run_id = ${run.run_id}
              and (s.page_no, s.seq) > (${after.page}::int, ${after.seq}::int)
              and s.done_at is not null and s.done_at < ${cutoff} and s.staged_at < ${cutoff}
              and not exists (
                select 1 from sync_runs r
                where r.connection_id = s.connection_id and r.entity = s.entity and r.run_id = s.run_id
                  and r.status = 'IN_PROGRESS')
            order by s.page_no, s.seq
            limit ${chunk})
          delete from stage_records d using victims v where d.id = v.id
          returning v.page_no, v.seq`),
      );
      const removed = result.rows as { page_no: number; seq: number }[];
      deleted += removed.length;
      for (const r of removed) {
        if (r.page_no > after.page || (r.page_no === after.page && r.seq > after.seq)) {
          after = { page: r.page_no, seq: r.seq };
        }
      }
      if (removed.length < chunk) break;
    }
  }
  return { deleted, more: runs.length === RUNS_PER_CALL };
}

/**
 * Where runs began (stage_runs), once the run's staged rows are all gone: staging retention removed them, so
 * the run is closed and its completion has no more use for the row.
 */
export function pruneStageRuns(
  db: Db,
  olderThanHours: number = DEFAULT_STAGING_RETENTION_HOURS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const cutoff = cutoffHours(olderThanHours);
  return inChunks(
    db,
    opts,
    (limit) => sql`
      delete from stage_runs where (connection_id, entity, run_id) in (
        select r.connection_id, r.entity, r.run_id from stage_runs r
        where r.started_at < ${cutoff} and ${inScope("r", opts.accountIds)}
          and not exists (
            select 1 from stage_records s
            where s.connection_id = r.connection_id and s.entity = r.entity and s.run_id = r.run_id)
        limit ${limit})`,
  );
}

/**
 * Tombstones older than the retention that can no longer change anything. A tombstone does two jobs: a
 * version fetched before the delete that arrives late lands deleted, and a per-parent list skips a parent
 * the provider no longer has (sync/parents.ts). So it goes only when
 * - no pending staged version of the record was fetched before the delete (found through the pending-page
 *   markers, so only pages not yet transformed are read; every later arrival was fetched after the delete,
 *   and so is rightly live), and
 * - the record is gone from core (never landed) or is live again through a version fetched after the delete.
 * A record kept soft-deleted keeps its tombstone: the per-parent lists read it.
 */
export async function pruneTombstones(
  db: Db,
  olderThanDays: number = DEFAULT_TOMBSTONE_RETENTION_DAYS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const cutoff = cutoffHours(olderThanDays * 24);
  let deleted = 0;
  let more = false;
  for (const provider of knownProviders()) {
    for (const entity of Object.values(connectorFor(provider).entities)) {
      const table = sql.raw(`"${getTableName(entity.coreTable)}"`);
      const textIds = tableShape(entity.coreTable).sourceIdType === "text";
      const r = await inChunks(db, opts, (limit) => {
        const sourceId = textIds
          ? sql`t.source_id`
          : sql`case when t.source_id ~ '^-?[0-9]{1,18}$' then t.source_id::bigint end`;
        return sql`
          delete from core_tombstones where ctid in (
            select t.ctid from core_tombstones t
            where t.provider = ${provider} and t.entity = ${entity.name} and t.recorded_at < ${cutoff}
              and ${inScope("t", opts.accountIds)}
              and not exists (
                select 1 from stage_pending_pages p join stage_records s
                  on s.connection_id = p.connection_id and s.entity = p.entity and s.run_id = p.run_id
                 and s.page_no = p.page_no
                where p.connection_id = t.connection_id and p.entity = t.entity
                  and s.source_id = t.source_id and s.done_at is null and s.fetch_seq < t.deleted_seq)
              and not exists (
                select 1 from ${table} c
                where c.account_id = t.account_id and c.connection_id = t.connection_id
                  and c.source_id = ${sourceId}
                  and (c.deleted_at is not null or c.fetch_seq <= t.deleted_seq))
            limit ${limit})`;
      });
      deleted += r.deleted;
      more ||= r.more;
    }
  }
  return { deleted, more };
}

/** Failed records an operator resolved (replayed or dismissed) longer ago than the retention. */
export function pruneResolvedFailures(
  db: Db,
  olderThanDays: number = DEFAULT_FAILED_RECORD_RETENTION_DAYS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const cutoff = cutoffHours(olderThanDays * 24);
  return inChunks(
    db,
    opts,
    (limit) => sql`
      delete from failed_records where id in (
        select f.id from failed_records f
        where f.resolved_at is not null and f.resolved_at < ${cutoff} and ${inScope("f", opts.accountIds)}
        limit ${limit})`,
  );
}

/**
 * Processed webhook deliveries older than the retention. A kept row is what makes a redelivery a no-op, so
 * the retention should outlast the providers' retry window. Pending and parked rows are never pruned.
 */
export function pruneProcessedInbox(
  db: Db,
  olderThanDays: number = DEFAULT_INBOX_RETENTION_DAYS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const cutoff = cutoffHours(olderThanDays * 24);
  return inChunks(
    db,
    opts,
    (limit) => sql`
      delete from webhook_inbox where id in (
        select w.id from webhook_inbox w
        where w.processed_at is not null and w.processed_at < ${cutoff} and w.status = 'processed'
          and ${inScope("w", opts.accountIds)}
        limit ${limit})`,
  );
}

/** Held deletes an operator decided (applied or discarded) longer ago than the retention; pending ones stay. */
export function pruneDecidedHeldDeletes(
  db: Db,
  olderThanDays: number = DEFAULT_HELD_DELETE_RETENTION_DAYS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const cutoff = cutoffHours(olderThanDays * 24);
  return inChunks(
    db,
    opts,
    (limit) => sql`
      delete from pending_deletes where id in (
        select d.id from pending_deletes d
        where d.status <> 'pending' and coalesce(d.decided_at, d.created_at) < ${cutoff}
          and ${inScope("d", opts.accountIds)}
        limit ${limit})`,
  );
}

/**
 * Runs (and their log lines) not touched for longer than the retention, in one statement per chunk. A run
 * still IN_PROGRESS is kept however old: staging retention reads it as the mark of an open run.
 */
export function pruneRunHistory(
  db: Db,
  olderThanDays: number = DEFAULT_RUN_HISTORY_RETENTION_DAYS,
  opts: PruneOptions = {},
): Promise<PruneResult> {
  const cutoff = cutoffHours(olderThanDays * 24);
  return inChunks(
    db,
    opts,
    (limit) => sql`
      with gone as (
        delete from sync_runs where id in (
          select r.id from sync_runs r
          where r.status <> 'IN_PROGRESS' and r.updated_at < ${cutoff} and ${inScope("r", opts.accountIds)}
          limit ${limit})
        returning connection_id, entity, run_id
      ), lines as (
        delete from sync_run_logs l using gone g
        where l.connection_id = g.connection_id and l.entity = g.entity and l.run_id = g.run_id
        returning 1
      )
      select 1 from gone`,
  );
}

export type RetentionReport = {
  staging: number;
  /** stage_runs rows of runs whose staged rows are all gone. */
  stageRuns: number;
  tombstones: number;
  failedRecords: number;
  inbox: number;
  heldDeletes: number;
  runs: number;
  /** Some kind stopped at the call's bounds: a later call continues. */
  more: boolean;
};

/** One pass over every kind of prunable row within one call's bounds (staging first: by far the largest). */
export async function pruneAll(
  db: Db,
  config: RetentionConfig,
  opts: PruneOptions,
): Promise<RetentionReport> {
  const staging = await pruneStaging(db, config.stagingHours, opts);
  const stageRuns = await pruneStageRuns(db, config.stagingHours, opts);
  const inbox = await pruneProcessedInbox(db, config.inboxDays, opts);
  const failed = await pruneResolvedFailures(db, config.failedRecordDays, opts);
  const held = await pruneDecidedHeldDeletes(db, config.heldDeleteDays, opts);
  const tombstones = await pruneTombstones(db, config.tombstoneDays, opts);
  const runs = await pruneRunHistory(db, config.runHistoryDays, opts);
  return {
    staging: staging.deleted,
    stageRuns: stageRuns.deleted,
    tombstones: tombstones.deleted,
    failedRecords: failed.deleted,
    inbox: inbox.deleted,
    heldDeletes: held.deleted,
    runs: runs.deleted,
    more:
      staging.more ||
      stageRuns.more ||
      inbox.more ||
      failed.more ||
      held.more ||
      tombstones.more ||
      runs.more,
  };
}

/** A non-negative number from the environment, falling back to the default on absent or bad values. */
function setting(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** STAGING_RETENTION_HOURS from the environment, falling back to the default on absent or bad values. */
export function stagingRetentionHours(value: string | undefined): number {
  return setting(value, DEFAULT_STAGING_RETENTION_HOURS);
}

/** Every retention from the environment (README, Configuration). */
export function retentionConfig(env: {
  STAGING_RETENTION_HOURS?: string;
  TOMBSTONE_RETENTION_DAYS?: string;
  FAILED_RECORD_RETENTION_DAYS?: string;
  WEBHOOK_INBOX_RETENTION_DAYS?: string;
  HELD_DELETE_RETENTION_DAYS?: string;
  RUN_HISTORY_RETENTION_DAYS?: string;
}): RetentionConfig {
  return {
    stagingHours: stagingRetentionHours(env.STAGING_RETENTION_HOURS),
    tombstoneDays: setting(env.TOMBSTONE_RETENTION_DAYS, DEFAULT_TOMBSTONE_RETENTION_DAYS),
    failedRecordDays: setting(env.FAILED_RECORD_RETENTION_DAYS, DEFAULT_FAILED_RECORD_RETENTION_DAYS),
    inboxDays: setting(env.WEBHOOK_INBOX_RETENTION_DAYS, DEFAULT_INBOX_RETENTION_DAYS),
    heldDeleteDays: setting(env.HELD_DELETE_RETENTION_DAYS, DEFAULT_HELD_DELETE_RETENTION_DAYS),
    runHistoryDays: setting(env.RUN_HISTORY_RETENTION_DAYS, DEFAULT_RUN_HISTORY_RETENTION_DAYS),
  };
}

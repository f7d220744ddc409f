import { type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { withTenant } from "../accounts/tenant";
import { AppError } from "../core/errors";
import type { Db } from "../db/client";
import { cascadesOf, deleteTargets } from "./delete-targets";
import { FETCH_MARKS, markOf, tableShape } from "./upsert";

export type CompletedRun = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  runId: string;
  mode: "onboarding" | "delta" | "webhook";
  /** Diff core against what the run saw; defaults to true for onboarding runs. */
  fullScan?: boolean;
};

export type CompletionOptions = {
  /** Largest share of the entity's live rows a run may delete without an operator; default 0.2. */
  maxDeleteShare?: number;
  /**
   * Checks the records a complete scan did not see with the provider, answering those it confirms gone; the
   * others are not deleted. Absent: every unseen record is deleted.
   */
  confirmAbsent?: (sourceIds: string[]) => Promise<Set<string>>;
};

/**
 * How a delete was learned: the provider said so, a complete scan missed the record, its parent went, or the
 * provider merged it into another record (retired; the survivor is fetched and kept).
 */
export type TombstoneKind = "event" | "absence" | "cascade" | "merged";

/**
 * A delete observed at fetch position `deletedSeq` (the fetch order of staged records): it deletes the
 * versions fetched before it, whatever their source time, and none fetched after it. `deletedAt` is the
 * time to show (the provider's, when it gave one). Held deletes stored before fetch order existed have no
 * `deletedSeq`; they count as observed when applied.
 */
export type Tombstone = { sourceId: string; deletedAt: string; deletedSeq?: number; kind?: TombstoneKind };

export const DEFAULT_MAX_DELETE_SHARE = 0.2;
/** A single delete (the usual webhook) never waits for an operator, however small the entity. */
const UNGUARDED_DELETES = 1;

/**
 * Applies the deletes a completed run observed: staged `op: "delete"` rows (webhooks, provider delete
 * feeds), each at its own stage row's fetch_seq, and, for a full scan, every live core row the run did not
 * see and that was not fetched since the run started, at the run's first fetch_seq. Deletes wait until here
 * because an unfinished scan has not seen everything yet. A run that would delete more than the allowed
 * share is parked in pending_deletes for an operator.
 *
 * A delete and an update observed "at the same time" (equal source times, or a delete event whose time is
 * missing or older than the row's `updated`) are resolved by fetch order alone: the one fetched or observed
 * later wins. A delete never compares source times, because the provider saying a record is gone outranks
 * any time on an older copy; a version fetched after the delete revives the row, because the provider
 * served it after the delete was seen.
 */
export async function completeRun(
  outer: Db,
  run: CompletedRun,
  opts: CompletionOptions = {},
): Promise<{ status: "applied" | "awaiting_confirmation"; deletes: number }> {
  // Absent records are checked with the provider between two transactions, never inside one: each check is a
  // budgeted request that may wait for its timeout, and an open transaction would hold its connection (and
  // locks) all that time. Reading the unseen rows first is safe: a record fetched meanwhile has a later
  // fetch_seq than the tombstone and wins by fetch order.
  let absent: Tombstone[] | undefined;
  if (opts.confirmAbsent) {
    const unseen = await withTenant(outer, run.accountId, (tx) => unseenOf(tx as unknown as Db, run));
    absent = unseen.length > 0 ? await confirmed(unseen, opts.confirmAbsent) : [];
  }
  return withTenant(outer, run.accountId, (tx) => completeInTenant(tx as unknown as Db, run, opts, absent));
}

/** For a full scan, the live rows of the entity's own table the run did not see. */
async function unseenOf(db: Db, run: CompletedRun): Promise<Tombstone[]> {
  const primary = ownTable(run);
  return (run.fullScan ?? run.mode === "onboarding") && primary ? unseenRows(db, run, primary) : [];
}

async function completeInTenant(
  db: Db,
  run: CompletedRun,
  opts: CompletionOptions,
  absent: Tombstone[] | undefined,
): Promise<{ status: "applied" | "awaiting_confirmation"; deletes: number }> {
  const primary = ownTable(run);
  const staged = await stagedDeletes(db, run);
  const scanned = absent ?? (await unseenOf(db, run));
  const tombstones = mergeTombstones([...staged, ...scanned]);
  if (tombstones.length === 0) {
    await markStagedDeletesDone(db, run);
    return { status: "applied", deletes: 0 };
  }
  const live = primary ? await liveRows(db, run, primary) : 0;
  const share = opts.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE;
  if (tombstones.length > UNGUARDED_DELETES && tombstones.length > share * live) {
    await db.transaction(async (tx) => {
      await tx.execute(sql`
        insert into pending_deletes (account_id, connection_id, provider, entity, run_id, mode, tombstones, deletes, live_rows)
        values (${run.accountId}, ${run.connectionId}, ${run.provider}, ${run.entity}, ${run.runId}, ${run.mode},
                ${JSON.stringify(tombstones)}::jsonb, ${tombstones.length}, ${live})
        on conflict (account_id, run_id, connection_id, entity) do update
          set tombstones = excluded.tombstones, deletes = excluded.deletes, live_rows = excluded.live_rows
          where pending_deletes.status = 'pending'`);
      await markStagedDeletesDone(tx as unknown as Db, run);
    });
    return { status: "awaiting_confirmation", deletes: tombstones.length };
  }
  await applyTombstones(db, run, tombstones);
  await db.execute(sql`
    update sync_runs set deleted = deleted + ${tombstones.length}, updated_at = now()
    where connection_id = ${run.connectionId} and entity = ${run.entity} and run_id = ${run.runId}`);
  return { status: "applied", deletes: tombstones.length };
}

/** The run's staged deletes, each observed at its stage row's fetch_seq; the time shown comes from the event. */
async function stagedDeletes(db: Db, run: CompletedRun): Promise<Tombstone[]> {
  const result = await db.execute(sql`
    select source_id, payload->>'deletedAt' as deleted_at, payload->>'eventCreated' as event_created, staged_at,
           fetch_seq, payload->>'retired' as retired
    from stage_records
    where connection_id = ${run.connectionId} and entity = ${run.entity} and run_id = ${run.runId}
      and op = 'delete' and done_at is null and source_id is not null`);
  return (
    result.rows as {
      source_id: string;
      deleted_at: string | null;
      event_created: string | null;
      staged_at: string;
      fetch_seq: number | string;
      retired: string | null;
    }[]
  ).map((r) => ({
    sourceId: r.source_id,
    deletedAt: firstTime(r.deleted_at, r.event_created, r.staged_at),
    deletedSeq: Number(r.fetch_seq),
    // A record the provider merged into another is retired with that reason, not as a plain delete.
    kind: r.retired === "merged" ? "merged" : "event",
  }));
}

function firstTime(...values: (string | null)[]): string {
  for (const v of values) {
    if (v && !Number.isNaN(Date.parse(v))) return new Date(v).toISOString();
  }
  return new Date().toISOString();
}

/**
 * Live rows of the entity's own table absent from the run, dated at the run's first fetch_seq (kept in
 * stage_runs when the run staged its first page; at or below every fetch_seq the run holds, since a page staged
 * again draws higher values, which only makes the diff see more). What the run
 * saw is every record fetched since it began (fetch_seq at or after its first): its own staged upserts, any
 * other run's (a webhook's fetch of a record that may have moved past the scan's position), and core rows
 * written since (a record seen whose staged row was replaced by a re-staged page). Staged rows count, not
 * only core rows, because an unchanged fetch writes nothing and so leaves the core row's fetch_seq behind.
 * Staging retention keeps an open run's rows (retention.ts), so the first fetch_seq and the staged set stay
 * whole.
 */
async function unseenRows(db: Db, run: CompletedRun, table: PgTable): Promise<Tombstone[]> {
  const shape = tableShape(table);
  // EXCEPT is a set operation (hash or sort), so it stays linear even before the planner has statistics on
  // freshly written rows; a NOT EXISTS anti-join fell back to nested loops there (175 s for 20,000 rows).
  // The staged side is read only when some live row predates the run, and the core side only when some may
  // (stage_runs.prior_rows): a first backfill has none, and reading either whole took seconds at the end of
  // every large onboarding.
  const result = await db.execute(sql`
    with began as (
      select first_seq, started_at, prior_rows from stage_runs
      where connection_id = ${run.connectionId} and entity = ${run.entity} and run_id = ${run.runId}
    ), run as (
      -- A run staged before stage_runs existed has no row there: its staged rows say where it began.
      select coalesce((select first_seq from began), min(fetch_seq), nextval('fetch_seq')) as first_seq,
             coalesce((select started_at from began), min(staged_at), now()) as started_at
      from stage_records
      where not exists (select 1 from began)
        and connection_id = ${run.connectionId} and entity = ${run.entity} and run_id = ${run.runId}
    ), older as materialized (
      select c.source_id::text as source_id
      from ${sql.raw(`"${shape.name}"`)} c, run
      where c.account_id = ${run.accountId} and c.connection_id = ${run.connectionId} ${providerFilter(table, run)}
        and c.deleted_at is null and c.fetch_seq < run.first_seq
        and not exists (select 1 from began where not began.prior_rows)
    ), unseen as (
      select source_id from older
      except
      select s.source_id from stage_records s, run
      where exists (select 1 from older)
        and s.connection_id = ${run.connectionId} and s.entity = ${run.entity} and s.fetch_seq >= run.first_seq
        and s.op = 'upsert' and s.source_id is not null
    )
    select unseen.source_id, run.started_at as deleted_at, run.first_seq from unseen, run`);
  return (result.rows as { source_id: string; deleted_at: string; first_seq: number | string }[]).map(
    (r) => ({
      sourceId: r.source_id,
      deletedAt: new Date(r.deleted_at).toISOString(),
      deletedSeq: Number(r.first_seq),
      kind: "absence",
    }),
  );
}

async function confirmed(
  unseen: Tombstone[],
  check: (sourceIds: string[]) => Promise<Set<string>>,
): Promise<Tombstone[]> {
  const gone = await check(unseen.map((t) => t.sourceId));
  return unseen.filter((t) => gone.has(t.sourceId));
}

async function liveRows(db: Db, run: CompletedRun, table: PgTable): Promise<number> {
  const shape = tableShape(table);
  const result = await db.execute(sql`
    select count(*)::int as n from ${sql.raw(`"${shape.name}"`)} c
    where c.account_id = ${run.accountId} and c.connection_id = ${run.connectionId} ${providerFilter(table, run)}
      and c.deleted_at is null`);
  return Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
}

/**
 * Whether a run that stages its first page now may later find rows of its entity's own table fetched before
 * it: the connection has a row there already, or another run has a page not yet cleared from
 * stage_pending_pages (staged earlier, perhaps not yet transformed). Kept in stage_runs with the run's start.
 * A run that may not is a first load: its completion has no older rows to look for and skips reading the
 * whole table. A row that lands from elsewhere in between is at worst left to the next complete scan, never
 * deleted by this one.
 */
export function priorRowsPossible(key: {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  runId: string;
}): SQL {
  const primary = ownTable(key);
  if (!primary) return sql`true`;
  return sql`(exists (
      select 1 from ${sql.raw(`"${tableShape(primary).name}"`)} c
      where c.account_id = ${key.accountId} and c.connection_id = ${key.connectionId} ${providerFilter(primary, key)})
    or exists (
      select 1 from stage_pending_pages p
      where p.connection_id = ${key.connectionId} and p.entity = ${key.entity} and p.run_id <> ${key.runId}))`;
}

/** The entity's own table: the first of its delete targets (the unified tables it feeds follow). */
function ownTable(run: { provider: string; entity: string }): PgTable | undefined {
  return deleteTargets(run.provider, run.entity, "0")[0]?.table;
}

function providerFilter(table: PgTable, run: { provider: string }) {
  return tableShape(table).columns.some((c) => c.name === "provider")
    ? sql`and c.provider = ${run.provider}`
    : sql``;
}

/** One tombstone per record: the latest observation (in fetch order) wins. */
function mergeTombstones(list: Tombstone[]): Tombstone[] {
  const byId = new Map<string, Tombstone>();
  for (const t of list) {
    const prev = byId.get(t.sourceId);
    if (!prev || (t.deletedSeq ?? 0) > (prev.deletedSeq ?? 0)) byId.set(t.sourceId, t);
  }
  return [...byId.values()];
}

async function markStagedDeletesDone(db: Db, run: CompletedRun): Promise<void> {
  await db.execute(sql`
    update stage_records set done_at = now()
    where connection_id = ${run.connectionId} and entity = ${run.entity} and run_id = ${run.runId}
      and op = 'delete' and done_at is null`);
}

/**
 * The row `c` was fetched again after the delete `r` was observed, by a fetch that wrote nothing because
 * nothing had changed (its fetch mark, newer than the row's own version): the record was still there, so
 * the delete does not reach it. Marks older than the row's version come from versions that lost; they
 * change nothing here.
 */
function fetchedLater(tableName: string): SQL {
  const version = (a: string) =>
    `(coalesce(${a}.source_updated_at, '-infinity'::timestamptz), ${a}.fetch_seq)`;
  return sql.raw(`exists (select 1 from ${FETCH_MARKS} m where ${markOf(tableName, "c")}
    and m.fetch_seq > r.deleted_seq and ${version("c")} < ${version("m")})`);
}

type DeleteRow = { source_id: string; deleted_at: string; deleted_seq: number };

/**
 * Records the tombstones and soft-deletes every target row whose current version was fetched before its
 * delete, then the live children the provider deleted with them (the entity's declared cascades: their own
 * rows and the unified rows they feed, recorded as `cascade` tombstones of the child entity at the parent's
 * deleted_seq). One transaction, holding the parent's and the children's (connection, entity) locks
 * exclusively against concurrent transforms, taken in one sorted order as the transforms take theirs.
 * Cascades reach one level: a child's own cascades are not followed.
 */
export async function applyTombstones(
  db: Db,
  run: Omit<CompletedRun, "mode" | "fullScan">,
  tombstones: Tombstone[],
): Promise<void> {
  const cascades = cascadesOf(run.provider, run.entity);
  const primary = ownTable(run);
  await db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const locks = [...new Set([run.entity, ...cascades.map((c) => c.entity)])].map(
      (e) => `${run.connectionId}/${e}`,
    );
    await t.execute(sql`
      select pg_advisory_xact_lock(hashtextextended(k, 0))
      from (select k from jsonb_array_elements_text(${JSON.stringify(locks)}::jsonb) as k order by k) as l`);
    const observed = await observedNow(t, tombstones);
    const records = tombstones.map((x) => ({
      source_id: x.sourceId,
      deleted_at: x.deletedAt,
      deleted_seq: x.deletedSeq ?? observed,
      kind: x.kind ?? "event",
    }));
    await recordTombstones(t, run, run.entity, records);
    const deletedParents = await softDeleteTargets(t, run, run.entity, records, primary);
    for (const cascade of cascades) {
      if (deletedParents.length === 0) break;
      const children = await cascadeDelete(t, run, cascade, deletedParents);
      await softDeleteTargets(t, run, cascade.entity, children, cascade.table, true);
    }
    await t.execute(sql`
      update stage_records set done_at = now()
      where connection_id = ${run.connectionId} and entity = ${run.entity} and run_id = ${run.runId}
        and op = 'delete' and done_at is null`);
  });
}

/** The fetch position "now", for held deletes stored without one; read only when such a delete exists. */
async function observedNow(db: Db, tombstones: Tombstone[]): Promise<number> {
  if (tombstones.every((t) => t.deletedSeq !== undefined)) return 0;
  const result = await db.execute(sql`select nextval('fetch_seq') as seq`);
  return Number((result.rows[0] as { seq: number | string }).seq);
}

async function recordTombstones(
  db: Db,
  run: Omit<CompletedRun, "mode" | "fullScan">,
  entity: string,
  records: (DeleteRow & { kind: string })[],
): Promise<void> {
  if (records.length === 0) return;
  await db.execute(sql`
    insert into core_tombstones (account_id, connection_id, provider, entity, source_id, deleted_at, deleted_seq, kind, run_id)
    select ${run.accountId}, ${run.connectionId}, ${run.provider}, ${entity}, r.source_id, r.deleted_at, r.deleted_seq,
           r.kind, ${run.runId}
    from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
      as r(source_id text, deleted_at timestamptz, deleted_seq bigint, kind text)
    on conflict (connection_id, entity, source_id) do update
      set deleted_at = excluded.deleted_at, deleted_seq = excluded.deleted_seq, kind = excluded.kind,
          run_id = excluded.run_id, recorded_at = now()
      where core_tombstones.deleted_seq < excluded.deleted_seq`);
}

/**
 * Soft-deletes the delete targets of `entity` (own table, unified tables) whose version was fetched before
 * the delete and that no later delete already covers. Returns the rows of `primary` it deleted, with their
 * tombstone, so cascades follow only parents that were really deleted (one revived by a later fetch exists).
 * `skipPrimary`: the own table was already written (cascaded children).
 */
async function softDeleteTargets(
  db: Db,
  run: Omit<CompletedRun, "mode" | "fullScan">,
  entity: string,
  records: DeleteRow[],
  primary: PgTable | undefined,
  skipPrimary = false,
): Promise<DeleteRow[]> {
  const byTable = new Map<PgTable, DeleteRow[]>();
  for (const r of records) {
    for (const target of deleteTargets(run.provider, entity, r.source_id)) {
      if (skipPrimary && target.table === primary) continue;
      const list = byTable.get(target.table) ?? [];
      list.push({ ...r, source_id: target.sourceId });
      byTable.set(target.table, list);
    }
  }
  let deleted: DeleteRow[] = [];
  for (const [table, rows] of byTable) {
    const shape = tableShape(table);
    const idType = shape.sourceIdType;
    const result = await db.execute(sql`
      update ${sql.raw(`"${shape.name}"`)} c
      set deleted_at = coalesce(c.deleted_at, r.deleted_at), deleted_seq = r.deleted_seq, synced_at = now()
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r(source_id text, deleted_at timestamptz, deleted_seq bigint)
      where c.account_id = ${run.accountId} and c.connection_id = ${run.connectionId}
        ${providerFilter(table, run)}
        and c.source_id = r.source_id::${sql.raw(idType)}
        and c.fetch_seq < r.deleted_seq and not ${fetchedLater(shape.name)}
        and (c.deleted_seq is null or c.deleted_seq < r.deleted_seq)
      returning c.source_id::text as source_id, r.deleted_at, r.deleted_seq`);
    if (table === primary) deleted = result.rows as DeleteRow[];
  }
  return deleted;
}

/**
 * Soft-deletes the live children of deleted parents in the child's own table (fetched before the parent's
 * delete) and records their `cascade` tombstones, in one statement; returns the children deleted.
 */
async function cascadeDelete(
  db: Db,
  run: Omit<CompletedRun, "mode" | "fullScan">,
  cascade: { entity: string; table: PgTable; column: string },
  parents: DeleteRow[],
): Promise<DeleteRow[]> {
  const shape = tableShape(cascade.table);
  const column = shape.columns.find((c) => c.name === cascade.column);
  if (!column) throw new Error(`cascade column ${cascade.column} is not a column of ${shape.name}`);
  const parentRows = parents.map((p) => ({
    source_id: String(p.source_id),
    deleted_at: p.deleted_at,
    deleted_seq: Number(p.deleted_seq),
  }));
  const result = await db.execute(sql`
    with hit as (
      update ${sql.raw(`"${shape.name}"`)} c
      set deleted_at = r.deleted_at, deleted_seq = r.deleted_seq, synced_at = now()
      from jsonb_to_recordset(${JSON.stringify(parentRows)}::jsonb)
        as r(source_id text, deleted_at timestamptz, deleted_seq bigint)
      where c.account_id = ${run.accountId} and c.connection_id = ${run.connectionId}
        ${providerFilter(cascade.table, run)}
        and c.${sql.raw(`"${cascade.column}"`)} = r.source_id::${sql.raw(column.getSQLType())}
        and c.deleted_at is null and c.fetch_seq < r.deleted_seq and not ${fetchedLater(shape.name)}
      returning c.source_id::text as source_id, r.deleted_at, r.deleted_seq
    ), recorded as (
      insert into core_tombstones (account_id, connection_id, provider, entity, source_id, deleted_at, deleted_seq, kind, run_id)
      select ${run.accountId}, ${run.connectionId}, ${run.provider}, ${cascade.entity}, hit.source_id, hit.deleted_at,
             hit.deleted_seq, 'cascade', ${run.runId}
      from hit
      on conflict (connection_id, entity, source_id) do update
        set deleted_at = excluded.deleted_at, deleted_seq = excluded.deleted_seq, kind = excluded.kind,
            run_id = excluded.run_id, recorded_at = now()
        where core_tombstones.deleted_seq < excluded.deleted_seq
    )
    select source_id, deleted_at, deleted_seq from hit`);
  return (result.rows as DeleteRow[]).map((r) => ({
    source_id: r.source_id,
    deleted_at: new Date(r.deleted_at).toISOString(),
    deleted_seq: Number(r.deleted_seq),
  }));
}

type PendingRow = {
  id: number;
  account_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  run_id: string;
  tombstones: Tombstone[];
};

/**
 * An operator's decision on a run's held deletes; confirming applies them (still by fetch order: a row
 * fetched again since the run began stays live, and cascades follow).
 */
export async function decidePendingDeletes(
  outer: Db,
  accountId: string,
  runId: string,
  decision: "confirm" | "reject",
): Promise<{ runId: string; status: "confirmed" | "rejected"; entities: string[]; deletes: number }> {
  return withTenant(outer, accountId, (tx) =>
    decideInTenant(tx as unknown as Db, accountId, runId, decision),
  );
}

async function decideInTenant(
  db: Db,
  accountId: string,
  runId: string,
  decision: "confirm" | "reject",
): Promise<{ runId: string; status: "confirmed" | "rejected"; entities: string[]; deletes: number }> {
  const pending = (
    await db.execute(sql`
      select id, account_id, connection_id, provider, entity, run_id, tombstones from pending_deletes
      where account_id = ${accountId} and run_id = ${runId} and status = 'pending'
      order by id
      for update`)
  ).rows as PendingRow[];
  if (pending.length === 0) {
    throw new AppError(404, "no_pending_deletes", `run "${runId}" has no deletes awaiting confirmation`);
  }
  const status = decision === "confirm" ? "confirmed" : "rejected";
  let deletes = 0;
  for (const p of pending) {
    if (decision === "confirm") {
      await applyTombstones(
        db,
        {
          accountId: p.account_id,
          connectionId: p.connection_id,
          provider: p.provider,
          entity: p.entity,
          runId: p.run_id,
        },
        p.tombstones,
      );
      deletes += p.tombstones.length;
    }
    await db.execute(
      sql`update pending_deletes set status = ${status}, decided_at = now() where id = ${p.id} and status = 'pending'`,
    );
  }
  return { runId, status, entities: pending.map((p) => p.entity), deletes };
}

export type PendingDeletesView = {
  runId: string;
  connectionId: string;
  provider: string;
  entity: string;
  mode: string;
  deletes: number;
  liveRows: number;
  status: string;
  createdAt: string;
  decidedAt: string | null;
};

/** Held runs for the operator to decide on (newest first); tombstone lists stay out of the listing. */
export async function listPendingDeletes(
  db: Db,
  accountId: string,
  status: "pending" | "confirmed" | "rejected",
): Promise<PendingDeletesView[]> {
  return withTenant(db, accountId, async (tx) => {
    const result = await tx.execute(sql`
      select run_id, connection_id, provider, entity, mode, deletes, live_rows, status, created_at, decided_at
      from pending_deletes where account_id = ${accountId} and status = ${status}
      order by id desc limit 200`);
    return (
      result.rows as {
        run_id: string;
        connection_id: string;
        provider: string;
        entity: string;
        mode: string;
        deletes: number;
        live_rows: number;
        status: string;
        created_at: string;
        decided_at: string | null;
      }[]
    ).map((r) => ({
      runId: r.run_id,
      connectionId: r.connection_id,
      provider: r.provider,
      entity: r.entity,
      mode: r.mode,
      deletes: r.deletes,
      liveRows: r.live_rows,
      status: r.status,
      createdAt: new Date(r.created_at).toISOString(),
      decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
    }));
  });
}

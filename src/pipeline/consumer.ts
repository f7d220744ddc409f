import { sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { assertSpans, spanAccountsExpr } from "../accounts/tenant";
import type { Connector, CoreWrite } from "../connectors/types";
import { safeErrorMessage } from "../core/safe-error";
import { asWrapper, findUnholdable, MAX_STORABLE_DEPTH } from "../core/storable";
import type { Db } from "../db/client";
import { type Failure, recordFailuresStatement } from "./failures";
import type { TransformMessage } from "./messages";
import { type RunCounts, refreshFailureSummary, runCountsStatement } from "./run-stats";
import { tableShape, upsertStatement, type Versioning } from "./upsert";

export type StagedRow = {
  id: number;
  account_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  source_id: string | null;
  op: string;
  payload: unknown;
  /** Fetch order of this version (stage_records.fetch_seq); bigint arrives as a string. */
  fetch_seq: number | string;
  /** The run that staged it; absent for rows loaded by callers that don't need run counts. */
  run_id?: string;
};

export type TransformResult = { staged: number; written: number; failed: number };

type Options = {
  /** Restrict to these staged rows (used when isolating a record that breaks its page's statement). */
  stagedIds?: number[];
};

const pageKeys = (messages: TransformMessage[]) =>
  messages.map((m) => ({
    connection_id: m.connectionId,
    entity: m.entity,
    run_id: m.runId,
    page_no: m.pageNo,
  }));

/**
 * Transforms the staged pages named by a batch of messages in one transaction: load, validate, map, one
 * upsert per core table, record failures, mark the staged rows done. Running it twice has one effect.
 * Staged deletes are left to run completion (they apply only once their run completed).
 */
export async function transformPages(
  db: Db,
  messages: TransformMessage[],
  connectorFor: (provider: string) => Connector,
  opts: Options = {},
): Promise<TransformResult> {
  if (messages.length === 0) return { staged: 0, written: 0, failed: 0 };
  const keys = pageKeys(messages);
  const onlyIds = opts.stagedIds ? sql`and s.id = any(${`{${opts.stagedIds.join(",")}}`}::bigint[])` : sql``;
  return db.transaction(async (tx) => {
    // Shared with other transforms, exclusive against applying deletes: a delete committing between our
    // tombstone read and our upsert could otherwise be overtaken by an older version of the record. The
    // consumer serves every account, so row-level security is told so for this transaction.
    const locked = await tx.execute(sql`
      select ${spanAccountsExpr} as spans, pg_advisory_xact_lock_shared(hashtextextended(k, 0))
      from (select distinct k.connection_id || '/' || k.entity as k
            from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(connection_id text, entity text)
            order by 1) as locks`);
    // On a connection whose role ignores the flag the staged rows would be invisible and the pages acked as done.
    assertSpans(locked.rows[0]);
    // Marked done as they are read: the mark commits with the transform or not at all, and the row lock the
    // update takes is the one a `select ... for update` took before, without a second pass over the rows.
    const staged = (
      await tx.execute(sql`
        update stage_records s set done_at = now()
        from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb)
          as k(connection_id text, entity text, run_id text, page_no int)
        where s.connection_id = k.connection_id and s.entity = k.entity
          and s.run_id = k.run_id and s.page_no = k.page_no
          and s.done_at is null and s.op = 'upsert' ${onlyIds}
        returning s.id, s.account_id, s.connection_id, s.provider, s.entity, s.source_id, s.op, s.payload,
                  s.fetch_seq, s.run_id`)
    ).rows as StagedRow[];
    if (staged.length === 0) return { staged: 0, written: 0, failed: 0 };

    const mapped = staged.map((row) => ({ row, outcome: mapStaged(row, connectorFor) }));
    const deletes = deleteKeys(mapped, connectorFor);
    const tombstones = await loadTombstones(tx as unknown as Db, deletes.all);
    const byTable = new Map<PgTable, { versioning: Versioning; rows: Record<string, unknown>[] }[]>();
    const failures: Failure[] = [];
    const landed: { connection_id: string; entity: string; source_id: string }[] = [];
    for (const [i, { row, outcome }] of mapped.entries()) {
      if ("failure" in outcome) {
        failures.push(outcome.failure);
        continue;
      }
      const version = versionOf(row, latest(tombstones, deletes.byRow[i] ?? []));
      const versioning = versioningOf(row, connectorFor);
      for (const write of outcome.writes) {
        const groups = byTable.get(write.table) ?? [];
        let group = groups.find((g) => g.versioning === versioning);
        if (!group) {
          group = { versioning, rows: [] };
          groups.push(group);
        }
        // The mapped row is this call's own object: completed in place, not copied (the hot path).
        group.rows.push(Object.assign(write.row, version));
        byTable.set(write.table, groups);
      }
      landed.push({
        connection_id: row.connection_id,
        entity: row.entity,
        source_id: row.source_id ?? `stage:${row.id}`,
      });
    }

    let written = 0;
    // The entities' own tables report which records they wrote, so each run learns written vs unchanged.
    const ownTables = new Set(
      mapped.map(({ row }) => ownTableOf(row, connectorFor)).filter((t) => t !== null),
    );
    const wrote = new Set<string>();
    for (const [table, groups] of byTable) {
      for (const { versioning, rows } of groups) {
        const result = await tx.execute(upsertStatement(table, rows, { versioning }));
        written += result.rows.length;
        if (!ownTables.has(table)) continue;
        for (const r of result.rows as { connection_id: string; source_id: string }[]) {
          wrote.add(`${tableShape(table).name}\u0000${r.connection_id}\u0000${r.source_id}`);
        }
      }
    }
    const runs = runCounts(mapped, wrote, connectorFor);
    if (failures.length > 0) await tx.execute(recordFailuresStatement(failures));
    // Resolved and counted in one statement: a record that lands (first time, via replay, or because the
    // provider sent a fixed version) closes its open failure, and each run adds what its records came to.
    const resolved = await tx.execute(sql`
      with counted as (${runCountsStatement(runs)})
      update failed_records f set resolved_at = now()
      from jsonb_to_recordset(${JSON.stringify(landed)}::jsonb) as l(connection_id text, entity text, source_id text)
      where f.connection_id = l.connection_id and f.entity = l.entity and f.source_id = l.source_id
        and f.resolved_at is null
      returning f.provider, f.connection_id, f.entity`);
    // The mirrors must not keep saying COMPLETED_WITH_ERRORS once failures resolve, nor COMPLETED once they occur.
    const touched = new Map<string, { provider: string; connectionId: string; entity: string }>();
    for (const f of failures) touched.set(`${f.connectionId}/${f.entity}`, f);
    for (const r of resolved.rows as { provider: string; connection_id: string; entity: string }[]) {
      touched.set(`${r.connection_id}/${r.entity}`, {
        provider: r.provider,
        connectionId: r.connection_id,
        entity: r.entity,
      });
    }
    for (const target of touched.values()) await refreshFailureSummary(tx as unknown as Db, target);
    return { staged: staged.length, written, failed: failures.length };
  });
}

function ownTableOf(row: StagedRow, connectorFor: (provider: string) => Connector): PgTable | null {
  try {
    return connectorFor(row.provider).entities[row.entity]?.coreTable ?? null;
  } catch {
    return null;
  }
}

/**
 * Per run: records written (their version replaced or created the entity's own row), unchanged (an equal or
 * older version, unchanged content, or a duplicate the batch collapsed) and failed. A record the own table wrote
 * counts as written once, for its newest staged copy.
 */
function runCounts(
  mapped: { row: StagedRow; outcome: ReturnType<typeof mapStaged> }[],
  wrote: Set<string>,
  connectorFor: (provider: string) => Connector,
): RunCounts[] {
  const runs = new Map<string, RunCounts>();
  const newest = new Map<string, number>();
  const keyOf = (row: StagedRow) => {
    const table = ownTableOf(row, connectorFor);
    return table && row.source_id !== null
      ? `${tableShape(table).name}\u0000${row.connection_id}\u0000${row.source_id}`
      : null;
  };
  for (const { row, outcome } of mapped) {
    const key = "writes" in outcome ? keyOf(row) : null;
    if (key && wrote.has(key)) newest.set(key, Math.max(newest.get(key) ?? -1, Number(row.fetch_seq)));
  }
  for (const { row, outcome } of mapped) {
    const runId = row.run_id ?? "";
    const runKey = `${row.connection_id}\u0000${row.entity}\u0000${runId}`;
    let counts = runs.get(runKey);
    if (!counts) {
      counts = {
        accountId: row.account_id,
        connectionId: row.connection_id,
        provider: row.provider,
        entity: row.entity,
        runId,
        written: 0,
        unchanged: 0,
        failed: 0,
      };
      runs.set(runKey, counts);
    }
    if ("failure" in outcome) {
      counts.failed++;
      continue;
    }
    const key = keyOf(row);
    if (key && newest.get(key) === Number(row.fetch_seq)) {
      counts.written++;
      newest.delete(key);
    } else counts.unchanged++;
  }
  return [...runs.values()].filter((r) => r.runId !== "");
}

const tombstoneKey = (connectionId: string, entity: string, sourceId: string) =>
  `${connectionId}\u0000${entity}\u0000${sourceId}`;

type StoredTombstone = { deletedAt: string; deletedSeq: number };
type TombstoneKey = { connection_id: string; entity: string; source_id: string };

/**
 * The deletes that may cover each staged version: its own record's, and its parents' for an entity some
 * parent declares as cascading to it (a child fetched before its parent's delete but delivered after it
 * lands deleted, as the cascade would have deleted it had it arrived first). Read in the same single query.
 */
function deleteKeys(
  mapped: { row: StagedRow; outcome: ReturnType<typeof mapStaged> }[],
  connectorFor: (provider: string) => Connector,
): { all: TombstoneKey[]; byRow: TombstoneKey[][] } {
  const parentsCache = new Map<string, { entity: string; column: string }[]>();
  const all: TombstoneKey[] = [];
  const byRow = mapped.map(({ row, outcome }) => {
    const keys: TombstoneKey[] = [];
    if (row.source_id !== null)
      keys.push({ connection_id: row.connection_id, entity: row.entity, source_id: row.source_id });
    if ("writes" in outcome) {
      const cacheKey = `${row.provider}\u0000${row.entity}`;
      let parents = parentsCache.get(cacheKey);
      if (!parents) {
        parents = parentsOf(row, connectorFor);
        parentsCache.set(cacheKey, parents);
      }
      const own = parents.length > 0 ? ownRow(row, outcome.writes, connectorFor) : undefined;
      for (const p of parents) {
        const id = own?.[p.column];
        if (typeof id === "number" || typeof id === "string")
          keys.push({ connection_id: row.connection_id, entity: p.entity, source_id: String(id) });
      }
    }
    all.push(...keys);
    return keys;
  });
  return { all, byRow };
}

function parentsOf(
  row: StagedRow,
  connectorFor: (provider: string) => Connector,
): { entity: string; column: string }[] {
  try {
    return Object.values(connectorFor(row.provider).entities).flatMap((parent) =>
      (parent.cascades ?? [])
        .filter((c) => c.entity === row.entity)
        .map((c) => ({ entity: parent.name, column: c.column })),
    );
  } catch {
    return [];
  }
}

function ownRow(
  row: StagedRow,
  writes: CoreWrite[],
  connectorFor: (provider: string) => Connector,
): Record<string, unknown> | undefined {
  const table = connectorFor(row.provider).entities[row.entity]?.coreTable;
  return writes.find((w) => w.table === table)?.row;
}

function latest(tombstones: Map<string, StoredTombstone>, keys: TombstoneKey[]): StoredTombstone | undefined {
  let found: StoredTombstone | undefined;
  for (const k of keys) {
    const t = tombstones.get(tombstoneKey(k.connection_id, k.entity, k.source_id));
    if (t && (!found || t.deletedSeq > found.deletedSeq)) found = t;
  }
  return found;
}

async function loadTombstones(db: Db, keys: TombstoneKey[]): Promise<Map<string, StoredTombstone>> {
  const map = new Map<string, StoredTombstone>();
  if (keys.length === 0) return map;
  const result = await db.execute(sql`
    select t.connection_id, t.entity, t.source_id, t.deleted_at, t.deleted_seq
    from core_tombstones t
    join (select distinct * from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb)
            as k(connection_id text, entity text, source_id text)) k
      on t.connection_id = k.connection_id and t.entity = k.entity and t.source_id = k.source_id`);
  for (const r of result.rows as {
    connection_id: string;
    entity: string;
    source_id: string;
    deleted_at: string;
    deleted_seq: number | string;
  }[]) {
    map.set(tombstoneKey(r.connection_id, r.entity, r.source_id), {
      deletedAt: new Date(r.deleted_at).toISOString(),
      deletedSeq: Number(r.deleted_seq),
    });
  }
  return map;
}

/**
 * The version columns every core row written from this staged record carries: its fetch order, and the
 * delete it arrives under. A version fetched before an observed delete (deleted_seq > fetch_seq) lands
 * deleted, whatever its source time says; one fetched after it lands live.
 */
function versionOf(row: StagedRow, tombstone: StoredTombstone | undefined): Record<string, unknown> {
  const fetchSeq = Number(row.fetch_seq);
  return tombstone && tombstone.deletedSeq > fetchSeq
    ? { fetch_seq: fetchSeq, deleted_seq: tombstone.deletedSeq, deleted_at: tombstone.deletedAt }
    : { fetch_seq: fetchSeq, deleted_seq: null };
}

function versioningOf(row: StagedRow, connectorFor: (provider: string) => Connector): Versioning {
  try {
    return connectorFor(row.provider).entities[row.entity]?.versioning ?? "updated";
  } catch {
    return "updated";
  }
}

/**
 * Validates and maps one staged record. A payload staged in the storable encoding is decoded first; if its
 * record is valid but a mapped core row would hold a string Postgres can't store (or the record nests too
 * deep to be written), it fails as `unstorable_value` naming the field, never the value. The failure keeps
 * the payload as staged, i.e. still encoded.
 */
export function mapStaged(
  row: StagedRow,
  connectorFor: (provider: string) => Connector,
): { writes: CoreWrite[] } | { failure: Failure } {
  const fail = (code: string, message: string): { failure: Failure } => ({
    failure: {
      accountId: row.account_id,
      connectionId: row.connection_id,
      provider: row.provider,
      entity: row.entity,
      sourceId: row.source_id ?? `stage:${row.id}`,
      runId: row.run_id ?? null,
      payload: row.payload,
      code,
      message,
    },
  });
  let entity: Connector["entities"][string] | undefined;
  try {
    entity = connectorFor(row.provider).entities[row.entity];
  } catch {
    return fail("unknown_provider", `no connector for provider "${row.provider}"`);
  }
  if (!entity) return fail("unknown_entity", `no entity "${row.entity}" for provider "${row.provider}"`);
  const wrapper = asWrapper(row.payload);
  let payload: unknown = row.payload;
  if (wrapper) {
    try {
      payload = JSON.parse(wrapper.$unstorable);
    } catch {
      return fail("unstorable_value", "the staged encoding does not hold valid JSON");
    }
  }
  const parsed = entity.schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(
      "validation_failed",
      issue ? `${issue.path.join(".") || "(record)"}: ${issue.message}` : "invalid",
    );
  }
  let writes: CoreWrite[];
  try {
    writes = entity.toCore(parsed.data, { accountId: row.account_id, connectionId: row.connection_id });
  } catch (error) {
    return fail("mapping_failed", safeErrorMessage(error));
  }
  // Only an encoded payload can hold such strings (the staging test found none in the others).
  if (wrapper?.reason === "too_deep")
    return fail("unstorable_value", `the record nests deeper than ${MAX_STORABLE_DEPTH} levels`);
  if (wrapper) {
    for (const write of writes) {
      const found = findUnholdable(write.row);
      if (found) {
        const what = found.reason === "nul" ? "a NUL character" : "a lone UTF-16 surrogate";
        return fail("unstorable_value", `${tableName(write.table)}.${found.path} holds ${what}`);
      }
    }
  }
  return { writes };
}

const tableName = (table: PgTable) => tableShape(table).name;

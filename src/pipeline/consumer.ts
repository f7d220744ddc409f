import { sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Connector, CoreWrite } from "../connectors/types";
import { asWrapper, findUnholdable, MAX_STORABLE_DEPTH } from "../core/storable";
import type { Db } from "../db/client";
import { type Failure, recordFailuresStatement } from "./failures";
import type { TransformMessage } from "./messages";
import { tableShape, upsertStatement } from "./upsert";

export type StagedRow = {
  id: number;
  account_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  source_id: string | null;
  op: string;
  payload: unknown;
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
    await tx.execute(sql`
      select set_config('app.all_accounts', 'on', true), pg_advisory_xact_lock_shared(hashtextextended(k, 0))
      from (select distinct k.connection_id || '/' || k.entity as k
            from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(connection_id text, entity text)
            order by 1) as locks`);
    const staged = (
      await tx.execute(sql`
        select s.id, s.account_id, s.connection_id, s.provider, s.entity, s.source_id, s.op, s.payload
        from stage_records s
        join jsonb_to_recordset(${JSON.stringify(keys)}::jsonb)
          as k(connection_id text, entity text, run_id text, page_no int)
          on s.connection_id = k.connection_id and s.entity = k.entity
         and s.run_id = k.run_id and s.page_no = k.page_no
        where s.done_at is null and s.op = 'upsert' ${onlyIds}
        for update of s`)
    ).rows as StagedRow[];
    if (staged.length === 0) return { staged: 0, written: 0, failed: 0 };

    const tombstones = await loadTombstones(tx as unknown as Db, staged);
    const byTable = new Map<PgTable, Record<string, unknown>[]>();
    const failures: Failure[] = [];
    const landed: { connection_id: string; entity: string; source_id: string }[] = [];
    for (const row of staged) {
      const outcome = mapStaged(row, connectorFor);
      if ("failure" in outcome) {
        failures.push(outcome.failure);
        continue;
      }
      const deletedAt = row.source_id
        ? tombstones.get(tombstoneKey(row.connection_id, row.entity, row.source_id))
        : undefined;
      for (const write of outcome.writes) {
        const list = byTable.get(write.table) ?? [];
        list.push(deletedAt ? withTombstone(write.row, deletedAt) : write.row);
        byTable.set(write.table, list);
      }
      landed.push({
        connection_id: row.connection_id,
        entity: row.entity,
        source_id: row.source_id ?? `stage:${row.id}`,
      });
    }

    let written = 0;
    for (const [table, rows] of byTable) {
      const result = await tx.execute(upsertStatement(table, rows));
      written += result.rowCount ?? 0;
    }
    if (failures.length > 0) await tx.execute(recordFailuresStatement(failures));
    // Done and resolved in one statement: a record that lands (first time, via replay, or because the
    // provider sent a fixed version) closes its open failure.
    await tx.execute(sql`
      with done as (
        update stage_records set done_at = now()
        where id = any(${`{${staged.map((s) => s.id).join(",")}}`}::bigint[])
        returning id
      )
      update failed_records f set resolved_at = now()
      from jsonb_to_recordset(${JSON.stringify(landed)}::jsonb) as l(connection_id text, entity text, source_id text)
      where f.connection_id = l.connection_id and f.entity = l.entity and f.source_id = l.source_id
        and f.resolved_at is null`);
    return { staged: staged.length, written, failed: failures.length };
  });
}

const tombstoneKey = (connectionId: string, entity: string, sourceId: string) =>
  `${connectionId}\u0000${entity}\u0000${sourceId}`;

async function loadTombstones(db: Db, staged: StagedRow[]): Promise<Map<string, string>> {
  const ids = staged
    .filter((s) => s.source_id !== null)
    .map((s) => ({ connection_id: s.connection_id, entity: s.entity, source_id: s.source_id }));
  const map = new Map<string, string>();
  if (ids.length === 0) return map;
  const result = await db.execute(sql`
    select t.connection_id, t.entity, t.source_id, t.deleted_at
    from core_tombstones t
    join jsonb_to_recordset(${JSON.stringify(ids)}::jsonb) as k(connection_id text, entity text, source_id text)
      on t.connection_id = k.connection_id and t.entity = k.entity and t.source_id = k.source_id`);
  for (const r of result.rows as {
    connection_id: string;
    entity: string;
    source_id: string;
    deleted_at: string;
  }[]) {
    map.set(tombstoneKey(r.connection_id, r.entity, r.source_id), r.deleted_at);
  }
  return map;
}

/** A version not newer than an observed delete arrives already deleted. */
function withTombstone(row: Record<string, unknown>, deletedAt: string): Record<string, unknown> {
  const updated = Date.parse(String(row.source_updated_at));
  return updated <= Date.parse(deletedAt) ? { ...row, deleted_at: new Date(deletedAt).toISOString() } : row;
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
    return fail("mapping_failed", error instanceof Error ? error.message : String(error));
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

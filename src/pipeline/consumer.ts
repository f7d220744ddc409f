import { sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Connector } from "../connectors/types";
import type { Db } from "../db/client";
import type { TransformMessage } from "./messages";
import { upsertStatement } from "./upsert";

type StagedRow = {
  id: number;
  account_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  source_id: string | null;
  op: string;
  payload: unknown;
};

export type Failure = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  sourceId: string;
  payload: unknown;
  code: string;
  message: string;
};

export type TransformResult = { staged: number; written: number; failed: number };

/**
 * Transforms the staged pages named by a batch of messages in one transaction: load, validate, map, one
 * upsert per core table, record failures, mark the staged rows done. Running it twice has one effect.
 */
export async function transformPages(
  db: Db,
  messages: TransformMessage[],
  connectorFor: (provider: string) => Connector,
): Promise<TransformResult> {
  if (messages.length === 0) return { staged: 0, written: 0, failed: 0 };
  const keys = messages.map((m) => ({
    connection_id: m.connectionId,
    entity: m.entity,
    run_id: m.runId,
    page_no: m.pageNo,
  }));
  return db.transaction(async (tx) => {
    const staged = (
      await tx.execute(sql`
        select s.id, s.account_id, s.connection_id, s.provider, s.entity, s.source_id, s.op, s.payload
        from stage_records s
        join jsonb_to_recordset(${JSON.stringify(keys)}::jsonb)
          as k(connection_id text, entity text, run_id text, page_no int)
          on s.connection_id = k.connection_id and s.entity = k.entity
         and s.run_id = k.run_id and s.page_no = k.page_no
        where s.done_at is null
        for update of s`)
    ).rows as StagedRow[];

    const byTable = new Map<PgTable, Record<string, unknown>[]>();
    const failures: Failure[] = [];
    for (const row of staged) {
      const outcome = mapStaged(row, connectorFor);
      if ("failure" in outcome) {
        failures.push(outcome.failure);
        continue;
      }
      for (const write of outcome.writes) {
        const list = byTable.get(write.table) ?? [];
        list.push(write.row);
        byTable.set(write.table, list);
      }
    }

    let written = 0;
    for (const [table, rows] of byTable) {
      const result = await tx.execute(upsertStatement(table, rows));
      written += result.rowCount ?? 0;
    }
    if (failures.length > 0) await tx.execute(recordFailuresStatement(failures));
    if (staged.length > 0) {
      await tx.execute(
        sql`update stage_records set done_at = now() where id = any(${`{${staged.map((s) => s.id).join(",")}}`}::bigint[])`,
      );
    }
    return { staged: staged.length, written, failed: failures.length };
  });
}

function mapStaged(
  row: StagedRow,
  connectorFor: (provider: string) => Connector,
): { writes: ReturnType<Connector["entities"][string]["toCore"]> } | { failure: Failure } {
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
  const entity = connectorFor(row.provider).entities[row.entity];
  if (!entity) return fail("unknown_entity", `no entity "${row.entity}" for provider "${row.provider}"`);
  const parsed = entity.schema.safeParse(row.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(
      "validation_failed",
      issue ? `${issue.path.join(".") || "(record)"}: ${issue.message}` : "invalid",
    );
  }
  try {
    return {
      writes: entity.toCore(parsed.data, { accountId: row.account_id, connectionId: row.connection_id }),
    };
  } catch (error) {
    return fail("mapping_failed", error instanceof Error ? error.message : String(error));
  }
}

function recordFailuresStatement(failures: Failure[]) {
  const rows = failures.map((f) => ({
    account_id: f.accountId,
    connection_id: f.connectionId,
    provider: f.provider,
    entity: f.entity,
    source_id: f.sourceId,
    payload: f.payload,
    error_code: f.code,
    error_message: f.message,
  }));
  return sql`
    insert into failed_records (account_id, connection_id, provider, entity, source_id, payload, error_code, error_message)
    select distinct on (connection_id, entity, source_id) *
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(account_id text, connection_id text, provider text,
      entity text, source_id text, payload jsonb, error_code text, error_message text)
    on conflict (connection_id, entity, source_id) do update
      set payload = excluded.payload, error_code = excluded.error_code, error_message = excluded.error_message,
          attempts = failed_records.attempts + 1, last_seen_at = now(), resolved_at = null`;
}

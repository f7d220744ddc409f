import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Connector } from "../connectors/types";
import { isDatabaseUnreachable } from "../core/db-outage";
import type { Db } from "../db/client";
import { transformPages } from "./consumer";
import { databaseError, type Failure, isRecordError, recordFailuresStatement } from "./failures";
import type { TransformMessage } from "./messages";
import { countParked } from "./run-stats";

/** `unreachable`: the page failed because Postgres could not be reached, which says nothing about the page. */
export type MessageOutcome = { ok: true } | { ok: false; error: string; unreachable: boolean };

function failed(error: unknown): MessageOutcome {
  return { ok: false, error: databaseError(error).message, unreachable: isDatabaseUnreachable(error) };
}

/** Pages per transaction on the happy path: big enough to amortise statements, small enough to spread. */
export const CHUNK_PAGES = 10;
/** Chunks of one batch in flight at once, each on its own connection (the pool allows 4). */
export const CHUNK_CONCURRENCY = 3;

/**
 * A batch is cut into chunks of CHUNK_PAGES pages, transformed concurrently, each in its own transaction: one
 * transaction is one Postgres backend, so a single big one leaves the other cores idle. The chunks touch
 * different staged pages; their upserts lock core rows in key order, so they don't deadlock each other.
 */
export async function transformBatch(
  db: Db,
  messages: TransformMessage[],
  connectorFor: (provider: string) => Connector,
): Promise<MessageOutcome[]> {
  const chunks: TransformMessage[][] = [];
  for (let i = 0; i < messages.length; i += CHUNK_PAGES) chunks.push(messages.slice(i, i + CHUNK_PAGES));
  const outcomes: MessageOutcome[][] = chunks.map(() => []);
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const i = next++;
      outcomes[i] = await transformChunk(db, chunks[i] ?? [], connectorFor);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_CONCURRENCY, chunks.length) }, worker));
  return outcomes.flat();
}

/**
 * The happy path is one transaction for the whole chunk (one statement per table). When it fails, each
 * message gets its own transaction so one bad page can't hold back its chunk-mates; a page whose statement
 * fails because of a record's data is split further so only that record goes to failed_records.
 */
async function transformChunk(
  db: Db,
  messages: TransformMessage[],
  connectorFor: (provider: string) => Connector,
): Promise<MessageOutcome[]> {
  try {
    await transformPages(db, messages, connectorFor);
    return messages.map(() => ({ ok: true }));
  } catch (error) {
    if (messages.length === 1 && messages[0]) return [await isolate(db, messages[0], error, connectorFor)];
  }
  const outcomes: MessageOutcome[] = [];
  for (const message of messages) {
    try {
      await transformPages(db, [message], connectorFor);
      outcomes.push({ ok: true });
    } catch (error) {
      outcomes.push(await isolate(db, message, error, connectorFor));
    }
  }
  return outcomes;
}

async function isolate(
  db: Db,
  message: TransformMessage,
  error: unknown,
  connectorFor: (provider: string) => Connector,
): Promise<MessageOutcome> {
  const cause = databaseError(error);
  if (!isRecordError(cause.code)) return failed(error);
  try {
    const pending = await withAllAccounts(db, (tx) =>
      tx.execute(sql`
      select id from stage_records
      where connection_id = ${message.connectionId} and entity = ${message.entity}
        and run_id = ${message.runId} and page_no = ${message.pageNo} and done_at is null and op = 'upsert'
      order by seq`),
    );
    for (const { id } of pending.rows as { id: number | string }[]) {
      try {
        await transformPages(db, [message], connectorFor, { stagedIds: [Number(id)] });
      } catch (recordError) {
        const own = databaseError(recordError);
        if (!isRecordError(own.code)) return failed(recordError);
        await recordWriteFailure(db, Number(id), `${own.code}: ${own.message}`);
      }
    }
    return { ok: true };
  } catch (isolationError) {
    return failed(isolationError);
  }
}

/** A staged row as the failure paths read it: the payload as its stored JSON text, parsed in JS. */
export type StagedForFailure = {
  id: string | number;
  account_id: string;
  connection_id: string;
  provider: string;
  entity: string;
  run_id: string;
  source_id: string | null;
  payload: string;
};

/**
 * The staged record becomes a failed record (write_failed) and is done, in one transaction. The payload is
 * read as text and encoded in JS (a ::jsonb cast in SQL would fail again on the very bytes that failed the
 * write), so recording the failure cannot fail on the payload.
 */
async function recordWriteFailure(db: Db, stagedId: number, message: string): Promise<void> {
  await withAllAccounts(db, async (tx) => {
    const result = await tx.execute(sql`
      update stage_records set done_at = now() where id = ${stagedId} and done_at is null
      returning id, account_id, connection_id, provider, entity, run_id, source_id, payload::text as payload`);
    const failures = (result.rows as StagedForFailure[]).map((r) =>
      stagedFailure(r, "write_failed", message),
    );
    if (failures.length > 0) {
      await tx.execute(recordFailuresStatement(failures));
      await countParked(tx as unknown as Db, failures);
    }
  });
}

export function stagedFailure(r: StagedForFailure, code: string, message: string): Failure {
  return {
    accountId: r.account_id,
    connectionId: r.connection_id,
    provider: r.provider,
    entity: r.entity,
    sourceId: r.source_id ?? `stage:${r.id}`,
    runId: r.run_id,
    payload: JSON.parse(r.payload) as unknown,
    code,
    message,
  };
}

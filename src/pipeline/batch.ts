import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Connector } from "../connectors/types";
import type { Db } from "../db/client";
import { transformPages } from "./consumer";
import { databaseError, isRecordError } from "./failures";
import type { TransformMessage } from "./messages";

export type MessageOutcome = { ok: true } | { ok: false; error: string };

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
  if (!isRecordError(cause.code)) return { ok: false, error: cause.message };
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
        if (!isRecordError(own.code)) return { ok: false, error: own.message };
        await recordWriteFailure(db, Number(id), `${own.code}: ${own.message}`);
      }
    }
    return { ok: true };
  } catch (isolationError) {
    return { ok: false, error: databaseError(isolationError).message };
  }
}

/** The staged record becomes a failed record (write_failed) and is done, in one statement. */
async function recordWriteFailure(db: Db, stagedId: number, message: string): Promise<void> {
  await withAllAccounts(db, (tx) =>
    tx.execute(sql`
    with row as (
      update stage_records set done_at = now() where id = ${stagedId} and done_at is null returning *
    )
    insert into failed_records (account_id, connection_id, provider, entity, source_id, payload, error_code, error_message)
    select account_id, connection_id, provider, entity, coalesce(source_id, 'stage:' || id), payload::jsonb,
           'write_failed', ${message.slice(0, 2000)}
    from row
    on conflict (connection_id, entity, source_id) do update
      set payload = excluded.payload, error_code = excluded.error_code, error_message = excluded.error_message,
          attempts = failed_records.attempts + 1, last_seen_at = now(), resolved_at = null`),
  );
}

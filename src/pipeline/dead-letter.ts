import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Connector } from "../connectors/types";
import type { Db } from "../db/client";
import { type StagedForFailure, stagedFailure, transformBatch } from "./batch";
import { recordFailuresStatement } from "./failures";
import type { TransformMessage } from "./messages";
import { countParked } from "./run-stats";

export type DeadLetterOutcome = "transformed" | "parked" | "unreachable";

/**
 * What the dead-letter queue does with pages that exhausted their retries. Why the last delivery failed is not
 * carried by the message, so each page is transformed once more, which tells: done (the cause is gone),
 * Postgres unreachable (an outage, nothing wrong with the page: it stays pending, for a later retry of this
 * message or the delta cron's re-announce), or a failure of the page itself (parked in failed_records as
 * dead_lettered, see deadLetterPages). Records Postgres refuses are parked one by one by the transform itself.
 * Throws when the parking cannot be written; the staged rows are then still pending.
 */
export async function settleDeadLetters(
  db: Db,
  messages: TransformMessage[],
  connectorFor: (provider: string) => Connector,
): Promise<DeadLetterOutcome[]> {
  const outcomes = await transformBatch(db, messages, connectorFor);
  const settled: DeadLetterOutcome[] = outcomes.map((o) =>
    o.ok ? "transformed" : o.unreachable ? "unreachable" : "parked",
  );
  await deadLetterPages(
    db,
    messages.filter((_, i) => settled[i] === "parked"),
  );
  return settled;
}

/**
 * A page that exhausted its retries for a reason of its own: its still-pending staged records become failed_records (reason
 * dead_lettered) so an operator sees and can replay them; the staged rows are then marked done, in the same
 * transaction. Payloads are read as text and encoded in JS, so no payload can fail the statement that parks
 * it. Staged deletes stay for run completion, which applies them whatever happened to the page's upserts.
 */
export async function deadLetterPages(db: Db, messages: TransformMessage[]): Promise<number> {
  return parkStagedPages(db, messages, "dead_lettered", "transform retries exhausted");
}

/** Parks the pending staged upserts of these pages in failed_records with a reason; returns how many. */
export async function parkStagedPages(
  db: Db,
  pages: Pick<TransformMessage, "connectionId" | "entity" | "runId" | "pageNo">[],
  code: string,
  message: string,
): Promise<number> {
  if (pages.length === 0) return 0;
  const keys = pages.map((m) => ({
    connection_id: m.connectionId,
    entity: m.entity,
    run_id: m.runId,
    page_no: m.pageNo,
  }));
  return withAllAccounts(db, async (tx) => {
    const result = await tx.execute(sql`
      update stage_records s set done_at = now()
      from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb)
        as k(connection_id text, entity text, run_id text, page_no int)
      where s.connection_id = k.connection_id and s.entity = k.entity and s.run_id = k.run_id
        and s.page_no = k.page_no and s.done_at is null and s.op = 'upsert'
      returning s.id, s.account_id, s.connection_id, s.provider, s.entity, s.run_id, s.source_id,
        s.payload::text as payload`);
    const rows = result.rows as StagedForFailure[];
    if (rows.length === 0) return 0;
    // Newest staged version of a record first: recordFailuresStatement keeps the first of each source id.
    rows.sort((a, b) => Number(b.id) - Number(a.id));
    const failures = rows.map((r) => stagedFailure(r, code, message));
    const inserted = await tx.execute(recordFailuresStatement(failures));
    await countParked(tx as unknown as Db, failures);
    return inserted.rowCount ?? 0;
  });
}

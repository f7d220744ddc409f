import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Db } from "../db/client";
import type { TransformMessage } from "./messages";

/**
 * A page that exhausted its retries: its still-pending staged records become failed_records (reason
 * dead_lettered) so an operator sees and can replay them; the staged rows are then marked done. Staged
 * deletes stay for run completion, which applies them whatever happened to the page's upserts.
 */
export async function deadLetterPages(db: Db, messages: TransformMessage[]): Promise<number> {
  const keys = messages.map((m) => ({
    connection_id: m.connectionId,
    entity: m.entity,
    run_id: m.runId,
    page_no: m.pageNo,
  }));
  const result = await withAllAccounts(db, (tx) =>
    tx.execute(sql`
    with pages as (
      select * from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb)
        as k(connection_id text, entity text, run_id text, page_no int)
    ), pending as (
      update stage_records s set done_at = now()
      from pages k
      where s.connection_id = k.connection_id and s.entity = k.entity and s.run_id = k.run_id
        and s.page_no = k.page_no and s.done_at is null and s.op = 'upsert'
      returning s.*
    )
    insert into failed_records (account_id, connection_id, provider, entity, source_id, payload, error_code, error_message)
    select distinct on (connection_id, entity, coalesce(source_id, 'stage:' || id))
      account_id, connection_id, provider, entity, coalesce(source_id, 'stage:' || id), payload::jsonb,
      'dead_lettered', 'transform retries exhausted'
    from pending
    order by connection_id, entity, coalesce(source_id, 'stage:' || id), id desc
    on conflict (connection_id, entity, source_id) do update
      set payload = excluded.payload, error_code = excluded.error_code, error_message = excluded.error_message,
          attempts = failed_records.attempts + 1, last_seen_at = now(), resolved_at = null`),
  );
  return result.rowCount ?? 0;
}

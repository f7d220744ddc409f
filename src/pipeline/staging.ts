import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

export type StagedRecord = { sourceId: string | null; op: "upsert" | "delete"; payload: unknown };

export type PageKey = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  runId: string;
  pageNo: number;
};

/**
 * Writes a whole page in one statement. A page fetched again (after a crash before the cursor moved)
 * replaces its own rows and becomes pending again, so it is transformed from the newest fetch.
 */
export async function stagePage(db: Db, key: PageKey, records: StagedRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const rows = records.map((r, seq) => ({ seq, source_id: r.sourceId, op: r.op, payload: r.payload }));
  const result = await db.execute(sql`
    insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id, op, payload)
    select ${key.accountId}, ${key.connectionId}, ${key.provider}, ${key.entity}, ${key.runId}, ${key.pageNo},
           r.seq, r.source_id, r.op, r.payload
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(seq int, source_id text, op text, payload jsonb)
    on conflict (connection_id, entity, run_id, page_no, seq) do update
      set source_id = excluded.source_id, op = excluded.op, payload = excluded.payload,
          staged_at = now(), done_at = null`);
  return result.rowCount ?? records.length;
}

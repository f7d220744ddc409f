import { sql } from "drizzle-orm";
import { stringReason, toStorableJson } from "../core/storable";
import type { Db } from "../db/client";
import { databaseError, isRecordError } from "./failures";
import { priorRowsPossible } from "./run-completion";

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
 * Writes a whole page in one statement, with its pending-page marker (see stagePendingPages). A page fetched
 * again (after a crash before the cursor moved) replaces its own rows and becomes pending again, so it is
 * transformed from the newest fetch. Every staged record takes the next fetch_seq: the column's default on
 * insert, and on a re-stage the new value the conflicting insert drew (excluded.fetch_seq), because the record
 * was fetched again and its version is later than anything fetched before.
 */
export async function stagePage(db: Db, key: PageKey, records: StagedRecord[]): Promise<number> {
  return stagePages(db, [{ key, records }]);
}

/**
 * Writes several pages in one statement (one round trip, one index pass). The pages must share everything in
 * their key but the page number: a sync step stages the pages it has fetched of one run together.
 *
 * No record's bytes can fail the page: a payload Postgres could not hold travels in the storable encoding
 * (src/core/storable.ts; one regex test over the text JSON.stringify builds anyway), and a source id it could
 * not hold is left out (the failure is then filed under the staged row's id). Nesting is only measured if
 * Postgres still refused the statement for its data: the page is then encoded again with depth checked and
 * written once more.
 */
export async function stagePages(
  db: Db,
  pages: { key: PageKey; records: StagedRecord[] }[],
): Promise<number> {
  try {
    // Its own savepoint (or transaction), so the caller's transaction survives a refused statement.
    return await db.transaction((tx) => stagePagesOnce(tx as unknown as Db, pages, false));
  } catch (error) {
    if (!isRecordError(databaseError(error).code)) throw error;
    return stagePagesOnce(db, pages, true);
  }
}

async function stagePagesOnce(
  db: Db,
  pages: { key: PageKey; records: StagedRecord[] }[],
  checkDepth: boolean,
): Promise<number> {
  const first = pages.find((p) => p.records.length > 0)?.key;
  if (!first) return 0;
  let body = "";
  let count = 0;
  const options = { checkDepth };
  for (const { key, records } of pages) {
    if (
      key.accountId !== first.accountId ||
      key.connectionId !== first.connectionId ||
      key.provider !== first.provider ||
      key.entity !== first.entity ||
      key.runId !== first.runId
    ) {
      throw new Error("stagePages: pages of different runs in one statement");
    }
    records.forEach((r, seq) => {
      const sourceId = r.sourceId !== null && stringReason(r.sourceId) !== null ? null : r.sourceId;
      // Built by hand: one JSON.stringify per payload instead of a copy of every record in a wrapper object.
      body += `${count === 0 ? "" : ","}{"page_no":${key.pageNo},"seq":${seq},"source_id":${JSON.stringify(sourceId)},"op":${JSON.stringify(r.op)},"payload":${toStorableJson(r.payload, options)}}`;
      count++;
    });
  }
  if (count === 0) return 0;
  const result = await db.execute(sql`
    with staged as (
      insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id, op, payload)
      select ${first.accountId}, ${first.connectionId}, ${first.provider}, ${first.entity}, ${first.runId}, r.page_no,
             r.seq, r.source_id, r.op, r.payload
      from json_to_recordset(${`[${body}]`}::json) as r(page_no int, seq int, source_id text, op text, payload json)
      on conflict (connection_id, entity, run_id, page_no, seq) do update
        set source_id = excluded.source_id, op = excluded.op, payload = excluded.payload,
            fetch_seq = excluded.fetch_seq, staged_at = now(), done_at = null
      returning page_no, op, fetch_seq
    ), known as (
      select 1 from stage_runs r
      where r.connection_id = ${first.connectionId} and r.entity = ${first.entity} and r.run_id = ${first.runId}
    ), run_started as (
      -- Only a run's first statement inserts; a page staged again draws higher values and changes nothing.
      -- What only that insert uses is read only then: the run's older staged rows (a run staged before this
      -- table) and whether older rows may exist.
      insert into stage_runs (account_id, connection_id, provider, entity, run_id, first_seq, prior_rows)
      select ${first.accountId}, ${first.connectionId}, ${first.provider}, ${first.entity}, ${first.runId},
             least(min(staged.fetch_seq), (
               select min(o.fetch_seq) from stage_records o
               where not exists (select 1 from known)
                 and o.connection_id = ${first.connectionId} and o.entity = ${first.entity}
                 and o.run_id = ${first.runId})),
             case when exists (select 1 from known) then true else ${priorRowsPossible(first)} end
      from staged
      having count(*) > 0
      on conflict (connection_id, entity, run_id) do update set first_seq = excluded.first_seq
        where excluded.first_seq < stage_runs.first_seq
    ), marked as (
      insert into stage_pending_pages (account_id, connection_id, provider, entity, run_id, page_no, records)
      select ${first.accountId}, ${first.connectionId}, ${first.provider}, ${first.entity}, ${first.runId}, page_no,
             count(*)::int
      from staged where op = 'upsert' group by page_no
      on conflict (connection_id, entity, run_id, page_no) do update
        set records = excluded.records, staged_at = now()
    )
    select count(*)::int as staged from staged`);
  return (result.rows[0] as { staged: number } | undefined)?.staged ?? count;
}

// A transform batch is cut into chunks that run concurrently, each in its own transaction.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { CHUNK_CONCURRENCY, CHUNK_PAGES, chunkPages, transformBatch } from "../../src/pipeline/batch";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePages } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";
import { overflowingConnector } from "../support/overflowing-connector";

const person = (id: number, firstName: string) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated: "2024-02-01T00:00:00Z",
  firstName,
  lastName: "Doe",
  emails: [{ value: `p${id}@example.com`, isPrimary: 1 }],
});

/** Stages `pages` pages of 10 people each (ids page*10+1..) in one statement, as a sync step does. */
async function stageRun(
  accountId: string,
  connectionId: string,
  pages: number,
  name: (id: number) => string,
) {
  const key = { accountId, connectionId, provider: "fub", entity: "people", runId: "run1" };
  const staged = Array.from({ length: pages }, (_, pageNo) => ({
    key: { ...key, pageNo },
    records: Array.from({ length: 10 }, (_, i) => {
      const id = pageNo * 10 + i + 1;
      return { sourceId: String(id), op: "upsert" as const, payload: person(id, name(id)) };
    }),
  }));
  await withTestDb((db) => stagePages(db, staged));
  return staged.map((p): TransformMessage => ({ v: 1, ...p.key, records: 10 }));
}

describe("chunked transform batches", () => {
  it("cuts a batch into whole rounds of near-equal chunks, in order, none larger than CHUNK_PAGES", () => {
    const sizes = (n: number) => chunkPages(Array.from({ length: n }, (_, i) => i)).map((c) => c.length);
    for (const n of [0, 1, 2, 3, 5, 10, 11, 29, 30, 31, 64, 99, 100]) {
      const chunks = chunkPages(Array.from({ length: n }, (_, i) => i));
      expect(chunks.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
      const s = chunks.map((c) => c.length);
      expect(Math.max(0, ...s)).toBeLessThanOrEqual(CHUNK_PAGES);
      expect(Math.max(0, ...s) - Math.min(...s, Math.max(0, ...s))).toBeLessThanOrEqual(1);
      // Whole rounds: the last round keeps every connection busy (unless the batch has fewer pages than that).
      if (n >= CHUNK_CONCURRENCY) expect(s.length % CHUNK_CONCURRENCY).toBe(0);
    }
    expect(sizes(100)).toEqual([9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8]);
    expect(sizes(2)).toEqual([1, 1]);
  });

  it("lands every page of a batch larger than a chunk, one outcome per message in order", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const pages = CHUNK_PAGES * 3 + 4;
    const messages = await stageRun(account, conn, pages, (id) => `P${id}`);
    const outcomes = await withTestDb((db) => transformBatch(db, messages, connectorFor));
    expect(outcomes).toEqual(messages.map(() => ({ ok: true })));
    const [count] = await rows<{ n: number; pending: number }>(sql`
      select (select count(*)::int from fub_people where account_id = ${account}) as n,
             (select count(*)::int from stage_records where account_id = ${account} and done_at is null) as pending`);
    expect(count).toEqual({ n: pages * 10, pending: 0 });
  });

  it("a record the database rejects in one chunk doesn't hold back the other chunks or its page-mates", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    // A mapping that yields a value the integer column can't hold: a data error only Postgres sees.
    const overflowing = overflowingConnector();
    // Record 125 sits in page 12, i.e. the second chunk.
    const messages = await stageRun(account, conn, CHUNK_PAGES * 2 + 5, (id) =>
      id === 125 ? "Overflow" : `P${id}`,
    );
    const outcomes = await withTestDb((db) => transformBatch(db, messages, () => overflowing));
    expect(outcomes).toEqual(messages.map(() => ({ ok: true })));
    const [count] = await rows<{ n: number }>(
      sql`select count(*)::int as n from fub_people where account_id = ${account}`,
    );
    expect(count?.n).toBe(messages.length * 10 - 1);
    expect(
      await rows(sql`select source_id, error_code from failed_records where account_id = ${account}`),
    ).toEqual([{ source_id: "125", error_code: "write_failed" }]);
  });
});

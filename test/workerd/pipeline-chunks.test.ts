// A transform batch is cut into chunks that run concurrently, each in its own transaction.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { CHUNK_PAGES, transformBatch } from "../../src/pipeline/batch";
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

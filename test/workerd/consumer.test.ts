import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import worker from "../../src/index";
import { transformPages } from "../../src/pipeline/consumer";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";

const person = (id: number, updated: string, firstName: string) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName,
  lastName: "Doe",
  emails: [{ value: `p${id}@example.com`, type: "home", isPrimary: true }],
});

async function stage(
  accountId: string,
  connectionId: string,
  runId: string,
  pageNo: number,
  records: unknown[],
) {
  await withTestDb((db) =>
    stagePage(
      db,
      { accountId, connectionId, provider: "fub", entity: "people", runId, pageNo },
      records.map((payload) => ({
        sourceId: String((payload as { id: unknown }).id),
        op: "upsert",
        payload,
      })),
    ),
  );
  return {
    v: 1,
    accountId,
    connectionId,
    provider: "fub",
    entity: "people",
    runId,
    pageNo,
    records: records.length,
  } as const;
}

describe("transform consumer", () => {
  it("upserts staged people, keeps the newest version, and marks staged rows done", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const older = await stage(account, conn, "run1", 0, [
      person(1, "2024-02-01T00:00:00Z", "Old"),
      person(2, "2024-02-01T00:00:00Z", "B"),
    ]);
    const newer = await stage(account, conn, "run2", 0, [person(1, "2024-03-01T00:00:00Z", "New")]);
    // Newer page first, older page delivered late: the older version must not win.
    await withTestDb((db) => transformPages(db, [newer], connectorFor));
    await withTestDb((db) => transformPages(db, [older], connectorFor));
    const core = await rows<{ source_id: number; first_name: string }>(
      sql`select source_id::int as source_id, first_name from fub_people where account_id = ${account} order by source_id`,
    );
    expect(core).toEqual([
      { source_id: 1, first_name: "New" },
      { source_id: 2, first_name: "B" },
    ]);
    const pending = await rows(
      sql`select 1 from stage_records where account_id = ${account} and done_at is null`,
    );
    expect(pending).toHaveLength(0);
    // Redelivery of an already-done page has no further effect.
    const again = await withTestDb((db) => transformPages(db, [older], connectorFor));
    expect(again.staged).toBe(0);
  });

  it("routes an invalid record to failed_records while its batch-mates land", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const msg = await stage(account, conn, "run1", 0, [
      person(10, "2024-02-01T00:00:00Z", "Good"),
      { id: 11, updated: "not a date", firstName: "Bad" },
    ]);
    const result = await withTestDb((db) => transformPages(db, [msg], connectorFor));
    expect(result).toMatchObject({ staged: 2, failed: 1 });
    expect(
      await rows(sql`select source_id::int as source_id from fub_people where account_id = ${account}`),
    ).toEqual([{ source_id: 10 }]);
    const failed = await rows<{ source_id: string; error_code: string }>(
      sql`select source_id, error_code from failed_records where account_id = ${account}`,
    );
    expect(failed).toEqual([{ source_id: "11", error_code: "validation_failed" }]);
  });

  it("acks a batch through the queue handler and drops unreadable messages", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const msg: TransformMessage = await stage(account, conn, "r", 0, [
      person(20, "2024-02-01T00:00:00Z", "Q"),
    ]);
    const batch = createMessageBatch("transforms", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: msg },
      {
        id: "m2",
        timestamp: new Date(),
        attempts: 1,
        body: { nonsense: true } as unknown as TransformMessage,
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    expect(result.retryMessages).toHaveLength(0);
    expect(
      await rows(sql`select source_id::int as source_id from fub_people where account_id = ${account}`),
    ).toEqual([{ source_id: 20 }]);
  });
});

// A status that tells the truth: each run counts what it fetched, wrote, left unchanged and failed, and an
// entity whose records failed reads COMPLETED_WITH_ERRORS (with its reasons) in the sync-state mirrors until the
// failures resolve, never plain COMPLETED.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { mirrorSyncState, type SyncState } from "../../durable-objects/sync-state";
import { connectorFor } from "../../src/connectors/registry";
import { transformPages } from "../../src/pipeline/consumer";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";

const person = (id: number, updated: string, extra: Record<string, unknown> = {}) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName: `P${id}`,
  lastName: "Doe",
  ...extra,
});

function state(conn: string, runId: string, status: SyncState["status"], runRecords: number): SyncState {
  const now = Date.now();
  return {
    connectionId: conn,
    entity: "people",
    provider: "fub",
    mode: "onboarding",
    status,
    runId,
    pageNo: 1,
    nextUrl: null,
    cursor: null,
    lastSyncAt: now,
    lastStartedAt: now - 1000,
    lastFinishedAt: status === "COMPLETED" ? now : null,
    recordsSynced: runRecords,
    runRecords,
    runTotal: runRecords,
    errorMessage: null,
  };
}

async function transform(account: string, conn: string, runId: string, pageNo: number, records: unknown[]) {
  const key = { accountId: account, connectionId: conn, provider: "fub", entity: "people", runId, pageNo };
  await withTestDb((db) =>
    stagePage(
      db,
      key,
      records.map((payload) => ({
        sourceId: String((payload as { id: unknown }).id),
        op: "upsert" as const,
        payload,
      })),
    ),
  );
  const message: TransformMessage = { v: 1, ...key, records: records.length };
  return withTestDb((db) => transformPages(db, [message], connectorFor));
}

describe("truthful run status", () => {
  it("counts a run's records and says COMPLETED_WITH_ERRORS while any failed, COMPLETED once they resolve", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    await withTestDb((db) =>
      db.execute(sql`insert into fub_sync_jobs (connection_id, account_id) values (${conn}, ${account})`),
    );
    // First run: three good people and one without any update time.
    await withTestDb((db) => mirrorSyncState(db, account, state(conn, "run-1", "IN_PROGRESS", 0)));
    await transform(account, conn, "run-1", 0, [
      person(1, "2024-02-01T00:00:00Z"),
      person(2, "2024-02-01T00:00:00Z"),
      person(3, "2024-02-01T00:00:00Z"),
      { id: 4, firstName: "No time" },
    ]);
    await withTestDb((db) => mirrorSyncState(db, account, state(conn, "run-1", "COMPLETED", 4)));
    expect(
      await rows(sql`select status, fetched, written, unchanged, failed from sync_runs
                     where connection_id = ${conn} and run_id = 'run-1'`),
    ).toEqual([{ status: "COMPLETED", fetched: "4", written: "3", unchanged: "0", failed: "1" }]);
    const [mirror] = await rows<{ status: string; records_failed: string; error_list: unknown }>(
      sql`select status, records_failed, error_list from fub_sync_state where connection_id = ${conn}`,
    );
    expect(mirror?.status).toBe("COMPLETED_WITH_ERRORS");
    expect(mirror?.records_failed).toBe("1");
    expect(mirror?.error_list).toEqual([
      { code: "validation_failed", count: 1, message: "updated: no update time (updated or updatedAt)" },
    ]);
    const [jobs] = await rows<{ people_status: string; error_list: unknown }>(
      sql`select people_status, error_list from fub_sync_jobs where connection_id = ${conn}`,
    );
    expect(jobs).toEqual({
      people_status: "COMPLETED_WITH_ERRORS",
      error_list: [{ entity: "people", code: "validation_failed", count: 1 }],
    });

    // Second run: the same versions again (unchanged), one newer, and the broken record fixed by the provider.
    await withTestDb((db) =>
      mirrorSyncState(db, account, { ...state(conn, "run-2", "IN_PROGRESS", 0), pageNo: 0 }),
    );
    await transform(account, conn, "run-2", 0, [
      person(1, "2024-01-01T00:00:00Z"),
      person(2, "2024-03-01T00:00:00Z"),
      person(4, "2024-03-01T00:00:00Z"),
    ]);
    await withTestDb((db) => mirrorSyncState(db, account, state(conn, "run-2", "COMPLETED", 3)));
    expect(
      await rows(sql`select status, fetched, written, unchanged, failed from sync_runs
                     where connection_id = ${conn} and run_id = 'run-2'`),
    ).toEqual([{ status: "COMPLETED", fetched: "3", written: "2", unchanged: "1", failed: "0" }]);
    expect(
      await rows(
        sql`select status, records_failed, error_list from fub_sync_state where connection_id = ${conn}`,
      ),
    ).toEqual([{ status: "COMPLETED", records_failed: "0", error_list: [] }]);
    expect(
      await rows(sql`select people_status, error_list from fub_sync_jobs where connection_id = ${conn}`),
    ).toEqual([{ people_status: "COMPLETED", error_list: [] }]);
  });
});

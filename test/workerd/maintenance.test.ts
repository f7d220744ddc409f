import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { stagePage } from "../../src/pipeline/staging";
import { DELTA_CRON, RECONCILE_CRON, runCron } from "../../src/sync/cron";
import { rows, uniqueId, withTestDb } from "../support/db";

async function cron(expression: string, accountIds: string[], vars: Partial<Cloudflare.Env> = {}) {
  const ctx = createExecutionContext();
  const result = await runCron(expression, { ...env, ...vars }, ctx, { accountIds });
  await waitOnExecutionContext(ctx);
  return result;
}

async function stageOne(accountId: string, connectionId: string, runId: string, id: number) {
  await withTestDb((db) =>
    stagePage(db, { accountId, connectionId, provider: "fub", entity: "people", runId, pageNo: 0 }, [
      {
        sourceId: String(id),
        op: "upsert",
        payload: {
          id,
          created: "2024-01-01T00:00:00Z",
          updated: "2024-02-01T00:00:00Z",
          firstName: "Orphan",
        },
      },
    ]),
  );
}

/** Makes an account's staged pages (rows and their markers) look staged `interval` ago. */
async function ageStaged(accountId: string, interval: string) {
  await withTestDb(async (db) => {
    await db.execute(
      sql`update stage_records set staged_at = now() - ${interval}::interval where account_id = ${accountId}`,
    );
    await db.execute(
      sql`update stage_pending_pages set staged_at = now() - ${interval}::interval where account_id = ${accountId}`,
    );
  });
}

describe("cron maintenance", () => {
  it("the 15-minute cron re-announces a staged page whose transform message was lost, and it lands once", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    await stageOne(accountId, connectionId, "lost-run", 4242);
    // A page staged long ago and never transformed: its message was lost (nothing was sent for it here).
    await ageStaged(accountId, "1 hour");
    const result = await cron(DELTA_CRON, [accountId]);
    expect(result).toMatchObject({ job: "delta", reannouncedPages: 1 });

    const deadline = Date.now() + 20_000;
    let landed: { source_id: number; first_name: string }[] = [];
    while (Date.now() < deadline) {
      landed = await rows(
        sql`select source_id::int as source_id, first_name from fub_people where account_id = ${accountId}`,
      );
      if (landed.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(landed).toEqual([{ source_id: 4242, first_name: "Orphan" }]);
    const pending = await rows(
      sql`select 1 from stage_records where account_id = ${accountId} and done_at is null`,
    );
    expect(pending).toHaveLength(0);
    // Nothing stale remains, so the next tick announces nothing and clears the page's marker.
    expect(await cron(DELTA_CRON, [accountId])).toMatchObject({ reannouncedPages: 0 });
    expect(await rows(sql`select 1 from stage_pending_pages where account_id = ${accountId}`)).toHaveLength(
      0,
    );
  });

  it("staging a page leaves one marker for it, and staging it again keeps one", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    await stageOne(accountId, connectionId, "marked", 11);
    await stageOne(accountId, connectionId, "marked", 11);
    expect(
      await rows(
        sql`select run_id, page_no, records from stage_pending_pages where account_id = ${accountId}`,
      ),
    ).toEqual([{ run_id: "marked", page_no: 0, records: 1 }]);
  });

  it("a recently staged page is left to its own message", async () => {
    const accountId = uniqueId("acc");
    await stageOne(accountId, uniqueId("con"), "fresh-run", 7);
    expect(await cron(DELTA_CRON, [accountId])).toMatchObject({ reannouncedPages: 0 });
  });

  it("STAGING_REANNOUNCE_AFTER_MINUTES sets how long a page waits before it is announced again", async () => {
    const accountId = uniqueId("acc");
    await stageOne(accountId, uniqueId("con"), "short-wait", 8);
    await ageStaged(accountId, "2 minutes");
    expect(await cron(DELTA_CRON, [accountId])).toMatchObject({ reannouncedPages: 0 });
    expect(await cron(DELTA_CRON, [accountId], { STAGING_REANNOUNCE_AFTER_MINUTES: "1" })).toMatchObject({
      reannouncedPages: 1,
    });
  });

  it("the daily cron prunes transformed staging rows older than the retention, keeping pending ones", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    await stageOne(accountId, connectionId, "old-done", 1);
    await stageOne(accountId, connectionId, "old-pending", 2);
    await withTestDb((db) =>
      db.execute(sql`update stage_records set staged_at = now() - interval '10 days',
        done_at = case when run_id = 'old-done' then now() - interval '9 days' end
        where account_id = ${accountId}`),
    );
    const result = await cron(RECONCILE_CRON, [accountId]);
    expect(result).toMatchObject({ job: "reconcile" });
    expect((result as { prunedStaging: number }).prunedStaging).toBeGreaterThanOrEqual(1);
    const left = await rows<{ run_id: string }>(
      sql`select run_id from stage_records where account_id = ${accountId} order by run_id`,
    );
    expect(left).toEqual([{ run_id: "old-pending" }]);
  });
});

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type PruneResult, pruneStaging } from "../../src/pipeline/retention";
import { stagePage } from "../../src/pipeline/staging";
import { type CronResult, DAILY_PRUNE_MS, DELTA_CRON, RECONCILE_CRON, runCron } from "../../src/sync/cron";
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

  it("a day's schedule clears 1,000,000 staged rows, continuing across calls, and keeps open runs", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    // Four finished runs of 2,500 pages of 100 records, staged 10 days ago and transformed 9 days ago.
    await withTestDb((db) =>
      db.execute(sql`
        insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id,
                                   op, payload, staged_at, done_at)
        select ${accountId}, ${connectionId}, 'fub', 'people', 'bulk-' || (i / 250000), (i % 250000) / 100,
               i % 100, i::text, 'upsert', '{"id":1}'::json, now() - interval '10 days',
               now() - interval '9 days'
        from generate_series(0, 999999) i`),
    );
    // Equally old, but a run with a record still pending, and one sync_runs still marks IN_PROGRESS.
    await withTestDb(async (db) => {
      await db.execute(sql`
        insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id,
                                   op, payload, staged_at, done_at)
        select ${accountId}, ${connectionId}, 'fub', 'people', r, 0, i, i::text, 'upsert', '{}'::json,
               now() - interval '10 days',
               case when r = 'open-pending' and i = 0 then null else now() - interval '9 days' end
        from unnest(array['open-pending', 'open-run']) r, generate_series(0, 2) i`);
      await db.execute(sql`
        insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, status)
        values (${accountId}, ${connectionId}, 'fub', 'people', 'open-run', 'onboarding', 'IN_PROGRESS')`);
    });

    const started = Date.now();
    const daily = (await cron(RECONCILE_CRON, [accountId])) as Extract<CronResult, { job: "reconcile" }>;
    let pruned = daily.pruned?.staging ?? 0;
    let more = daily.pruned?.more ?? true;
    let calls = 1;
    // The rest of the day: 96 ticks of the 15-minute cron, each continuing while rows are due.
    for (let tick = 0; tick < 96 && more; tick++) {
      const r = (await cron(DELTA_CRON, [accountId])) as Extract<CronResult, { job: "delta" }>;
      expect(r.pruned).not.toBeNull();
      pruned += r.pruned?.staging ?? 0;
      more = r.pruned?.more ?? true;
      calls++;
    }
    const elapsed = Date.now() - started;
    expect(more).toBe(false);
    expect(pruned).toBe(1_000_000);
    const left = await rows<{ run_id: string; n: number }>(
      sql`select run_id, count(*)::int as n from stage_records where account_id = ${accountId}
          group by run_id order by run_id`,
    );
    expect(left).toEqual([
      { run_id: "open-pending", n: 3 },
      { run_id: "open-run", n: 3 },
    ]);
    // Well inside a day's 97 invocations, and each call within its budget (the daily's is the larger).
    expect(calls).toBeLessThanOrEqual(97);
    expect(elapsed / calls).toBeLessThan(DAILY_PRUNE_MS + 10_000);
    console.log(`pruned 1,000,000 staged rows in ${calls} cron calls, ${elapsed} ms`);
    // Nothing is due any more: the next tick removes nothing.
    const next = (await cron(DELTA_CRON, [accountId])) as Extract<CronResult, { job: "delta" }>;
    expect(next.pruned).toMatchObject({ staging: 0, more: false });
  }, 180_000);

  it("prunes processed inbox rows, resolved failures and decided held deletes after their retention, keeping the rest", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    await withTestDb(async (db) => {
      await db.execute(sql`
        insert into webhook_inbox (account_id, connection_id, provider, event_id, payload, status, received_at,
                                   processed_at)
        values
          (${accountId}, ${connectionId}, 'fub', 'processed-old', '{}', 'processed', now() - interval '3 days',
           now() - interval '3 days'),
          (${accountId}, ${connectionId}, 'fub', 'processed-new', '{}', 'processed', now(), now()),
          (${accountId}, ${connectionId}, 'fub', 'parked-old', '{}', 'parked', now() - interval '30 days',
           now() - interval '30 days'),
          (${accountId}, ${connectionId}, 'fub', 'pending-old', '{}', 'pending', now() - interval '30 days', null)`);
      await db.execute(sql`
        insert into failed_records (account_id, connection_id, provider, entity, source_id, error_code,
                                    error_message, resolved_at)
        values
          (${accountId}, ${connectionId}, 'fub', 'people', 'resolved-old', 'x', 'x', now() - interval '3 days'),
          (${accountId}, ${connectionId}, 'fub', 'people', 'resolved-new', 'x', 'x', now()),
          (${accountId}, ${connectionId}, 'fub', 'people', 'open', 'x', 'x', null)`);
      await db.execute(sql`
        insert into pending_deletes (account_id, connection_id, provider, entity, run_id, mode, tombstones,
                                     deletes, live_rows, status, created_at, decided_at)
        values
          (${accountId}, ${connectionId}, 'fub', 'people', 'applied-old', 'onboarding', '[]', 1, 1, 'applied',
           now() - interval '5 days', now() - interval '3 days'),
          (${accountId}, ${connectionId}, 'fub', 'people', 'discarded-new', 'onboarding', '[]', 1, 1,
           'discarded', now() - interval '5 days', now()),
          (${accountId}, ${connectionId}, 'fub', 'people', 'pending-old', 'onboarding', '[]', 1, 1, 'pending',
           now() - interval '30 days', null)`);
    });
    const left = async () => ({
      inbox: (
        await rows<{ k: string }>(
          sql`select event_id as k from webhook_inbox where account_id = ${accountId} order by 1`,
        )
      ).map((r) => r.k),
      failed: (
        await rows<{ k: string }>(
          sql`select source_id as k from failed_records where account_id = ${accountId} order by 1`,
        )
      ).map((r) => r.k),
      held: (
        await rows<{ k: string }>(
          sql`select run_id as k from pending_deletes where account_id = ${accountId} order by 1`,
        )
      ).map((r) => r.k),
    });
    const all = await left();
    // Under the default retentions (7, 30 and 30 days) nothing here is old enough.
    await cron(DELTA_CRON, [accountId]);
    expect(await left()).toEqual(all);

    const r = (await cron(DELTA_CRON, [accountId], {
      WEBHOOK_INBOX_RETENTION_DAYS: "2",
      FAILED_RECORD_RETENTION_DAYS: "2",
      HELD_DELETE_RETENTION_DAYS: "2",
    } as Partial<Cloudflare.Env>)) as Extract<CronResult, { job: "delta" }>;
    expect(r.pruned).toMatchObject({ inbox: 1, failedRecords: 1, heldDeletes: 1, more: false });
    expect(await left()).toEqual({
      inbox: ["parked-old", "pending-old", "processed-new"],
      failed: ["open", "resolved-new"],
      held: ["discarded-new", "pending-old"],
    });
  });

  it("prunes a tombstone only when nothing can need it: old, nothing pending fetched before it, record gone or live again", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    await withTestDb(async (db) => {
      await db.execute(sql`
        insert into core_tombstones (account_id, connection_id, provider, entity, source_id, deleted_at,
                                     deleted_seq, kind, run_id, recorded_at)
        select ${accountId}, ${connectionId}, 'fub', 'people', s.id, now() - interval '40 days', 1000, 'event',
               'r', case when s.id = '5' then now() else now() - interval '40 days' end
        from unnest(array['1', '2', '3', '4', '5', '6']) s(id)`);
      // 2: kept soft-deleted in core (the per-parent lists read its tombstone); 3: live again, fetched after
      // the delete; 6: live with a version fetched before the delete (an inconsistent row the tombstone fixes).
      await db.execute(sql`
        insert into fub_people (account_id, connection_id, source_id, raw, deleted_at, fetch_seq, deleted_seq)
        values (${accountId}, ${connectionId}, 2, '{}', now(), 900, 1000),
               (${accountId}, ${connectionId}, 3, '{}', null, 2000, null),
               (${accountId}, ${connectionId}, 6, '{}', null, 900, null)`);
      // 4: a pending staged record fetched before the delete may still land; it must land deleted.
      await db.execute(sql`
        insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id,
                                   op, payload, fetch_seq)
        values (${accountId}, ${connectionId}, 'fub', 'people', 'late', 0, 0, '4', 'upsert', '{}', 999)`);
      await db.execute(sql`
        insert into stage_pending_pages (account_id, connection_id, provider, entity, run_id, page_no, records)
        values (${accountId}, ${connectionId}, 'fub', 'people', 'late', 0, 1)`);
    });
    const kept = async () =>
      (
        await rows<{ source_id: string }>(
          sql`select source_id from core_tombstones where account_id = ${accountId} order by 1`,
        )
      ).map((r) => r.source_id);

    const r = (await cron(RECONCILE_CRON, [accountId])) as Extract<CronResult, { job: "reconcile" }>;
    expect(r.pruned?.tombstones).toBe(2);
    expect(await kept()).toEqual(["2", "4", "5", "6"]);

    // Once the late record is transformed, its tombstone is no longer needed either.
    await withTestDb((db) =>
      db.execute(sql`update stage_records set done_at = now() where account_id = ${accountId}`),
    );
    await cron(RECONCILE_CRON, [accountId]);
    expect(await kept()).toEqual(["2", "5", "6"]);
    expect(
      await cron(RECONCILE_CRON, [accountId], { TOMBSTONE_RETENTION_DAYS: "0" } as Partial<Cloudflare.Env>),
    ).toMatchObject({ pruned: { tombstones: 1 } });
    expect(await kept()).toEqual(["2", "6"]);
  });

  it("a pruning call stops at its bounds and says so; the next call continues where it left off", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    for (const id of [1, 2, 3, 4, 5]) await stageOne(accountId, connectionId, `run-${id}`, id);
    await withTestDb((db) =>
      db.execute(sql`update stage_records set staged_at = now() - interval '10 days',
        done_at = now() - interval '9 days' where account_id = ${accountId}`),
    );
    // A run of one row takes two chunks (the second finds the run empty).
    const opts = { accountIds: [accountId], chunk: 1, maxChunks: 3 };
    // Out of time before the first chunk: nothing removed, more to do.
    expect(await withTestDb((db) => pruneStaging(db, 72, { ...opts, deadline: Date.now() - 1 }))).toEqual({
      deleted: 0,
      more: true,
    });
    const calls: PruneResult[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await withTestDb((db) => pruneStaging(db, 72, opts));
      calls.push(r);
      if (!r.more) break;
    }
    expect(calls.map((c) => c.deleted)).toEqual([2, 2, 1]);
    expect(calls.map((c) => c.more)).toEqual([true, true, false]);
    expect(await rows(sql`select 1 from stage_records where account_id = ${accountId}`)).toHaveLength(0);
  });
});

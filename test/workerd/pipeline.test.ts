import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  fubAppointmentToActivity,
  fubCallToActivity,
  fubDealToDeal,
  fubEventToActivity,
  fubPersonToContact,
  fubTextToActivity,
} from "../../src/connectors/fub/unified";
import { connectorFor } from "../../src/connectors/registry";
import type { Connector, EntityDef } from "../../src/connectors/types";
import { equalJitterMinTotalMs } from "../../src/core/backoff";
import { openDb } from "../../src/db/client";
import { activities, contacts, deals, fubPeople } from "../../src/db/schema";
import worker from "../../src/index";
import { transformBatch } from "../../src/pipeline/batch";
import { transformPages } from "../../src/pipeline/consumer";
import {
  messageBytes,
  SEND_BATCH_MAX_BYTES,
  sendBatches,
  sendTransforms,
  type TransformMessage,
  transformMessageSchema,
} from "../../src/pipeline/messages";
import {
  handleTransformBatch,
  retryDelaySeconds,
  retryScheduleOf,
  TRANSFORM_MAX_RETRIES,
  transformRetrySchedule,
} from "../../src/pipeline/queue-handler";
import { pruneStageRuns, pruneStaging, stagingRetentionHours } from "../../src/pipeline/retention";
import { completeRun } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { tableShape, upsertStatement } from "../../src/pipeline/upsert";
import { ownerEnv, rows, uniqueId, withTestDb } from "../support/db";
import { overflowingConnector } from "../support/overflowing-connector";

const person = (id: number, updated: string, firstName: string, extra: Record<string, unknown> = {}) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName,
  lastName: "Doe",
  emails: [
    { value: `other${id}@example.com`, isPrimary: 0 },
    { value: `p${id}@example.com`, isPrimary: 1 },
  ],
  phones: [{ value: "(555) 010-0001", isPrimary: true }],
  tags: ["buyer"],
  stage: "Lead",
  source: "Zillow",
  assignedUserId: 7,
  ...extra,
});

async function stage(
  accountId: string,
  connectionId: string,
  runId: string,
  pageNo: number,
  records: unknown[],
  op: "upsert" | "delete" = "upsert",
): Promise<TransformMessage> {
  await withTestDb((db) =>
    stagePage(
      db,
      { accountId, connectionId, provider: "fub", entity: "people", runId, pageNo },
      records.map((payload) => ({ sourceId: String((payload as { id: unknown }).id), op, payload })),
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
  };
}

const firstNames = (account: string) =>
  rows<{ id: number; first_name: string; deleted: boolean }>(
    sql`select source_id::int as id, first_name, deleted_at is not null as deleted
        from fub_people where account_id = ${account} order by source_id`,
  );

describe("message contract", () => {
  it("a message at its maximum size stays far below the 128 KB message limit", () => {
    const long = "x".repeat(256);
    const max: TransformMessage = {
      v: 1,
      accountId: long,
      connectionId: long,
      provider: long,
      entity: long,
      runId: long,
      pageNo: Number.MAX_SAFE_INTEGER,
      records: Number.MAX_SAFE_INTEGER,
    };
    expect(transformMessageSchema.safeParse(max).success).toBe(true);
    expect(transformMessageSchema.safeParse({ ...max, runId: `${long}x` }).success).toBe(false);
    expect(messageBytes(max)).toBeLessThan(2_048);
  });

  it("producers split sends within 100 messages and 256 KB per sendBatch", async () => {
    const long = "y".repeat(256);
    const msgs: TransformMessage[] = Array.from({ length: 250 }, (_, i) => ({
      v: 1,
      accountId: long,
      connectionId: long,
      provider: "fub",
      entity: "people",
      runId: long,
      pageNo: i,
      records: 100,
    }));
    const batches = sendBatches(msgs);
    expect(batches.flat()).toEqual(msgs);
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(100);
      expect(b.reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(SEND_BATCH_MAX_BYTES);
    }
    expect(batches.length).toBeGreaterThanOrEqual(3);
    const sent: number[] = [];
    const queue = {
      sendBatch: async (items: unknown[]) => {
        sent.push(items.length);
      },
    } as unknown as Queue<TransformMessage>;
    await sendTransforms(queue, msgs);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(250);
    expect(Math.max(...sent)).toBeLessThanOrEqual(100);
  });
});

describe("set-based upsert", () => {
  it("derives each table's natural key from its unique index or primary key", () => {
    expect(tableShape(contacts).key).toEqual(["account_id", "provider", "connection_id", "source_id"]);
    expect(tableShape(activities).key).toEqual(["account_id", "provider", "connection_id", "source_id"]);
    expect(tableShape(fubPeople).key).toEqual(["account_id", "connection_id", "source_id"]);
    // Generated columns are the database's: a mapped row never supplies them.
    expect(tableShape(contacts).columns.map((c) => c.name)).not.toContain("id");
    expect(tableShape(contacts).columns.map((c) => c.name)).not.toContain("synced_at");
  });

  it("keeps two providers' rows with the same text source id apart", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const base = {
      account_id: account,
      connection_id: conn,
      source_id: "42",
      source_updated_at: "2024-02-01T00:00:00Z",
    };
    await withTestDb(async (db) => {
      await db.execute(
        upsertStatement(contacts, [
          { ...base, provider: "fub", name: "From FUB" },
          { ...base, provider: "lofty", name: "From Lofty" },
          { ...base, provider: "fub", name: "Older FUB", source_updated_at: "2024-01-01T00:00:00Z" },
        ]),
      );
      await db.execute(
        upsertStatement(contacts, [
          { ...base, provider: "lofty", name: "Lofty v2", source_updated_at: "2024-03-01T00:00:00Z" },
        ]),
      );
    });
    expect(
      await rows(sql`select provider, name from contacts where account_id = ${account} order by provider`),
    ).toEqual([
      { provider: "fub", name: "From FUB" },
      { provider: "lofty", name: "Lofty v2" },
    ]);
  });
});

describe("FUB unified mappings", () => {
  const source = { accountId: "acc_map", connectionId: "con_map" };

  it("maps a person to a contact with primary email/phone and text ids", () => {
    const write = fubPersonToContact(person(5, "2024-02-01T00:00:00Z", "Ann"), source);
    expect(write.table).toBe(contacts);
    expect(write.row).toMatchObject({
      provider: "fub",
      source_id: "5",
      first_name: "Ann",
      name: "Ann Doe",
      primary_email: "p5@example.com",
      primary_phone: "(555) 010-0001",
      lead_source: "Zillow",
      assigned_to: "7",
      tags: ["buyer"],
      deleted_at: null,
    });
  });

  it("maps deals, calls, texts, events and appointments and writes them through the upsert", async () => {
    const account = uniqueId("acc");
    const ctx = { accountId: account, connectionId: "c1" };
    const stamps = { created: "2024-01-01T00:00:00Z", updated: "2024-01-02T00:00:00Z" };
    const writes = [
      fubDealToDeal(
        {
          id: 1,
          ...stamps,
          name: "12 Oak St",
          stageId: 3,
          price: 350000,
          closeDate: "2024-05-01",
          people: [{ id: 9 }],
          users: [{ id: 2 }],
        },
        ctx,
      ),
      fubCallToActivity(
        { id: 1, ...stamps, personId: 9, userId: 2, isIncoming: true, duration: 60, outcome: "Interested" },
        ctx,
      ),
      fubTextToActivity({ id: 1, ...stamps, personId: 9, isIncoming: false, message: "Hi" }, ctx),
      fubEventToActivity(
        {
          id: 1,
          ...stamps,
          personId: 9,
          type: "Inquiry",
          description: "via Zillow",
          occurred: "2023-12-31T10:00:00Z",
        },
        ctx,
      ),
      fubAppointmentToActivity(
        {
          id: 1,
          ...stamps,
          title: "Showing",
          start: "2024-01-05T15:00:00Z",
          invitees: [{ personId: 9 }, { userId: 2 }],
        },
        ctx,
      ),
    ];
    await withTestDb(async (db) => {
      for (const table of [deals, activities]) {
        await db.execute(
          upsertStatement(
            table,
            writes.filter((w) => w.table === table).map((w) => w.row),
          ),
        );
      }
    });
    expect(
      await rows(sql`select source_id, stage, price::int as price, close_date::text as close_date, contact_source_ids
                     from deals where account_id = ${account}`),
    ).toEqual([
      { source_id: "1", stage: "3", price: 350000, close_date: "2024-05-01", contact_source_ids: ["9"] },
    ]);
    expect(
      await rows(sql`select source_id, type, contact_source_id, user_source_id, direction, summary
                     from activities where account_id = ${account} order by source_id`),
    ).toEqual([
      {
        source_id: "appointment:1",
        type: "appointment",
        contact_source_id: "9",
        user_source_id: "2",
        direction: null,
        summary: "Showing",
      },
      {
        source_id: "call:1",
        type: "call",
        contact_source_id: "9",
        user_source_id: "2",
        direction: "inbound",
        summary: "Interested",
      },
      {
        source_id: "event:1",
        type: "event",
        contact_source_id: "9",
        user_source_id: null,
        direction: "inbound",
        summary: "Inquiry: via Zillow",
      },
      {
        source_id: "text:1",
        type: "text",
        contact_source_id: "9",
        user_source_id: null,
        direction: "outbound",
        summary: "Hi",
      },
    ]);
  });

  it("people land in both fub_people and contacts through the consumer", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const msg = await stage(account, conn, "run1", 0, [person(3, "2024-02-01T00:00:00Z", "Both")]);
    await withTestDb((db) => transformPages(db, [msg], connectorFor));
    expect(await firstNames(account)).toEqual([{ id: 3, first_name: "Both", deleted: false }]);
    expect(
      await rows(
        sql`select source_id, first_name, primary_email from contacts where account_id = ${account}`,
      ),
    ).toEqual([{ source_id: "3", first_name: "Both", primary_email: "p3@example.com" }]);
  });
});

describe("consumer failure isolation", () => {
  it("retry delays keep half their ceiling, so the five retries span at least 15 minutes", () => {
    const low = () => 0;
    const high = () => 0.999999;
    // Delivery n waits within [c/2, c], c = 6 s · 4^(n-1), capped at 1,800 s.
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, undefined, low))).toEqual([3, 12, 48, 192, 768]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, undefined, high))).toEqual([6, 24, 96, 384, 1536]);
    expect(retryDelaySeconds(50, undefined, low)).toBe(900);
    expect(retryDelaySeconds(50, undefined, high)).toBe(1800);
    // The least total over every retry the queue gives a message, whatever the random draws.
    const schedule = transformRetrySchedule();
    expect(equalJitterMinTotalMs(TRANSFORM_MAX_RETRIES, schedule)).toBe(1_023_000);
    expect(equalJitterMinTotalMs(TRANSFORM_MAX_RETRIES, schedule)).toBeGreaterThanOrEqual(15 * 60_000);
    for (let trial = 0; trial < 200; trial++) {
      let total = 0;
      for (let n = 1; n <= TRANSFORM_MAX_RETRIES; n++) total += retryDelaySeconds(n);
      expect(total).toBeGreaterThanOrEqual(1023);
      expect(total).toBeLessThanOrEqual(2046);
    }
    // The local override scales the whole schedule; a bad value keeps the production default.
    expect(retryScheduleOf("1")).toEqual({ baseMs: 1_000, factor: 4, capMs: 300_000 });
    expect(retryScheduleOf("abc")).toEqual(schedule);
    expect(retryScheduleOf("0")).toEqual(schedule);
    expect(retryScheduleOf(undefined)).toEqual(schedule);
  });

  it("a record the database rejects goes to failed_records; its page-mates and batch-mates land", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    // A mapping that yields a value the integer column can't hold: a data error only Postgres sees.
    const overflowing = overflowingConnector();
    const bad = await stage(account, conn, "run1", 0, [
      person(1, "2024-02-01T00:00:00Z", "Good1"),
      person(2, "2024-02-01T00:00:00Z", "Overflow"),
    ]);
    const good = await stage(account, conn, "run1", 1, [person(3, "2024-02-01T00:00:00Z", "Good3")]);
    const outcomes = await withTestDb((db) => transformBatch(db, [bad, good], () => overflowing));
    expect(outcomes).toEqual([{ ok: true }, { ok: true }]);
    expect((await firstNames(account)).map((r) => r.first_name)).toEqual(["Good1", "Good3"]);
    expect(
      await rows<{ source_id: string; error_code: string; error_message: string }>(
        sql`select source_id, error_code, error_message from failed_records where account_id = ${account}`,
      ),
    ).toEqual([
      {
        source_id: "2",
        error_code: "write_failed",
        error_message: expect.stringMatching(/^22003: .*out of range/),
      },
    ]);
  });

  it("a mapping error is a failed record, not a failed batch", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const fub = connectorFor("fub");
    const people = fub.entities.people as EntityDef;
    const exploding: Connector = {
      ...fub,
      entities: {
        ...fub.entities,
        people: {
          ...people,
          toCore: (p, s) => {
            if ((p as { firstName?: string }).firstName === "Boom") throw new Error("cannot map Boom");
            return people.toCore(p, s);
          },
        },
      },
    };
    const msg = await stage(account, conn, "run1", 0, [
      person(1, "2024-02-01T00:00:00Z", "Fine"),
      person(2, "2024-02-01T00:00:00Z", "Boom"),
    ]);
    const result = await withTestDb((db) => transformPages(db, [msg], () => exploding));
    expect(result).toMatchObject({ staged: 2, failed: 1 });
    expect((await firstNames(account)).map((r) => r.first_name)).toEqual(["Fine"]);
    expect(
      await rows(
        sql`select source_id, error_code, error_message, attempts from failed_records where account_id = ${account}`,
      ),
    ).toEqual([
      { source_id: "2", error_code: "mapping_failed", error_message: "cannot map Boom", attempts: 1 },
    ]);
  });

  it("acks healthy messages and retries only the one whose page can't be written, with a backoff delay", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const blocked = await stage(account, conn, "run1", 0, [person(1, "2024-02-01T00:00:00Z", "Blocked")]);
    const healthy = await stage(account, conn, "run1", 1, [person(2, "2024-02-01T00:00:00Z", "Healthy")]);
    // Another transaction holds the blocked page's staged rows; with a short lock timeout the consumer's
    // statement fails with a lock error (not a record error), as a transient database failure would.
    const holder = openDb(ownerEnv());
    const client = await holder.pool.connect();
    try {
      await client.query("begin");
      await client.query(
        "select 1 from stage_records where connection_id = $1 and run_id = 'run1' and page_no = 0 for update",
        [conn],
      );
      // The consumer runs on the system connection.
      const url = new URL(env.SYSTEM_DATABASE_URL ?? "");
      url.searchParams.set("options", "-c lock_timeout=300");
      // A hand-rolled batch: the test helper's result doesn't report retry delays.
      const calls: { id: string; call: string; delaySeconds?: number }[] = [];
      const message = (id: string, attempts: number, body: TransformMessage) => ({
        id,
        timestamp: new Date(),
        attempts,
        body,
        ack: () => calls.push({ id, call: "ack" }),
        retry: (o?: { delaySeconds?: number }) =>
          calls.push({ id, call: "retry", delaySeconds: o?.delaySeconds }),
      });
      const batch = {
        queue: "transforms",
        messages: [message("blocked", 10, blocked), message("healthy", 1, healthy)],
        ackAll: () => {},
        retryAll: () => {},
      } as unknown as MessageBatch<unknown>;
      const ctx = createExecutionContext();
      await handleTransformBatch(batch, { ...env, SYSTEM_DATABASE_URL: url.toString() }, ctx, connectorFor);
      await waitOnExecutionContext(ctx);
      expect(calls.map(({ id, call }) => ({ id, call })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: "blocked", call: "retry" },
        { id: "healthy", call: "ack" },
      ]);
      // Tenth delivery: the capped ceiling (1,800 s), of which half is always waited.
      const delay = calls.find((c) => c.call === "retry")?.delaySeconds ?? -1;
      expect(delay).toBeGreaterThanOrEqual(900);
      expect(delay).toBeLessThanOrEqual(1800);
    } finally {
      await client.query("rollback");
      client.release();
      await holder.close();
    }
    expect((await firstNames(account)).map((r) => r.first_name)).toEqual(["Healthy"]);
    // The retried delivery lands once the cause is gone.
    await withTestDb((db) => transformBatch(db, [blocked], connectorFor));
    expect((await firstNames(account)).map((r) => r.first_name)).toEqual(["Blocked", "Healthy"]);
  });

  it("the dead-letter consumer transforms a page whose cause is gone instead of parking it", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const msg = await stage(account, conn, "run9", 0, [
      person(1, "2024-02-01T00:00:00Z", "A"),
      person(2, "2024-02-01T00:00:00Z", "B"),
    ]);
    const batch = createMessageBatch("transforms-dlq", [
      { id: "d1", timestamp: new Date(), attempts: 1, body: msg },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["d1"]);
    expect((await firstNames(account)).map((r) => r.first_name)).toEqual(["A", "B"]);
    expect(await rows(sql`select 1 from failed_records where account_id = ${account}`)).toEqual([]);
    expect(
      await rows(sql`select 1 from stage_records where account_id = ${account} and done_at is null`),
    ).toEqual([]);
  });
});

describe("deletes", () => {
  const runOf = (account: string, conn: string, runId: string, mode: "onboarding" | "delta" | "webhook") => ({
    accountId: account,
    connectionId: conn,
    provider: "fub",
    entity: "people",
    runId,
    mode,
  });

  async function seed(account: string, conn: string, n: number) {
    const msg = await stage(
      account,
      conn,
      "seed",
      0,
      Array.from({ length: n }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`)),
    );
    await withTestDb((db) => transformPages(db, [msg], connectorFor));
  }

  it("a staged delete waits for its run to complete, then soft-deletes in every target table", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    await seed(account, conn, 10);
    const del = await stage(
      account,
      conn,
      "webhook:e1",
      0,
      [{ id: 4, deletedAt: "2024-03-01T00:00:00Z" }],
      "delete",
    );
    // The consumer leaves deletes alone.
    await withTestDb((db) => transformPages(db, [del], connectorFor));
    expect((await firstNames(account)).filter((r) => r.deleted)).toEqual([]);
    const done = await withTestDb((db) => completeRun(db, runOf(account, conn, "webhook:e1", "webhook")));
    expect(done).toEqual({ status: "applied", deletes: 1 });
    expect((await firstNames(account)).filter((r) => r.deleted).map((r) => r.id)).toEqual([4]);
    expect(
      await rows(
        sql`select source_id, deleted_at::text as at from contacts where account_id = ${account} and deleted_at is not null`,
      ),
    ).toEqual([{ source_id: "4", at: "2024-03-01 00:00:00+00" }]);
    // Calling again is a no-op; a newer version (record restored) brings it back.
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "webhook:e1", "webhook")))).toEqual({
      status: "applied",
      deletes: 0,
    });
    const back = await stage(account, conn, "run2", 0, [person(4, "2024-04-01T00:00:00Z", "Back")]);
    await withTestDb((db) => transformPages(db, [back], connectorFor));
    expect((await firstNames(account)).find((r) => r.id === 4)).toEqual({
      id: 4,
      first_name: "Back",
      deleted: false,
    });
  });

  it("a *Deleted event deletes by fetch order: an old or missing time still deletes, a later fetch revives", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    await seed(account, conn, 20);
    const newer = await stage(account, conn, "run2", 0, [person(5, "2024-03-05T00:00:00Z", "Newer")]);
    await withTestDb((db) => transformPages(db, [newer], connectorFor));
    // Version of 7 fetched before its delete is observed, delivered only after the delete applied.
    const early7 = await stage(account, conn, "run3", 0, [person(7, "2024-03-09T00:00:00Z", "Early7")]);
    // The event's time precedes the row's `updated` (5) or is missing (6): the provider says they are gone.
    await stage(
      account,
      conn,
      "webhook:e2",
      0,
      [{ id: 5, deletedAt: "2024-03-01T00:00:00Z" }, { id: 6 }, { id: 7 }],
      "delete",
    );
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "webhook:e2", "webhook")))).toEqual({
      status: "applied",
      deletes: 3,
    });
    await withTestDb((db) => transformPages(db, [early7], connectorFor));
    expect((await firstNames(account)).filter((r) => r.deleted)).toEqual([
      { id: 5, first_name: "Newer", deleted: true },
      { id: 6, first_name: "P6", deleted: true },
      { id: 7, first_name: "Early7", deleted: true },
    ]);
    expect(
      await rows(sql`select source_id, kind, deleted_seq > 0 as seq from core_tombstones
                     where connection_id = ${conn} order by source_id`),
    ).toEqual([
      { source_id: "5", kind: "event", seq: true },
      { source_id: "6", kind: "event", seq: true },
      { source_id: "7", kind: "event", seq: true },
    ]);
    // Fetched again after the delete (same `updated`: the later fetch wins the tie): live again, everywhere.
    const again = await stage(account, conn, "run4", 0, [person(5, "2024-03-05T00:00:00Z", "Again")]);
    await withTestDb((db) => transformPages(db, [again], connectorFor));
    expect((await firstNames(account)).find((r) => r.id === 5)).toEqual({
      id: 5,
      first_name: "Again",
      deleted: false,
    });
    expect(
      await rows(sql`select first_name, deleted_at is null as live from contacts
                     where account_id = ${account} and source_id = '5'`),
    ).toEqual([{ first_name: "Again", live: true }]);
  });

  it("a full scan tombstones unseen rows, and holds a large share for an operator", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    await seed(account, conn, 10);
    // Onboarding run that saw 9 of 10: one delete (10%) applies.
    await stage(
      account,
      conn,
      "scan1",
      0,
      Array.from({ length: 9 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`)),
    );
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "scan1", "onboarding")))).toEqual({
      status: "applied",
      deletes: 1,
    });
    expect((await firstNames(account)).filter((r) => r.deleted).map((r) => r.id)).toEqual([10]);
    // A scan that saw 5 of the 9 live rows would delete 44%: held.
    await stage(
      account,
      conn,
      "scan2",
      0,
      Array.from({ length: 5 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`)),
    );
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "scan2", "onboarding")))).toEqual({
      status: "awaiting_confirmation",
      deletes: 4,
    });
    expect((await firstNames(account)).filter((r) => r.deleted).map((r) => r.id)).toEqual([10]);
    expect(
      await rows(
        sql`select run_id, status, deletes, live_rows from pending_deletes where account_id = ${account}`,
      ),
    ).toEqual([{ run_id: "scan2", status: "pending", deletes: 4, live_rows: 9 }]);
    // A higher configured share lets the same run through.
    await stage(
      account,
      conn,
      "scan3",
      0,
      Array.from({ length: 5 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`)),
    );
    expect(
      await withTestDb((db) =>
        completeRun(db, runOf(account, conn, "scan3", "onboarding"), { maxDeleteShare: 0.5 }),
      ),
    ).toEqual({ status: "applied", deletes: 4 });
    expect((await firstNames(account)).filter((r) => r.deleted).map((r) => r.id)).toEqual([6, 7, 8, 9, 10]);
  });

  it("a run's start is kept when it stages its first page: a page staged again keeps it, a run staged before it was kept finds it", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const started = () =>
      rows<{ run_id: string; first_seq: number }>(
        sql`select run_id, first_seq::float8 as first_seq from stage_runs where connection_id = ${conn} order by run_id`,
      );
    const staged = (runId: string, pageNo: number) =>
      rows<{ min: number }>(
        sql`select min(fetch_seq)::float8 as min from stage_records
            where connection_id = ${conn} and run_id = ${runId} and page_no = ${pageNo}`,
      ).then((r) => r[0]?.min);
    await stage(account, conn, "r1", 0, [
      person(1, "2024-02-01T00:00:00Z", "a"),
      person(2, "2024-02-01T00:00:00Z", "b"),
    ]);
    const first = await staged("r1", 0);
    expect(await started()).toEqual([{ run_id: "r1", first_seq: first }]);
    // The connection's first load: nothing in core, no other run's page.
    expect(await rows(sql`select prior_rows from stage_runs where connection_id = ${conn}`)).toEqual([
      { prior_rows: false },
    ]);
    // Page 0 fetched again (a crash before the cursor moved): its records take later fetch positions, the run's
    // start stays where the run began.
    await stage(account, conn, "r1", 0, [person(1, "2024-02-01T00:00:00Z", "a")]);
    await stage(account, conn, "r1", 1, [person(3, "2024-02-01T00:00:00Z", "c")]);
    expect(await staged("r1", 0)).toBeGreaterThan(first ?? 0);
    expect(await started()).toEqual([{ run_id: "r1", first_seq: first }]);
    // A run whose first pages were staged before stage_runs existed: its next page finds them.
    await stage(account, conn, "r2", 0, [person(4, "2024-02-01T00:00:00Z", "d")]);
    const legacy = await staged("r2", 0);
    await withTestDb((db) =>
      db.execute(sql`delete from stage_runs where connection_id = ${conn} and run_id = 'r2'`),
    );
    await stage(account, conn, "r2", 1, [person(5, "2024-02-01T00:00:00Z", "e")]);
    expect(await started()).toEqual([
      { run_id: "r1", first_seq: first },
      { run_id: "r2", first_seq: legacy },
    ]);
    // r2 began while r1's pages were staged: rows older than r2 may land.
    expect(
      await rows(
        sql`select run_id, prior_rows from stage_runs where connection_id = ${conn} order by run_id`,
      ),
    ).toEqual([
      { run_id: "r1", prior_rows: false },
      { run_id: "r2", prior_rows: true },
    ]);
  });

  it("a first load's completion does not look for older rows; a row that landed from elsewhere meanwhile waits for the next complete scan", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const nine = Array.from({ length: 9 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`));
    const page = await stage(account, conn, "first", 0, nine);
    expect(await rows(sql`select prior_rows from stage_runs where connection_id = ${conn}`)).toEqual([
      { prior_rows: false },
    ]);
    // Written outside staging after the run began, as fetched before it (fetch_seq 0).
    const entity = connectorFor("fub").entities.people;
    if (!entity) throw new Error("fub has no people entity");
    for (const w of entity.toCore(entity.schema.parse(person(10, "2024-02-01T00:00:00Z", "P10")), {
      accountId: account,
      connectionId: conn,
    })) {
      await withTestDb((db) => db.execute(upsertStatement(w.table, [{ ...w.row, fetch_seq: 0 }])));
    }
    await withTestDb((db) => transformPages(db, [page], connectorFor));
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "first", "onboarding")))).toEqual({
      status: "applied",
      deletes: 0,
    });
    expect((await firstNames(account)).filter((r) => r.deleted)).toEqual([]);
    // The next complete scan may find older rows, and does.
    await stage(account, conn, "second", 0, nine);
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "second", "onboarding")))).toEqual({
      status: "applied",
      deletes: 1,
    });
    expect((await firstNames(account)).filter((r) => r.deleted).map((r) => r.id)).toEqual([10]);
  });

  it("a full scan staged without a kept start diffs from its staged rows", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    await seed(account, conn, 4);
    await stage(
      account,
      conn,
      "legacy",
      0,
      Array.from({ length: 3 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`)),
    );
    await withTestDb((db) => db.execute(sql`delete from stage_runs where connection_id = ${conn}`));
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "legacy", "onboarding")))).toEqual({
      status: "applied",
      deletes: 1,
    });
    expect((await firstNames(account)).filter((r) => r.deleted).map((r) => r.id)).toEqual([4]);
  });

  it("a delta run does not diff", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    await seed(account, conn, 3);
    await stage(account, conn, "delta1", 0, [person(1, "2024-02-01T00:00:00Z", "P1")]);
    expect(await withTestDb((db) => completeRun(db, runOf(account, conn, "delta1", "delta")))).toEqual({
      status: "applied",
      deletes: 0,
    });
    expect((await firstNames(account)).filter((r) => r.deleted)).toEqual([]);
  });
});

describe("staging retention", () => {
  it("prunes done rows older than the retention in bounded chunks, never pending or recent ones", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const old = await stage(
      account,
      conn,
      "old",
      0,
      Array.from({ length: 5 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", "x")),
    );
    await withTestDb((db) => transformPages(db, [old], connectorFor));
    await withTestDb((db) =>
      db.execute(
        sql`update stage_records set staged_at = now() - interval '101 hours', done_at = now() - interval '100 hours'
            where account_id = ${account}`,
      ),
    );
    const recent = await stage(account, conn, "recent", 0, [person(9, "2024-02-01T00:00:00Z", "y")]);
    await withTestDb((db) => transformPages(db, [recent], connectorFor));
    await stage(account, conn, "pending", 0, [person(10, "2024-02-01T00:00:00Z", "z")]);
    const result = await withTestDb((db) => pruneStaging(db, 72, { chunk: 2, maxChunks: 50 }));
    expect(result.more).toBe(false);
    expect(result.deleted).toBeGreaterThanOrEqual(5);
    expect(
      await rows(
        sql`select run_id, done_at is null as pending from stage_records where account_id = ${account} order by run_id`,
      ),
    ).toEqual([
      { run_id: "pending", pending: true },
      { run_id: "recent", pending: false },
    ]);
    // Where the pruned run began goes with its last staged row; the runs with rows left keep theirs.
    await withTestDb((db) =>
      db.execute(
        sql`update stage_runs set started_at = now() - interval '101 hours' where account_id = ${account}`,
      ),
    );
    expect((await withTestDb((db) => pruneStageRuns(db, 72, { accountIds: [account] }))).deleted).toBe(1);
    expect(
      await rows(sql`select run_id from stage_runs where account_id = ${account} order by run_id`),
    ).toEqual([{ run_id: "pending" }, { run_id: "recent" }]);
    expect(stagingRetentionHours(undefined)).toBe(72);
    expect(stagingRetentionHours("24")).toBe(24);
    expect(stagingRetentionHours("soon")).toBe(72);
  });
});

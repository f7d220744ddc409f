import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import type { Connector } from "../../src/connectors/types";
import { openDb } from "../../src/db/client";
import type { TransformMessage } from "../../src/pipeline/messages";
import { handleTransformBatch } from "../../src/pipeline/queue-handler";
import { reannounceStalePages } from "../../src/pipeline/reannounce";
import { stagePage } from "../../src/pipeline/staging";
import { ownerEnv, rows, uniqueId, withTestDb } from "../support/db";
import { overflowingConnector } from "../support/overflowing-connector";

// Pages reach the dead-letter queue after their retries ran out. Those that failed because Postgres was
// unreachable must come back (pending, re-announced); those that failed for a reason of their own are parked.

const person = (id: number, firstName: string, updated = "2024-02-01T00:00:00Z") => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName,
  lastName: "Doe",
});

async function stage(accountId: string, connectionId: string, pageNo: number, records: unknown[]) {
  await withTestDb((db) =>
    stagePage(
      db,
      { accountId, connectionId, provider: "fub", entity: "people", runId: "run1", pageNo },
      records.map((payload) => ({ sourceId: String((payload as { id: number }).id), op: "upsert", payload })),
    ),
  );
  return {
    v: 1,
    accountId,
    connectionId,
    provider: "fub",
    entity: "people",
    runId: "run1",
    pageNo,
    records: records.length,
  } satisfies TransformMessage;
}

type Call = { id: string; call: "ack" | "retry"; delaySeconds?: number };

/** A hand-rolled batch: the test helper's result doesn't report retry delays. */
async function deliver(
  queue: string,
  messages: { id: string; attempts: number; body: TransformMessage }[],
  workerEnv: typeof env,
  connectors: (provider: string) => Connector = connectorFor,
): Promise<Call[]> {
  const calls: Call[] = [];
  const batch = {
    queue,
    messages: messages.map((m) => ({
      ...m,
      timestamp: new Date(),
      ack: () => calls.push({ id: m.id, call: "ack" }),
      retry: (o?: { delaySeconds?: number }) =>
        calls.push({ id: m.id, call: "retry", delaySeconds: o?.delaySeconds }),
    })),
    ackAll: () => {},
    retryAll: () => {},
  } as unknown as MessageBatch<unknown>;
  const ctx = createExecutionContext();
  await handleTransformBatch(batch, workerEnv, ctx, connectors);
  await waitOnExecutionContext(ctx);
  return calls;
}

const pending = (account: string) =>
  rows<{ source_id: string }>(
    sql`select source_id from stage_records where account_id = ${account} and done_at is null order by source_id`,
  );
const failures = (account: string) =>
  rows<{ source_id: string; error_code: string }>(
    sql`select source_id, error_code from failed_records where account_id = ${account} order by source_id`,
  );
const names = (account: string) =>
  rows<{ first_name: string }>(
    sql`select first_name from fub_people where account_id = ${account} order by source_id`,
  );

/** Postgres down, as the Worker sees it: nothing listens on the database's port. */
function postgresDown(): typeof env {
  const down = (value: string) => {
    const url = new URL(value);
    url.port = "1";
    return url.toString();
  };
  return {
    ...env,
    DATABASE_URL: down(env.DATABASE_URL),
    SYSTEM_DATABASE_URL: down(env.SYSTEM_DATABASE_URL ?? env.DATABASE_URL),
  };
}

/** The local WebSocket proxy itself unreachable (the fetch to it fails). */
function proxyDown(): typeof env {
  return { ...env, DB_WS_PROXY: "127.0.0.1:1" };
}

describe("dead-lettered pages and Postgres outages", () => {
  for (const [label, outageEnv] of [
    ["Postgres refusing connections", postgresDown],
    ["the proxy unreachable", proxyDown],
  ] as const) {
    it(`a page dead-lettered while ${label} stays pending, is retried later and re-announced`, async () => {
      const account = uniqueId("acc");
      const conn = uniqueId("con");
      const msg = await stage(account, conn, 0, [person(1, "A"), person(2, "B")]);

      const calls = await deliver("transforms-dlq", [{ id: "d1", attempts: 1, body: msg }], outageEnv());
      expect(calls.map(({ id, call }) => ({ id, call }))).toEqual([{ id: "d1", call: "retry" }]);
      // The dead-letter queue's own retry follows the same schedule: at least 3 s on its first.
      expect(calls[0]?.delaySeconds).toBeGreaterThanOrEqual(3);
      expect(calls[0]?.delaySeconds).toBeLessThanOrEqual(6);
      expect(await failures(account)).toEqual([]);
      expect((await pending(account)).map((r) => r.source_id)).toEqual(["1", "2"]);

      // Even if every retry of the message fails too, the page is still pending and its marker remains:
      // the delta cron's re-announce sends it again.
      const sent: TransformMessage[] = [];
      const queue = {
        sendBatch: async (batch: { body: TransformMessage }[]) => {
          sent.push(...batch.map((b) => b.body));
        },
      } as unknown as Queue<TransformMessage>;
      const announced = await withTestDb((db) =>
        reannounceStalePages(db, queue, { olderThanMinutes: 0, accountIds: [account] }),
      );
      expect(announced).toEqual({ pages: 1, parked: 0 });
      expect(sent).toEqual([msg]);

      // Postgres back: the re-announced message lands, nothing parked.
      expect(await deliver("transforms", [{ id: "m2", attempts: 1, body: msg }], env)).toEqual([
        { id: "m2", call: "ack" },
      ]);
      expect((await names(account)).map((r) => r.first_name)).toEqual(["A", "B"]);
      expect(await pending(account)).toEqual([]);
      expect(await failures(account)).toEqual([]);
    });
  }

  it("the main queue retries an unreachable Postgres with the spread-out schedule", async () => {
    const account = uniqueId("acc");
    const msg = await stage(account, uniqueId("con"), 0, [person(1, "A")]);
    const calls = await deliver("transforms", [{ id: "m1", attempts: 3, body: msg }], postgresDown());
    expect(calls.map(({ call }) => call)).toEqual(["retry"]);
    // Third delivery: ceiling 96 s, half of it always waited.
    expect(calls[0]?.delaySeconds).toBeGreaterThanOrEqual(48);
    expect(calls[0]?.delaySeconds).toBeLessThanOrEqual(96);
    expect((await pending(account)).map((r) => r.source_id)).toEqual(["1"]);
  });

  it("a page that fails for a reason of its own is still parked as dead_lettered", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const seed = await stage(account, conn, 0, [person(1, "Old")]);
    expect(await deliver("transforms", [{ id: "s", attempts: 1, body: seed }], env)).toEqual([
      { id: "s", call: "ack" },
    ]);
    const blocked = await stage(account, conn, 1, [person(1, "Blocked", "2024-03-01T00:00:00Z")]);
    const healthy = await stage(account, conn, 2, [person(2, "Healthy")]);
    // Another transaction holds the core row the blocked page updates, and the consumer's lock timeout is
    // short: Postgres is reachable and refuses the page with an error that is neither a record's nor an outage.
    const holder = openDb(ownerEnv());
    const client = await holder.pool.connect();
    let calls: Call[];
    try {
      await client.query("begin");
      await client.query("select 1 from fub_people where account_id = $1 and source_id = '1' for update", [
        account,
      ]);
      const url = new URL(env.SYSTEM_DATABASE_URL ?? env.DATABASE_URL);
      url.searchParams.set("options", "-c lock_timeout=300");
      calls = await deliver(
        "transforms-dlq",
        [
          { id: "blocked", attempts: 1, body: blocked },
          { id: "healthy", attempts: 1, body: healthy },
        ],
        { ...env, SYSTEM_DATABASE_URL: url.toString() },
      );
    } finally {
      await client.query("rollback");
      client.release();
      await holder.close();
    }
    expect(calls.map(({ id, call }) => ({ id, call })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: "blocked", call: "ack" },
      { id: "healthy", call: "ack" },
    ]);
    expect((await names(account)).map((r) => r.first_name)).toEqual(["Old", "Healthy"]);
    expect(await failures(account)).toEqual([{ source_id: "1", error_code: "dead_lettered" }]);
    expect(await pending(account)).toEqual([]);
  });

  it("a record Postgres refuses is parked on its own; its page-mates land", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    // A mapping that yields a value the integer column can't hold: a data error only Postgres sees.
    const overflowing = overflowingConnector();
    const msg = await stage(account, conn, 0, [person(1, "Fine"), person(2, "Overflow")]);
    const calls = await deliver(
      "transforms-dlq",
      [{ id: "d1", attempts: 1, body: msg }],
      env,
      () => overflowing,
    );
    expect(calls.map(({ call }) => call)).toEqual(["ack"]);
    expect((await names(account)).map((r) => r.first_name)).toEqual(["Fine"]);
    expect(await failures(account)).toEqual([{ source_id: "2", error_code: "write_failed" }]);
    expect(await pending(account)).toEqual([]);
  });
});

import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { transformPages } from "../../src/pipeline/consumer";
import { completeRun } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";

const AUTH = { authorization: "Bearer test-admin-token" };

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  return exports.default.fetch(`http://etl.test${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function newAccount(): Promise<string> {
  const id = uniqueId("acc");
  const res = await call("POST", "/admin/accounts", { id, name: "Failed records test" });
  expect(res.status).toBe(201);
  return id;
}

const person = (id: number, updated: string, firstName: string) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName,
  lastName: "Doe",
});

async function transform(
  account: string,
  conn: string,
  runId: string,
  records: unknown[],
  entity = "people",
) {
  const msg = {
    v: 1 as const,
    accountId: account,
    connectionId: conn,
    provider: "fub",
    entity,
    runId,
    pageNo: 0,
    records: records.length,
  };
  await withTestDb(async (db) => {
    await stagePage(
      db,
      { ...msg },
      records.map((payload) => ({
        sourceId: String((payload as { id: unknown }).id),
        op: "upsert",
        payload,
      })),
    );
    await transformPages(db, [msg], connectorFor);
  });
}

type Failed = {
  id: number;
  sourceId: string;
  errorCode: string;
  attempts: number;
  resolvedAt: string | null;
};

async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const failedRow = (account: string, sourceId: string) =>
  rows<{ attempts: number; resolved: boolean; error_code: string }>(
    sql`select attempts, resolved_at is not null as resolved, error_code from failed_records
        where account_id = ${account} and source_id = ${sourceId}`,
  );

describe("failed records: list and replay", () => {
  it("a poison record lands in failed_records while its batch-mates land; fixed and replayed it lands exactly once", async () => {
    const account = await newAccount();
    const conn = uniqueId("con");
    await transform(account, conn, "run1", [
      person(1, "2024-02-01T00:00:00Z", "Mate"),
      { ...person(2, "yesterday-ish", "Poison") },
      person(3, "2024-02-01T00:00:00Z", "Mate"),
    ]);
    expect(
      await rows(sql`select source_id::int as id from fub_people where account_id = ${account} order by 1`),
    ).toEqual([{ id: 1 }, { id: 3 }]);
    const listed = await (await call("GET", `/admin/accounts/${account}/failed`)).json<{ items: Failed[] }>();
    expect(listed.items).toMatchObject([
      { sourceId: "2", errorCode: "validation_failed", attempts: 1, resolvedAt: null },
    ]);

    // The cause is fixed (an operator corrects the stored payload), then replay, twice in a row.
    await withTestDb((db) =>
      db.execute(sql`update failed_records set payload = ${JSON.stringify(person(2, "2024-02-02T00:00:00Z", "Fixed"))}::jsonb
                     where account_id = ${account} and source_id = '2'`),
    );
    const first = await call("POST", `/admin/accounts/${account}/failed/replay`, {});
    expect(first.status).toBe(202);
    const firstBody = await first.json<{ runId: string; records: number; messages: number }>();
    expect(firstBody).toMatchObject({ records: 1, messages: 1 });
    expect(firstBody.runId).toMatch(/^replay:[0-9a-f-]{36}$/);
    const second = await (await call("POST", `/admin/accounts/${account}/failed/replay`, {})).json<{
      runId: string;
    }>();
    expect(second.runId).not.toBe(firstBody.runId);

    // The real queue delivers the replay's messages to the consumer.
    const resolved = await waitFor(
      () => failedRow(account, "2"),
      (r) => r[0]?.resolved === true,
    );
    expect(resolved).toEqual([{ attempts: 1, resolved: true, error_code: "validation_failed" }]);
    await waitFor(
      () => rows(sql`select 1 from stage_records where account_id = ${account} and done_at is null`),
      (r) => r.length === 0,
    );
    expect(
      await rows(
        sql`select source_id::int as id, first_name from fub_people where account_id = ${account} order by 1`,
      ),
    ).toEqual([
      { id: 1, first_name: "Mate" },
      { id: 2, first_name: "Fixed" },
      { id: 3, first_name: "Mate" },
    ]);
    expect(
      await rows(sql`select 1 from contacts where account_id = ${account} and source_id = '2'`),
    ).toHaveLength(1);
    // Nothing open is left, so a third replay has nothing to do.
    expect(await (await call("POST", `/admin/accounts/${account}/failed/replay`, {})).json()).toMatchObject({
      records: 0,
      messages: 0,
    });
    const resolvedList = await (await call("GET", `/admin/accounts/${account}/failed?status=resolved`)).json<{
      items: Failed[];
    }>();
    expect(resolvedList.items.map((i) => i.sourceId)).toEqual(["2"]);
  });

  it("a still-bad record stays failed with attempts + 1 after replay", async () => {
    const account = await newAccount();
    const conn = uniqueId("con");
    await transform(account, conn, "run1", [{ ...person(7, "never", "StillBad") }]);
    const res = await call("POST", `/admin/accounts/${account}/failed/replay`, { entity: "people" });
    expect(await res.json()).toMatchObject({ records: 1 });
    const row = await waitFor(
      () => failedRow(account, "7"),
      (r) => (r[0]?.attempts ?? 0) >= 2,
    );
    expect(row).toEqual([{ attempts: 2, resolved: false, error_code: "validation_failed" }]);
    expect(await rows(sql`select 1 from fub_people where account_id = ${account}`)).toEqual([]);
  });

  it("lists with filters and keyset pages", async () => {
    const account = await newAccount();
    const conn = uniqueId("con");
    await transform(
      account,
      conn,
      "run1",
      [1, 2, 3, 4, 5].map((i) => ({ ...person(i, "bad", "x") })),
    );
    await transform(account, conn, "run2", [{ id: 6, updated: "2024-01-01T00:00:00Z" }], "nosuchentity");
    const seen: Failed[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `limit=2&entity=people${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await call("GET", `/admin/accounts/${account}/failed?${query}`);
      expect(res.status).toBe(200);
      const page = await res.json<{ items: Failed[]; nextCursor: string | null }>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((s) => s.sourceId)).toEqual(["1", "2", "3", "4", "5"]);

    const byCode = await (
      await call("GET", `/admin/accounts/${account}/failed?errorCode=unknown_entity`)
    ).json<{ items: Failed[] }>();
    expect(byCode.items.map((i) => i.sourceId)).toEqual(["6"]);
    const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    const past = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    expect(
      (
        await (
          await call("GET", `/admin/accounts/${account}/failed?from=${future}`)
        ).json<{ items: Failed[] }>()
      ).items,
    ).toEqual([]);
    expect(
      (
        await (
          await call("GET", `/admin/accounts/${account}/failed?from=${past}&to=${future}`)
        ).json<{ items: Failed[] }>()
      ).items,
    ).toHaveLength(6);
    // Another account sees none of them.
    const other = await newAccount();
    expect(
      (await (await call("GET", `/admin/accounts/${other}/failed`)).json<{ items: Failed[] }>()).items,
    ).toEqual([]);
  });

  it("rejects bad requests with 4xx JSON errors and changes nothing", async () => {
    const account = await newAccount();
    const cases: [Response, number, string][] = [
      [await call("GET", `/admin/accounts/${account}/failed`, undefined, {}), 401, "unauthorized"],
      [await call("GET", `/admin/accounts/${account}/failed?cursor=nope`), 400, "invalid_cursor"],
      [await call("GET", `/admin/accounts/${account}/failed?limit=100000`), 400, "invalid_request"],
      [await call("GET", `/admin/accounts/${account}/failed?from=yesterday`), 400, "invalid_request"],
      [await call("GET", `/admin/accounts/${uniqueId("acc")}/failed`), 404, "account_not_found"],
      [await call("POST", `/admin/accounts/${account}/failed/replay`), 415, "unsupported_media_type"],
      [await call("POST", `/admin/accounts/${account}/failed/replay`, { bogus: 1 }), 400, "invalid_request"],
      [await call("POST", `/admin/accounts/${account}/deletes/nope/confirm`, {}), 404, "no_pending_deletes"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
    expect(await rows(sql`select 1 from stage_records where account_id = ${account}`)).toEqual([]);
  });
});

describe("deletes awaiting confirmation", () => {
  async function heldRun(account: string, conn: string, runId: string) {
    await transform(
      account,
      conn,
      `seed-${runId}`,
      Array.from({ length: 10 }, (_, i) => person(i + 1, "2024-02-01T00:00:00Z", `P${i + 1}`)),
    );
    await withTestDb((db) =>
      stagePage(
        db,
        { accountId: account, connectionId: conn, provider: "fub", entity: "people", runId, pageNo: 0 },
        [1, 2, 3, 4, 5].map((i) => ({
          sourceId: String(i),
          op: "upsert",
          payload: person(i, "2024-02-01T00:00:00Z", `P${i}`),
        })),
      ),
    );
    const result = await withTestDb((db) =>
      completeRun(db, {
        accountId: account,
        connectionId: conn,
        provider: "fub",
        entity: "people",
        runId,
        mode: "onboarding",
      }),
    );
    expect(result).toEqual({ status: "awaiting_confirmation", deletes: 5 });
  }

  const deleted = (account: string) =>
    rows<{ id: number }>(
      sql`select source_id::int as id from fub_people where account_id = ${account} and deleted_at is not null order by 1`,
    );

  it("an operator confirms: the deletes apply to the entity and its unified rows", async () => {
    const account = await newAccount();
    const conn = uniqueId("con");
    await heldRun(account, conn, "scan-a");
    expect(await deleted(account)).toEqual([]);
    const held = await (await call("GET", `/admin/accounts/${account}/deletes`)).json<{ items: unknown[] }>();
    expect(held.items).toMatchObject([
      {
        runId: "scan-a",
        connectionId: conn,
        entity: "people",
        mode: "onboarding",
        deletes: 5,
        liveRows: 10,
        status: "pending",
      },
    ]);
    const res = await call("POST", `/admin/accounts/${account}/deletes/scan-a/confirm`, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      runId: "scan-a",
      status: "confirmed",
      entities: ["people"],
      deletes: 5,
    });
    expect(await deleted(account)).toEqual([{ id: 6 }, { id: 7 }, { id: 8 }, { id: 9 }, { id: 10 }]);
    expect(
      await rows(
        sql`select count(*)::int as n from contacts where account_id = ${account} and deleted_at is not null`,
      ),
    ).toEqual([{ n: 5 }]);
    expect(
      (await (await call("GET", `/admin/accounts/${account}/deletes`)).json<{ items: unknown[] }>()).items,
    ).toEqual([]);
    expect(
      (
        await (
          await call("GET", `/admin/accounts/${account}/deletes?status=confirmed`)
        ).json<{ items: unknown[] }>()
      ).items,
    ).toHaveLength(1);
    expect((await call("GET", `/admin/accounts/${account}/deletes?status=maybe`)).status).toBe(400);
    // Decided once: a second decision finds nothing pending.
    expect((await call("POST", `/admin/accounts/${account}/deletes/scan-a/reject`, {})).status).toBe(404);
  });

  it("an operator rejects: nothing is deleted", async () => {
    const account = await newAccount();
    const conn = uniqueId("con");
    await heldRun(account, conn, "scan-b");
    const res = await call("POST", `/admin/accounts/${account}/deletes/scan-b/reject`, {});
    expect(await res.json()).toEqual({
      runId: "scan-b",
      status: "rejected",
      entities: ["people"],
      deletes: 0,
    });
    expect(await deleted(account)).toEqual([]);
    expect(await rows(sql`select status from pending_deletes where account_id = ${account}`)).toEqual([
      { status: "rejected" },
    ]);
  });
});

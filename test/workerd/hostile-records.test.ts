// No record's bytes wedge a page: what Postgres can't hold is staged in the storable encoding, decoded by
// the transform, and either stored faithfully or isolated in failed_records with its reason.
import { runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { runSyncStep } from "../../durable-objects/sync-runner";
import { getSyncState, putSyncState } from "../../durable-objects/sync-state";
import { connectorFor } from "../../src/connectors/registry";
import { asWrapper, decodeStorable } from "../../src/core/storable";
import { transformBatch } from "../../src/pipeline/batch";
import { deadLetterPages } from "../../src/pipeline/dead-letter";
import type { TransformMessage } from "../../src/pipeline/messages";
import { reannounceStalePages } from "../../src/pipeline/reannounce";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "../support/db";
import { freshRun, fubAccount, stepDeps, stubFor } from "./account-sync-fixtures";

const person = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated: "2024-02-01T00:00:00Z",
  firstName: `P${id}`,
  lastName: "Doe",
  ...extra,
});

const deep = (n: number): unknown => JSON.parse("[".repeat(n) + "]".repeat(n));

type FailedRow = { source_id: string; error_code: string; error_message: string; payload: unknown };

const failedOf = (account: string) =>
  rows<FailedRow>(sql`
    select source_id, error_code, error_message, payload from failed_records
    where account_id = ${account} order by source_id`);

async function stageAndTransform(
  account: string,
  conn: string,
  records: unknown[],
  sourceIds?: (string | null)[],
) {
  const key = {
    accountId: account,
    connectionId: conn,
    provider: "fub",
    entity: "people",
    runId: "run1",
    pageNo: 0,
  };
  const staged = await withTestDb((db) =>
    stagePage(
      db,
      key,
      records.map((payload, i) => ({
        sourceId: sourceIds ? (sourceIds[i] ?? null) : String((payload as { id: unknown }).id),
        op: "upsert" as const,
        payload,
      })),
    ),
  );
  const message: TransformMessage = { v: 1, ...key, records: records.length };
  const outcomes = await withTestDb((db) => transformBatch(db, [message], connectorFor));
  return { staged, outcomes, message };
}

describe("hostile records", () => {
  it("a sync step stages a page holding NUL and a lone surrogate; its cursor advances; the two are isolated, the rest land", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 150 } } });
    const run = freshRun(connectionId);
    const hostileIds: number[] = [];
    const sent: TransformMessage[] = [];
    const out = await runInDurableObject(stubFor(accountId), async (_i, ctx) => {
      putSyncState(ctx.storage.sql, run);
      const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
        pagesPerStep: 100,
        queue: {
          send: async () => {},
          sendBatch: async (msgs: Iterable<MessageSendRequest<TransformMessage>>) => {
            for (const m of msgs) sent.push(m.body);
          },
        } as unknown as Queue<TransformMessage>,
        // The provider's first page carries the two hostile strings, as JSON escapes on the wire.
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          const body = (await response.json()) as { people?: Record<string, unknown>[] };
          const first = body.people?.[3];
          const second = body.people?.[7];
          if (first && second && hostileIds.length === 0) {
            first.firstName = "Ann\u0000e";
            second.lastName = "Lee\udc00";
            hostileIds.push(Number(first.id), Number(second.id));
          }
          return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
        },
      });
      try {
        const outcome = await runSyncStep(deps, "people");
        return { outcome, state: getSyncState(ctx.storage.sql, connectionId, "people") };
      } finally {
        await close();
      }
    });
    expect(hostileIds).toHaveLength(2);
    expect(out.outcome.kind).toBe("completed");
    expect(out.state).toMatchObject({ status: "COMPLETED", runRecords: 150 });
    expect(out.state?.cursor).not.toBeNull();

    const outcomes = await withTestDb((db) => transformBatch(db, sent, connectorFor));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const [landed] = await rows<{ n: number; hostile: number }>(sql`
      select count(*)::int as n,
             count(*) filter (where source_id = any(${`{${hostileIds.join(",")}}`}::bigint[]))::int as hostile
      from fub_people where account_id = ${accountId}`);
    expect(landed).toEqual({ n: 148, hostile: 0 });
    const failed = await failedOf(accountId);
    expect(failed.map((f) => [Number(f.source_id), f.error_code]).sort()).toEqual(
      hostileIds.map((id) => [id, "unstorable_value"]).sort(),
    );
    const nul = failed.find((f) => Number(f.source_id) === hostileIds[0]) as FailedRow;
    const lone = failed.find((f) => Number(f.source_id) === hostileIds[1]) as FailedRow;
    expect(nul.error_message).toBe("fub_people.first_name holds a NUL character");
    expect(lone.error_message).toBe("fub_people.last_name holds a lone UTF-16 surrogate");
    // The payload is kept in the encoding and decodes to exactly what the provider sent.
    expect(asWrapper(nul.payload)?.reason).toBe("nul");
    expect((decodeStorable(nul.payload) as { firstName: string }).firstName).toBe("Ann\u0000e");
    expect((decodeStorable(lone.payload) as { lastName: string }).lastName).toBe("Lee\udc00");
  });

  it("the transform alone: every kind of hostile content is stored faithfully or isolated with its reason", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const big = "x".repeat(3_000_000);
    const records = [
      person(1),
      person(2, { firstName: "tab\tbell\u0007esc\u001bdel\u007f", lastName: "😀🏠 Zoë" }),
      person(3, { lastName: big }),
      person(4, { customDeep: deep(9_999) }), // the record nests 10,000 levels
      person(9, { customDeeper: deep(30_000) }),
      person(5, { custom: { note: "hidden\u0000nul" } }),
      person(6, { firstName: "a\ud800b" }),
      person(7, { $unstorable: "provider field", reason: "nul" }),
      person(8, { price: 1e300, customBig: 1.2345678901234568e29 }),
      { ...person(0), id: 2 ** 53 + 2 },
      { ...person(0), id: 2 ** 31 },
      { ...person(0), id: "9\u0000" },
    ];
    const { staged, outcomes } = await stageAndTransform(account, conn, records);
    expect(staged).toBe(records.length);
    expect(outcomes).toEqual([{ ok: true }]);

    const landed = await rows<{
      source_id: string;
      first_name: string;
      last_name: string;
      len: number;
      raw: Record<string, unknown>;
    }>(sql`
      select source_id::text, first_name, last_name, length(last_name) as len,
             case when source_id in (7, 8) then raw end as raw
      from fub_people where account_id = ${account} order by source_id`);
    const byId = new Map(landed.map((r) => [Number(r.source_id), r]));
    expect(byId.get(2)).toMatchObject({
      first_name: "tab\tbell\u0007esc\u001bdel\u007f",
      last_name: "😀🏠 Zoë",
    });
    expect(byId.get(3)?.len).toBe(big.length);
    expect(byId.get(7)?.raw).toMatchObject({ $unstorable: "provider field", reason: "nul" });
    expect(byId.get(8)?.raw).toMatchObject({ price: 1e300, customBig: 1.2345678901234568e29 });

    const failed = new Map((await failedOf(account)).map((f) => [f.source_id, f]));
    // 10,000 levels are stored as they came (workerd's JSON.stringify and Postgres's jsonb both take them);
    // 30,000 are beyond Postgres: its page's statement is refused, the page is encoded again with depth
    // checked, and the record is isolated. Numbers beyond 2^53 are doubles from the parse on.
    expect(failed.has("4")).toBe(false);
    const [deepRaw] = await rows<{ len: number }>(sql`
      select length((raw -> 'customDeep')::text) as len from fub_people
      where account_id = ${account} and source_id = 4`);
    expect(deepRaw?.len).toBe(19_998);
    expect(failed.get("9")).toMatchObject({
      error_code: "unstorable_value",
      error_message: "the record nests deeper than 12000 levels",
    });
    expect(asWrapper(failed.get("9")?.payload)?.reason).toBe("too_deep");
    expect(failed.get("5")).toMatchObject({
      error_code: "unstorable_value",
      error_message: "fub_people.raw.custom.note holds a NUL character",
    });
    expect(failed.get("6")).toMatchObject({ error_code: "unstorable_value" });
    expect(failed.get(String(2 ** 53 + 2))?.error_code).toBe("validation_failed");
    expect(failed.get(String(2 ** 31))?.error_code).toBe("validation_failed");
    // An id Postgres can't hold is not used as one: the failure is filed under its staged row.
    const stagedNul = [...failed.entries()].find(([k]) => k.startsWith("stage:"));
    expect(stagedNul?.[1].error_code).toBe("validation_failed");
    expect(failed.size + landed.length).toBe(records.length);
    for (const f of failed.values()) {
      expect(f.error_message).not.toContain("\u0000");
      expect(f.error_message).not.toContain("hidden");
    }
    expect(
      (
        await rows<{ n: number }>(sql`
        select count(*)::int as n from stage_records where account_id = ${account} and done_at is null`)
      )[0]?.n,
    ).toBe(0);
  });

  it("a staged row Postgres refuses at write time (staged before the encoding existed) is parked, not retried forever", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const key = {
      accountId: account,
      connectionId: conn,
      provider: "fub",
      entity: "people",
      runId: "old",
      pageNo: 0,
    };
    await withTestDb((db) => stagePage(db, key, [{ sourceId: "1", op: "upsert", payload: person(1) }]));
    // The json column holds the escape as text; every jsonb cast of it fails.
    await withTestDb((db) =>
      db.execute(sql`
        insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id, op, payload)
        values (${account}, ${conn}, 'fub', 'people', 'old', 0, 1, '2', 'upsert',
                ${'{"id":2,"created":"2024-01-01T00:00:00Z","updated":"2024-02-01T00:00:00Z","firstName":"a\\u0000"}'}::json)`),
    );
    const outcomes = await withTestDb((db) =>
      transformBatch(db, [{ v: 1, ...key, records: 2 }], connectorFor),
    );
    expect(outcomes).toEqual([{ ok: true }]);
    const failed = await failedOf(account);
    expect(failed.map((f) => [f.source_id, f.error_code])).toEqual([["2", "write_failed"]]);
    expect((decodeStorable(failed[0]?.payload) as { firstName: string }).firstName).toBe("a\u0000");
    expect(
      (
        await rows<{ n: number }>(
          sql`select count(*)::int as n from fub_people where account_id = ${account}`,
        )
      )[0]?.n,
    ).toBe(1);

    // The dead-letter path reads the same bytes the same way.
    await withTestDb((db) =>
      db.execute(sql`
        insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, source_id, op, payload)
        values (${account}, ${conn}, 'fub', 'people', 'old', 1, 0, '3', 'upsert', ${'{"id":3,"x":"\\udc00"}'}::json)`),
    );
    expect(await withTestDb((db) => deadLetterPages(db, [{ v: 1, ...key, pageNo: 1, records: 1 }]))).toBe(1);
    const dead = (await failedOf(account)).find((f) => f.source_id === "3");
    expect(dead?.error_code).toBe("dead_lettered");
    expect(asWrapper(dead?.payload)?.reason).toBe("lone_surrogate");
  });

  it("re-announcing is bounded: a page stranded past its announcements is parked, a younger one is announced", async () => {
    const account = uniqueId("acc");
    const conn = uniqueId("con");
    const base = {
      accountId: account,
      connectionId: conn,
      provider: "fub",
      entity: "people",
      runId: "stuck",
    };
    await withTestDb(async (db) => {
      await stagePage(db, { ...base, pageNo: 0 }, [{ sourceId: "1", op: "upsert", payload: person(1) }]);
      await stagePage(db, { ...base, pageNo: 1 }, [{ sourceId: "2", op: "upsert", payload: person(2) }]);
      await db.execute(sql`
        update stage_pending_pages set staged_at = now() - case page_no when 0 then interval '3 hours'
                                                                         else interval '20 minutes' end
        where account_id = ${account}`);
    });
    const announced: TransformMessage[] = [];
    const queue = {
      sendBatch: async (msgs: Iterable<MessageSendRequest<TransformMessage>>) => {
        for (const m of msgs) announced.push(m.body);
      },
    } as unknown as Queue<TransformMessage>;
    const result = await withTestDb((db) =>
      reannounceStalePages(db, queue, { olderThanMinutes: 15, accountIds: [account] }),
    );
    expect(result).toEqual({ pages: 1, parked: 1 });
    expect(announced.map((m) => m.pageNo)).toEqual([1]);
    const failed = await failedOf(account);
    expect(failed.map((f) => [f.source_id, f.error_code])).toEqual([["1", "reannounce_exhausted"]]);
    const markers = await rows<{ page_no: number }>(
      sql`select page_no from stage_pending_pages where account_id = ${account} order by page_no`,
    );
    expect(markers).toEqual([{ page_no: 1 }]);
    // Parked is final for the sweep: the next one announces only the younger page again.
    announced.length = 0;
    await withTestDb((db) =>
      reannounceStalePages(db, queue, { olderThanMinutes: 15, accountIds: [account] }),
    );
    expect(announced.map((m) => m.pageNo)).toEqual([1]);
  });
});

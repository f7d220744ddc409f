import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { authenticate, authHeaders } from "../../src/connectors/auth";
import { parsePage, recordsOfOne } from "../../src/connectors/paging";
import { connectorFor } from "../../src/connectors/registry";
import type { AuthSource, AuthSpec, EntityDef, PagingSpec } from "../../src/connectors/types";
import { initialRateBudgetState, resetAtMs, takeToken } from "../../src/core/rate-budget";
import { fubPeople } from "../../src/db/schema";
import { transformPages } from "../../src/pipeline/consumer";
import { completeRun } from "../../src/pipeline/run-completion";
import { stagePage } from "../../src/pipeline/staging";
import { scanIntervalMinutes } from "../../src/sync/scan-cadence";
import { rows, uniqueId, withTestDb } from "../support/db";

// Engine capabilities for providers without an updated filter or webhook signatures, each on its own:
// alternative names of a scroll token, a short last page, a wrapped single record, a personal key beside an
// OAuth bearer, fixed headers, a reset header of uncertain unit, idle reserves lent whole, and complete-scan
// absences confirmed with the provider before they delete.

const things: EntityDef = {
  name: "things",
  listPath: "/things",
  collectionKey: "things",
  recordKey: "thing",
  idField: "id",
  incremental: { param: null, cursorField: "id" },
  schema: undefined as never,
  coreTable: fubPeople,
  deleteTargets: () => [],
  sourceIdOf: (r) => String((r as { id: number }).id),
  cursorOf: () => null,
  toCore: () => [],
};

const scroll: PagingSpec = {
  style: "keyset-next",
  pageSize: 3,
  limitParam: "limit",
  nextParam: "scrollId",
  nextPath: ["_meta.scrollId", "meta_old.scrollId"],
  totalPath: ["_meta.total", "meta_old.total"],
  lastOnShort: true,
};

describe("provider capabilities", () => {
  it("a scroll token under either name; a short or empty page ends the list whatever token it carries", () => {
    const url = "https://p.example/things?limit=3";
    const a = parsePage(scroll, { _meta: { scrollId: "t1", total: 7 }, things: [1, 2, 3] }, things, url);
    expect(a).toEqual({
      records: [1, 2, 3],
      nextUrl: "https://p.example/things?limit=3&scrollId=t1",
      total: 7,
    });
    const b = parsePage(
      scroll,
      { meta_old: { scrollId: "t2", total: 7 }, things: [4, 5, 6] },
      things,
      a.nextUrl as string,
    );
    expect(b.nextUrl).toBe("https://p.example/things?limit=3&scrollId=t2");
    expect(parsePage(scroll, { _meta: { scrollId: "t3" }, things: [7] }, things, url).nextUrl).toBeNull();
    expect(parsePage(scroll, { _meta: { scrollId: "t4" }, things: [] }, things, url).nextUrl).toBeNull();
    // Without lastOnShort a keyset list goes on while there is a token.
    const plain = { ...scroll, lastOnShort: undefined } as PagingSpec;
    expect(parsePage(plain, { _meta: { scrollId: "t5" }, things: [7] }, things, url).nextUrl).not.toBeNull();
  });

  it("a single record wrapped under recordKey, or bare", () => {
    expect(recordsOfOne({ thing: { id: 1 } }, things)).toEqual([{ id: 1 }]);
    expect(recordsOfOne({ id: 2 }, things)).toEqual([{ id: 2 }]);
  });

  it("a personal key instead of an OAuth bearer, and fixed headers on every call", async () => {
    const spec: AuthSpec = {
      kind: "bearer",
      tokenField: "accessToken",
      keyAlternative: { header: "Authorization", keyField: "apiKey", prefix: "token" },
      oauth: { authorizeUrl: "https://p/a", tokenUrl: "https://p/t", clientAuth: "basic", scopes: [] },
      fixedHeaders: { "Content-Type": "application/json" },
    };
    const source: AuthSource = { accessToken: async () => "fresh", session: async () => "" };
    expect(await authenticate(spec, { apiKey: "k" }, source)).toEqual({
      headers: { Authorization: "token k", "Content-Type": "application/json" },
      secret: null,
    });
    expect(await authenticate(spec, { refreshToken: "r" }, source)).toEqual({
      headers: { Authorization: "Bearer fresh", "Content-Type": "application/json" },
      secret: "fresh",
    });
    expect(authHeaders({ kind: "apiKeyBasic", keyField: "k", fixedHeaders: { X: "1" } }, { k: "v" })).toEqual(
      {
        Authorization: `Basic ${btoa("v:")}`,
        X: "1",
      },
    );
  });

  it("X-RateLimit-Reset in an uncertain unit: seconds left, epoch seconds, epoch ms", () => {
    const now = 1_800_000_000_000;
    expect(resetAtMs(30, "auto", now)).toBe(now + 30_000);
    expect(resetAtMs(1_800_000_030, "auto", now)).toBe(1_800_000_030_000);
    expect(resetAtMs(1_800_000_030_000, "auto", now)).toBe(1_800_000_030_000);
    // The declared default reads the milliseconds as epoch seconds: far away, clamped by the caller.
    expect(resetAtMs(1_800_000_030_000, "seconds", now)).toBeGreaterThan(now + 1e12);
  });

  it("idle reserves are kept a slot each by default, lent whole with keepIdleSlot: false", () => {
    const take = (keepIdleSlot?: boolean) => {
      const reserve = { webhook: 0.05, delta: 0.05, ...(keepIdleSlot === undefined ? {} : { keepIdleSlot }) };
      let s = initialRateBudgetState();
      let granted = 0;
      for (let i = 0; i < 20; i++) {
        const r = takeToken(s, { limit: 10, windowMs: 60_000, reserve }, 1_000 + i, "backfill");
        s = r.state;
        if (r.granted) granted++;
      }
      return granted;
    };
    expect(take()).toBe(8);
    expect(take(false)).toBe(10);
  });

  it("the cadence of complete scans follows their cost against the rate budget", () => {
    // 1,000 leads at 25 a page on a 10-a-minute key: 40 requests at half the budget = 8 min, so the default 15.
    expect(scanIntervalMinutes({ requests: 40, limit: 10, windowMs: 60_000 })).toBe(15);
    // 10,000 leads: 400 requests = 80 min at 10 a minute, 2 min (so 15) at 500.
    expect(scanIntervalMinutes({ requests: 400, limit: 10, windowMs: 60_000 })).toBe(80);
    expect(scanIntervalMinutes({ requests: 400, limit: 500, windowMs: 60_000 })).toBe(15);
    // A 10 s window counts per minute too; beyond a week it stops growing.
    expect(scanIntervalMinutes({ requests: 12_000, limit: 20, windowMs: 10_000 })).toBe(200);
    expect(scanIntervalMinutes({ requests: 10_000_000, limit: 10, windowMs: 60_000 })).toBe(7 * 24 * 60);
  });

  it("complete-scan absences are deleted only when the provider confirms them gone", async () => {
    const ctx = { account: uniqueId("acc"), conn: uniqueId("con") };
    const person = (id: number) => ({
      id,
      created: "2024-01-01T00:00:00Z",
      updated: "2024-02-01T00:00:00Z",
      firstName: `P${id}`,
    });
    const scan = async (runId: string, ids: number[]) => {
      const key = {
        accountId: ctx.account,
        connectionId: ctx.conn,
        provider: "fub",
        entity: "people",
        runId,
        pageNo: 0,
      };
      await withTestDb((db) =>
        stagePage(
          db,
          key,
          ids.map((id) => ({ sourceId: String(id), op: "upsert" as const, payload: person(id) })),
        ),
      );
      await withTestDb((db) => transformPages(db, [{ v: 1, ...key, records: ids.length }], connectorFor));
    };
    await scan("r1", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const run = {
      accountId: ctx.account,
      connectionId: ctx.conn,
      provider: "fub",
      entity: "people",
      mode: "delta" as const,
      fullScan: true,
    };
    await withTestDb((db) => completeRun(db, { ...run, runId: "r1" }));
    // The second scan misses 2 and 3; the provider still serves 2 (it only moved), 3 is gone.
    await scan("r2", [1, 4, 5, 6, 7, 8, 9, 10]);
    const asked: string[][] = [];
    // Counts the transactions completion holds open: none may be open while the provider is asked.
    let open = 0;
    const openDuringChecks: number[] = [];
    const result = await withTestDb((db) => {
      const counted = new Proxy(db, {
        get(target, key, receiver) {
          if (key !== "transaction") return Reflect.get(target, key, receiver);
          return async (fn: (tx: unknown) => Promise<unknown>) => {
            open++;
            try {
              return await target.transaction(fn as never);
            } finally {
              open--;
            }
          };
        },
      });
      return completeRun(
        counted,
        { ...run, runId: "r2" },
        {
          confirmAbsent: async (ids) => {
            openDuringChecks.push(open);
            asked.push([...ids].sort());
            return new Set(ids.filter((id) => id === "3"));
          },
        },
      );
    });
    expect(asked).toEqual([["2", "3"]]);
    expect(openDuringChecks).toEqual([0]);
    expect(result).toEqual({ status: "applied", deletes: 1 });
    const deleted = await rows<{ source_id: string }>(
      sql`select source_id::text from fub_people where account_id = ${ctx.account} and deleted_at is not null`,
    );
    expect(deleted.map((r) => r.source_id)).toEqual(["3"]);
  });
});

// The simulator's hostile records, as FUB would serve them, through staging and the transform for entities of
// every mapping shape: what Postgres can hold lands whole, the rest is parked with its reason, nothing retries.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { parseJsonExact } from "../../src/core/exact-json";
import { transformBatch } from "../../src/pipeline/batch";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePage } from "../../src/pipeline/staging";
import { createSimulator } from "../../tools/simulator/app";
import { rows, uniqueId, withTestDb } from "../support/db";
import { canonical } from "../support/hostile";

const PARKED: Record<string, string> = {
  nul: "unstorable_value",
  surrogate: "unstorable_value",
  bigId: "validation_failed",
};

describe("hostile records from the simulator", () => {
  for (const [entity, table] of [
    ["people", "fub_people"],
    ["deals", "fub_deals"],
    ["calls", "fub_calls"],
  ] as const) {
    it(`${entity}: every kind is stored whole or parked with its reason in one transform`, async () => {
      const sim = createSimulator({ baseUrl: "http://sim.test" });
      sim.putTenant("k", { seed: 7, systemKey: "sk", counts: { people: 20, deals: 10, calls: 10 } });
      const made = sim.mutate("k", { entity, hostile: 8 });
      const res = await sim.app.request(
        `/v1/${entity}?id=${made.created.join(",")}&limit=100&includeTrash=true&includeArchived=true&includeDeleted=true`,
        { headers: { Authorization: `Basic ${btoa("k:")}`, "X-System": "s", "X-System-Key": "sk" } },
      );
      // Parsed as the account's object parses a provider page.
      const records = (parseJsonExact(await res.text()) as Record<string, unknown[]>)[entity] ?? [];
      expect(records).toHaveLength(8);
      const account = uniqueId("acc");
      const key = {
        accountId: account,
        connectionId: uniqueId("con"),
        provider: "fub",
        entity,
        runId: "r",
        pageNo: 0,
      };
      const def = connectorFor("fub").entities[entity];
      await withTestDb((db) =>
        stagePage(
          db,
          key,
          records.map((payload) => ({
            sourceId: def?.sourceIdOf(payload) ?? null,
            op: "upsert" as const,
            payload,
          })),
        ),
      );
      const message: TransformMessage = { v: 1, ...key, records: records.length };
      expect(await withTestDb((db) => transformBatch(db, [message], connectorFor))).toEqual([{ ok: true }]);

      const failed = new Map(
        (
          await rows<{ source_id: string; error_code: string }>(
            sql`select source_id, error_code from failed_records where account_id = ${account}`,
          )
        ).map((f) => [f.source_id, f.error_code]),
      );
      const stored = new Set(
        (
          await rows<{ id: string }>(
            sql`select source_id::text as id from ${sql.raw(table)} where account_id = ${account}`,
          )
        ).map((r) => r.id),
      );
      for (const h of made.hostile) {
        const id = String(h.id);
        if (PARKED[h.kind]) expect(failed.get(id), `${h.kind} parked`).toBe(PARKED[h.kind]);
        else expect(stored.has(id), `${h.kind} stored`).toBe(true);
      }
      // What is stored is stored as served: the raw record equals the provider's, key for key.
      const served = new Map(records.map((r) => [String((r as { id: unknown }).id), r]));
      const raws = await rows<{ id: string; raw: string }>(
        sql`select source_id::text as id, raw::text as raw from ${sql.raw(table)} where account_id = ${account}`,
      );
      for (const r of raws) {
        const kind = made.hostile.find((h) => String(h.id) === r.id)?.kind;
        expect(canonical(JSON.parse(r.raw)), `${kind} raw`).toBe(canonical(served.get(r.id)));
      }
      // Numbers a double can't hold keep their exact digits (as JSON strings), never rounded or nulled.
      const bignum = made.hostile.find((h) => h.kind === "bignum");
      const [numbers] = await rows<{ v: string }>(sql`
        select (raw -> 'extraNumbers')::text as v from ${sql.raw(table)}
        where account_id = ${account} and source_id = ${bignum?.id}`);
      expect(JSON.parse(numbers?.v ?? "null")).toEqual([
        "9007199254740993",
        "18446744073709551617",
        "-123456789012345678901234567890",
        "1e400",
      ]);
      // The 10,000-deep field is kept whole: as deep in core as it came.
      const deep = made.hostile.find((h) => h.kind === "deep");
      const [depth] = await rows<{ len: number }>(sql`
        select length((raw -> 'extraNested')::text) as len from ${sql.raw(table)}
        where account_id = ${account} and source_id = ${deep?.id}`);
      expect(depth?.len).toBe(20_001);
    });
  }
});

// The simulator's hostile records, as FUB would serve them, through staging and the transform for entities of
// every mapping shape: what Postgres can hold lands whole, the rest is parked with its reason, nothing retries.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { transformBatch } from "../../src/pipeline/batch";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePage } from "../../src/pipeline/staging";
import { createSimulator } from "../../tools/simulator/app";
import { rows, uniqueId, withTestDb } from "../support/db";

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
      const records = ((await res.json()) as Record<string, unknown[]>)[entity] ?? [];
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
      // The 10,000-deep field is kept whole: as deep in core as it came.
      const deep = made.hostile.find((h) => h.kind === "deep");
      const [depth] = await rows<{ len: number }>(sql`
        select length((raw -> 'extraNested')::text) as len from ${sql.raw(table)}
        where account_id = ${account} and source_id = ${deep?.id}`);
      expect(depth?.len).toBe(20_001);
    });
  }
});

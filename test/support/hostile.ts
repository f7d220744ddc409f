// Staging a provider page exactly as the account's object does and transforming it in one batch: the path a
// simulator's hostile records take from the wire into core tables or failed_records.
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { parseJsonExact } from "../../src/core/exact-json";
import { stringifyIteratively } from "../../src/core/storable";
import { transformBatch } from "../../src/pipeline/batch";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePage } from "../../src/pipeline/staging";
import { rows, uniqueId, withTestDb } from "./db";

/** A response body parsed as the account's object parses a provider page (lossy numbers kept as digits). */
export async function pageBody(res: Response): Promise<unknown> {
  expect(res.status).toBe(200);
  return parseJsonExact(await res.text());
}

export type Transformed = {
  accountId: string;
  connectionId: string;
  /** failed_records of the account by source id: error code and message. */
  failed: Map<string, { code: string; message: string }>;
};

/**
 * Stages the records as one page of the entity (source ids read as the engine reads them), transforms it in
 * one batch and asserts the batch succeeded: nothing is left to retry.
 */
export async function stageAndTransform(
  provider: string,
  entity: string,
  records: unknown[],
  ids: { accountId?: string; connectionId?: string } = {},
): Promise<Transformed> {
  const accountId = ids.accountId ?? uniqueId("acc");
  const connectionId = ids.connectionId ?? uniqueId("con");
  const key = { accountId, connectionId, provider, entity, runId: uniqueId("run"), pageNo: 0 };
  const def = connectorFor(provider).entities[entity];
  if (!def) throw new Error(`${provider} has no entity ${entity}`);
  await withTestDb((db) =>
    stagePage(
      db,
      key,
      records.map((payload) => ({ sourceId: def.sourceIdOf(payload), op: "upsert" as const, payload })),
    ),
  );
  const message: TransformMessage = { v: 1, ...key, records: records.length };
  expect(await withTestDb((db) => transformBatch(db, [message], connectorFor))).toEqual([{ ok: true }]);
  const failed = await rows<{ source_id: string; error_code: string; error_message: string }>(
    sql`select source_id, error_code, error_message from failed_records where account_id = ${accountId}`,
  );
  for (const f of failed) {
    // A reason, never the payload: no NUL, no megabyte.
    expect(f.error_message).not.toContain("\u0000");
    expect(f.error_message.length).toBeLessThan(1000);
  }
  return {
    accountId,
    connectionId,
    failed: new Map(failed.map((f) => [f.source_id, { code: f.error_code, message: f.error_message }])),
  };
}

/** The `raw` of each live row of a core table, by source id, as JSON text Postgres holds. */
export async function storedRaws(table: string, accountId: string): Promise<Map<string, unknown>> {
  const found = await rows<{ id: string; raw: string }>(
    sql`select source_id::text as id, raw::text as raw from ${sql.raw(table)} where account_id = ${accountId}`,
  );
  return new Map(found.map((r) => [r.id, JSON.parse(r.raw)]));
}

/** Key-sorted JSON text without recursion limits that matter here (depth is flattened into the path walk). */
export function canonical(value: unknown): string {
  return stringifyIteratively(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  const root: { v: unknown } = { v: value };
  const stack: [Record<string, unknown> | unknown[], string | number][] = [
    [root as Record<string, unknown>, "v"],
  ];
  while (stack.length > 0) {
    const [holder, key] = stack.pop() as [Record<string | number, unknown>, string | number];
    const v = holder[key];
    if (Array.isArray(v)) {
      const copy = v.slice();
      holder[key] = copy;
      for (let i = 0; i < copy.length; i++) stack.push([copy, i]);
    } else if (v && typeof v === "object") {
      const copy: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) copy[k] = (v as Record<string, unknown>)[k];
      holder[key] = copy;
      for (const k of Object.keys(copy)) stack.push([copy, k]);
    }
  }
  return root.v;
}

/** What the platform owes each hostile kind: parked with this error code, or (absent here) stored whole. */
export const PARKED_AS: Record<string, string> = {
  nul: "unstorable_value",
  surrogate: "unstorable_value",
};

/**
 * Every made record either parked with its kind's reason or stored, the stored ones exactly as served (key for
 * key, lossy numbers as their digits, 10,000 levels deep where served so).
 */
export function expectFaithful(
  made: { id: string; kind: string }[],
  served: Map<string, unknown>,
  result: Transformed,
  stored: Map<string, unknown>,
) {
  for (const h of made) {
    const parked = PARKED_AS[h.kind];
    if (parked) {
      expect(result.failed.get(h.id)?.code, `${h.kind} parked`).toBe(parked);
      expect(stored.has(h.id), `${h.kind} not stored`).toBe(false);
    } else {
      expect(result.failed.get(h.id), `${h.kind} not parked`).toBeUndefined();
      expect(stored.has(h.id), `${h.kind} stored`).toBe(true);
      expect(canonical(stored.get(h.id)), `${h.kind} stored as served`).toBe(canonical(served.get(h.id)));
    }
  }
}

import pg from "pg";
import type { SimulatorClient } from "./simulator-client";

export type Comparison = {
  truth: number;
  core: number;
  missing: number[];
  extra: number[];
  stale: number[];
  ok: boolean;
};

/**
 * Compares a core table with the simulator's ground truth: every live record present exactly once, in its
 * newest version (same `updated` / `updatedAt` where the record has one, and same content fields), and
 * nothing else alive.
 */
export async function compareWithTruth(opts: {
  databaseUrl: string;
  sim: SimulatorClient;
  apiKey: string;
  accountId: string;
  entity: string;
  table: string;
  /** Fields compared besides `updated`: [source field, core column]. */
  fields?: [string, string][];
}): Promise<Comparison> {
  const fields = opts.fields ?? [];
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  try {
    const cols = fields.map(([, col]) => `, ${col}::text as "${col}"`).join("");
    const result = await client.query(
      `select source_id::bigint as id, source_updated_at${cols}
       from ${opts.table} where account_id = $1 and deleted_at is null`,
      [opts.accountId],
    );
    const core = new Map<number, Record<string, unknown>>();
    for (const row of result.rows) core.set(Number(row.id), row);
    const missing: number[] = [];
    const stale: number[] = [];
    const seen = new Set<number>();
    const truth = await opts.sim.eachTruth(opts.apiKey, opts.entity, (record) => {
      const id = Number(record.id);
      seen.add(id);
      const row = core.get(id);
      if (!row) {
        missing.push(id);
        return;
      }
      // Deals carry `updatedAt`; stages and groups carry no time at all and compare by content only.
      const updated = record.updated ?? record.updatedAt;
      const sameTime =
        updated === undefined ||
        new Date(row.source_updated_at as string).getTime() === Date.parse(String(updated));
      const sameFields = fields.every(
        ([field, col]) => String(record[field] ?? "") === String(row[col] ?? ""),
      );
      if (!sameTime || !sameFields) stale.push(id);
    });
    const extra = [...core.keys()].filter((id) => !seen.has(id));
    return {
      truth,
      core: core.size,
      missing,
      extra,
      stale,
      ok: missing.length === 0 && extra.length === 0 && stale.length === 0 && truth === core.size,
    };
  } finally {
    await client.end();
  }
}

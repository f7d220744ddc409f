import { getTableName, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { safeErrorMessage } from "../core/safe-error";
import type { Db } from "../db/client";
import { entityColumnPrefix, mirrorIdent } from "../db/schema/sync";

export type EntityReconciliation = {
  entity: string;
  /** The provider's own total (the connector's count request), or null when it could not (or must not) be read. */
  provider: number | null;
  /** Our non-deleted core rows for the connection, or null when the entity has no core table yet. */
  ours: number | null;
  mismatch: boolean;
  /** A complete scan was started to repair the entity (false when one of its runs was already going). */
  catchUp: boolean;
  /** Why a complete scan was asked for: the counts differ, or the provider has no cheap count to compare. */
  reason?: "mismatch" | "uncountable";
  error?: string;
};

export type ReconcileDeps = {
  /** `countable`: the provider's total can be read with one cheap request (not for lists needing a parent). */
  entities: { name: string; countable: boolean }[];
  providerTotal(entity: string): Promise<number | null>;
  ourCount(entity: string): Promise<number | null>;
  /**
   * Starts a complete-scan run of one entity, whose completion soft-deletes what the provider no longer has
   * (large deletes wait for an operator) and whose pages bring back what we missed. Says whether it started.
   */
  startCatchUp(entity: string): Promise<boolean>;
};

/**
 * Repairs drift per entity: a count that differs from the provider's, or an entity whose provider count can't
 * be read cheaply, gets a complete scan. Entities are checked one after another: each costs a provider request
 * from the connection's shared budget, and this is a daily background job.
 */
export async function reconcileEntities(deps: ReconcileDeps): Promise<EntityReconciliation[]> {
  const out: EntityReconciliation[] = [];
  for (const { name: entity, countable } of deps.entities) {
    let provider: number | null = null;
    let ours: number | null = null;
    let error: string | undefined;
    try {
      if (countable) provider = await deps.providerTotal(entity);
      ours = await deps.ourCount(entity);
    } catch (e) {
      error = safeErrorMessage(e);
    }
    const mismatch = countable && provider !== null && ours !== null && provider !== ours;
    const reason = mismatch ? "mismatch" : !countable && !error ? "uncountable" : undefined;
    let catchUp = false;
    if (reason) {
      try {
        catchUp = await deps.startCatchUp(entity);
      } catch (e) {
        error = safeErrorMessage(e);
      }
    }
    out.push({
      entity,
      provider,
      ours,
      mismatch,
      catchUp,
      ...(reason ? { reason } : {}),
      ...(error ? { error } : {}),
    });
  }
  return out;
}

const IDENT = /^[a-z][a-z0-9_]*$/;

/** Live rows of one connection in an entity's core table (the connector's declared table). */
export async function countCoreRows(
  db: Db,
  coreTable: PgTable,
  accountId: string,
  connectionId: string,
): Promise<number> {
  const result = await db.execute(sql`
    select count(*)::bigint as n from ${sql.raw(`"${getTableName(coreTable)}"`)}
    where account_id = ${accountId} and connection_id = ${connectionId} and deleted_at is null`);
  return Number((result.rows[0] as { n: string | number }).n);
}

/** Records both counts per entity in the connection's `<provider>_sync_jobs` row (`people_<provider>`, `people_ad`). */
export async function recordCounts(
  db: Db,
  provider: string,
  accountId: string,
  connectionId: string,
  counts: EntityReconciliation[],
): Promise<void> {
  const usable = counts.filter((c) => c.provider !== null || c.ours !== null);
  if (usable.length === 0) return;
  const table = sql.raw(mirrorIdent(`${provider}_sync_jobs`));
  const cols = usable.flatMap((c) => {
    const p = entityColumnPrefix(c.entity);
    if (!IDENT.test(p)) throw new Error(`not a safe column prefix: ${p}`);
    // The provider column takes its own name (`people_<provider>`), ours is `_ad` as in the replaced system.
    return [
      { name: `${p}_${provider}`, value: c.provider },
      { name: `${p}_ad`, value: c.ours },
    ];
  });
  const names = sql.raw(cols.map((c) => `"${c.name}"`).join(", "));
  const updates = sql.raw(cols.map((c) => `"${c.name}" = excluded."${c.name}"`).join(", "));
  const values = sql.join(
    cols.map((c) => sql`${c.value}`),
    sql`, `,
  );
  await db.execute(sql`
    insert into ${table} (connection_id, account_id, ${names}, reconciled_at, updated_at)
    values (${connectionId}, ${accountId}, ${values}, now(), now())
    on conflict (connection_id) do update set ${updates}, reconciled_at = now(), updated_at = now()`);
}

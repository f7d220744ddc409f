import type { PgTable } from "drizzle-orm/pg-core";
import { connectorFor } from "../connectors/registry";
import type { EntityDef } from "../connectors/types";

export type DeleteTarget = { table: PgTable; sourceId: string };

function entityDef(provider: string, entity: string): EntityDef | undefined {
  try {
    return connectorFor(provider).entities[entity];
  } catch {
    return undefined;
  }
}

/**
 * The core rows a delete of (provider, entity, source id) soft-deletes, as the entity declares them: its own
 * table first (the one a full scan is diffed against), then the unified tables it feeds. The engine names
 * no provider; an unknown provider or entity reaches nothing.
 */
export function deleteTargets(provider: string, entity: string, sourceId: string): DeleteTarget[] {
  return entityDef(provider, entity)?.deleteTargets(sourceId) ?? [];
}

/** A child entity the provider deletes with a parent: its own table, the column holding the parent id. */
export type Cascade = { entity: string; table: PgTable; column: string };

/** The cascades an entity declares whose child entity this provider knows (others reach nothing). */
export function cascadesOf(provider: string, entity: string): Cascade[] {
  const def = entityDef(provider, entity);
  const cascades: Cascade[] = [];
  for (const c of def?.cascades ?? []) {
    const child = entityDef(provider, c.entity);
    if (child) cascades.push({ entity: c.entity, table: child.coreTable, column: c.column });
  }
  return cascades;
}

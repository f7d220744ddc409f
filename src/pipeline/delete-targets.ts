import type { PgTable } from "drizzle-orm/pg-core";
import { connectorFor } from "../connectors/registry";

export type DeleteTarget = { table: PgTable; sourceId: string };

/**
 * The core rows a delete of (provider, entity, source id) soft-deletes, as the entity declares them: its own
 * table first (the one a full scan is diffed against), then the unified tables it feeds. The engine names
 * no provider; an unknown provider or entity reaches nothing.
 */
export function deleteTargets(provider: string, entity: string, sourceId: string): DeleteTarget[] {
  let def: ReturnType<typeof connectorFor>["entities"][string] | undefined;
  try {
    def = connectorFor(provider).entities[entity];
  } catch {
    return [];
  }
  return def ? def.deleteTargets(sourceId) : [];
}

import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { fubDeleteTargets } from "../connectors/fub/unified";
import * as schema from "../db/schema";

export type DeleteTarget = { table: PgTable; sourceId: string };

type Resolver = (entity: string, sourceId: string) => { table: string; sourceId: string }[];

/** Per provider: which core tables a record's delete reaches, by table name. */
const resolvers: Record<string, Resolver> = { fub: fubDeleteTargets };

let tablesByName: Map<string, PgTable> | null = null;

function tableNamed(name: string): PgTable | undefined {
  if (!tablesByName) {
    tablesByName = new Map();
    for (const value of Object.values(schema)) {
      if (value instanceof PgTable) tablesByName.set(getTableConfig(value).name, value);
    }
  }
  return tablesByName.get(name);
}

/**
 * The core rows a delete of (provider, entity, source id) soft-deletes. The first target is the entity's
 * own table, whose live rows a full scan is diffed against. Tables not (yet) in the schema are skipped.
 */
export function deleteTargets(provider: string, entity: string, sourceId: string): DeleteTarget[] {
  const resolve = resolvers[provider];
  if (!resolve) return [];
  return resolve(entity, sourceId).flatMap((t) => {
    const table = tableNamed(t.table);
    return table ? [{ table, sourceId: t.sourceId }] : [];
  });
}

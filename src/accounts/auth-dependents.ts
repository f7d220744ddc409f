import { getTableName, sql } from "drizzle-orm";
import type { Connector, TenantQuery } from "../connectors/types";

/**
 * The token cascade, generic over what a connector declares (`authDependents`): a refused grant marks every
 * row that depends on it, re-authorisation clears the marks, and the status reads the chain with its scope.
 * The calls themselves are held by the connection's `auth_failed` status (provider-call.ts); the marks make
 * the impact visible where the data is (the connector's own queries read them).
 */

const ident = (name: string) => sql.raw(`"${name.replaceAll('"', '""')}"`);

export type AuthChainLink = { name: string; total: number; authFailed: number };

/** Sets (`failed`) or clears the mark on the connection's dependent rows; answers the rows changed per link. */
export async function markAuthDependents(
  query: TenantQuery,
  connector: Connector,
  scope: { accountId: string; connectionId: string },
  failed: boolean,
): Promise<Record<string, number>> {
  const changed: Record<string, number> = {};
  for (const dep of connector.spec.authDependents ?? []) {
    const table = ident(getTableName(dep.table));
    const col = ident(dep.stateColumn);
    const rows = await query(
      failed
        ? sql`update ${table} set ${col} = 'auth_failed'
              where account_id = ${scope.accountId} and connection_id = ${scope.connectionId}
                and ${col} is distinct from 'auth_failed' returning 1`
        : sql`update ${table} set ${col} = null
              where account_id = ${scope.accountId} and connection_id = ${scope.connectionId}
                and ${col} is not null returning 1`,
    );
    changed[dep.name] = rows.length;
  }
  return changed;
}

/** Each link of the chain with its live rows and how many of them are marked. */
export async function authChain(
  query: TenantQuery,
  connector: Connector,
  scope: { accountId: string; connectionId: string },
): Promise<AuthChainLink[]> {
  const out: AuthChainLink[] = [];
  for (const dep of connector.spec.authDependents ?? []) {
    const table = ident(getTableName(dep.table));
    const col = ident(dep.stateColumn);
    const [row] = await query(sql`
      select count(*)::int as total, count(*) filter (where ${col} = 'auth_failed')::int as failed
      from ${table}
      where account_id = ${scope.accountId} and connection_id = ${scope.connectionId} and deleted_at is null`);
    out.push({ name: dep.name, total: Number(row?.total ?? 0), authFailed: Number(row?.failed ?? 0) });
  }
  return out;
}

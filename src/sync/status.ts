import { sql } from "drizzle-orm";
import { listConnections } from "../accounts/accounts";
import { inTenant } from "../accounts/tenant";
import { connectorFor } from "../connectors/registry";
import { withDb } from "../db/client";
import { entityColumnPrefix } from "../db/schema/sync";
import type { Env } from "../env";
import { accountStub } from "./stubs";

type Counts = { provider: number | null; ours: number | null; reconciledAt: string | null };

/**
 * The operator's view of an account: every connection and every entity of its provider, with state, lease,
 * breaker, rate budget and progress from the account's object, and the last reconciliation's counts from
 * `<provider>_sync_jobs`.
 */
export async function accountStatus(env: Env, accountId: string) {
  const { connections, jobs } = await withDb(env, async (db) => {
    const connections = await listConnections(db, accountId);
    const jobs = new Map<string, Record<string, unknown>>();
    for (const provider of new Set(connections.map((c) => c.provider))) {
      const result = await inTenant(db, accountId, (t) =>
        t.execute(sql`select * from ${sql.raw(`"${provider}_sync_jobs"`)} where account_id = ${accountId}`),
      ).catch(() => ({ rows: [] }));
      for (const row of result.rows as Record<string, unknown>[]) jobs.set(String(row.connection_id), row);
    }
    return { connections, jobs };
  });
  const state = await accountStub(env, accountId).status(connections.map((c) => c.id));
  const byId = new Map(state.connections.map((c) => [c.connectionId, c]));
  return {
    accountId,
    paused: state.paused,
    invocations: state.invocations,
    connections: connections.map((conn) => {
      const live = byId.get(conn.id);
      const job = jobs.get(conn.id);
      const counts = (entity: string): Counts => {
        const p = entityColumnPrefix(entity);
        const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
        return {
          provider: num(job?.[`${p}_${conn.provider}`]),
          ours: num(job?.[`${p}_ad`]),
          reconciledAt: job?.reconciled_at ? String(job.reconciled_at) : null,
        };
      };
      return {
        ...conn,
        breaker: live?.breaker ?? null,
        rateBudget: live?.rateBudget ?? null,
        entities: Object.keys(connectorFor(conn.provider).entities).map((entity) => {
          const s = live?.entities.find((e) => e.entity === entity);
          return s
            ? { ...s, counts: counts(entity) }
            : { entity, status: "PENDING", lease: null, progress: null, counts: counts(entity) };
        }),
      };
    }),
    timers: state.timers,
  };
}

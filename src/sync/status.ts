import { sql } from "drizzle-orm";
import { listConnections } from "../accounts/accounts";
import { type AuthChainLink, authChain } from "../accounts/auth-dependents";
import { inTenant } from "../accounts/tenant";
import { connectorFor } from "../connectors/registry";
import { withDb } from "../db/client";
import { entityColumnPrefix, mirrorIdent } from "../db/schema/sync";
import type { Env } from "../env";
import { COMPLETED_WITH_ERRORS } from "../pipeline/run-stats";
import { WEBHOOK_FAILURE_ENTITY } from "../webhooks/parking";
import { jobStatuses } from "./jobs";
import { accountStub } from "./stubs";

type Counts = { provider: number | null; ours: number | null; reconciledAt: string | null };

type RunView = {
  runId: string;
  mode: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  pages: number;
  fetched: number;
  written: number;
  unchanged: number;
  failed: number;
  deleted: number;
};

type Failures = { open: number; errors: { code: string; count: number; message: string }[] };

const pairKey = (connectionId: string, entity: string) => `${connectionId}/${entity}`;

/**
 * The latest run of every entity and the entity's open failed records, straight from Postgres: a run that
 * finished while records failed must not read as plain COMPLETED.
 */
async function runsAndFailures(db: Parameters<Parameters<typeof withDb>[1]>[0], accountId: string) {
  const runs = new Map<string, RunView>();
  const failures = new Map<string, Failures>();
  await inTenant(db, accountId, async (t) => {
    const latest = await t.execute(sql`
      select distinct on (connection_id, entity) connection_id, entity, run_id, mode, status, started_at,
             finished_at, pages, fetched, written, unchanged, failed, deleted
      from sync_runs where account_id = ${accountId}
      order by connection_id, entity, started_at desc, id desc`);
    for (const r of latest.rows as Record<string, unknown>[]) {
      runs.set(pairKey(String(r.connection_id), String(r.entity)), {
        runId: String(r.run_id),
        mode: String(r.mode),
        status: Number(r.failed) > 0 && r.status === "COMPLETED" ? COMPLETED_WITH_ERRORS : String(r.status),
        startedAt: new Date(String(r.started_at)).toISOString(),
        finishedAt: r.finished_at ? new Date(String(r.finished_at)).toISOString() : null,
        pages: Number(r.pages),
        fetched: Number(r.fetched),
        written: Number(r.written),
        unchanged: Number(r.unchanged),
        failed: Number(r.failed),
        deleted: Number(r.deleted),
      });
    }
    const open = await t.execute(sql`
      select connection_id, entity, error_code, count(*)::int as n, min(error_message) as message
      from failed_records where account_id = ${accountId} and resolved_at is null
      group by connection_id, entity, error_code order by connection_id, entity, n desc`);
    for (const r of open.rows as {
      connection_id: string;
      entity: string;
      error_code: string;
      n: number;
      message: string;
    }[]) {
      const key = pairKey(r.connection_id, r.entity);
      const f = failures.get(key) ?? { open: 0, errors: [] };
      f.open += Number(r.n);
      f.errors.push({ code: r.error_code, count: Number(r.n), message: r.message });
      failures.set(key, f);
    }
  });
  return { runs, failures };
}

/**
 * The operator's view of an account: every connection and every entity of its provider, with state, lease,
 * breaker, rate budget and progress from the account's object, and the last reconciliation's counts from
 * `<provider>_sync_jobs`.
 */
export async function accountStatus(env: Env, accountId: string) {
  const { connections, jobs, periodic, chains, runs, failures } = await withDb(env, async (db) => {
    const connections = await listConnections(db, accountId);
    const jobs = new Map<string, Record<string, unknown>>();
    for (const provider of new Set(connections.map((c) => c.provider))) {
      const result = await inTenant(db, accountId, (t) =>
        t.execute(
          sql`select * from ${sql.raw(mirrorIdent(`${provider}_sync_jobs`))} where account_id = ${accountId}`,
        ),
      ).catch(() => ({ rows: [] }));
      for (const row of result.rows as Record<string, unknown>[]) jobs.set(String(row.connection_id), row);
    }
    const periodic = await inTenant(db, accountId, (t) => jobStatuses(t, accountId));
    const chains = new Map<string, AuthChainLink[]>();
    for (const conn of connections) {
      const connector = connectorFor(conn.provider);
      if (!connector.spec.authDependents?.length) continue;
      const chain = await inTenant(db, accountId, (t) =>
        authChain(async (q) => (await t.execute(q)).rows as Record<string, unknown>[], connector, {
          accountId,
          connectionId: conn.id,
        }),
      );
      chains.set(conn.id, chain);
    }
    return { connections, jobs, periodic, chains, ...(await runsAndFailures(db, accountId)) };
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
        // Webhook events that could not be recorded or processed after their bounded attempts (parked).
        parkedWebhooks: failures.get(pairKey(conn.id, WEBHOOK_FAILURE_ENTITY)) ?? { open: 0, errors: [] },
        // Periodic jobs the connector declares (ConnectorSpec.jobs): schedule, counts and what they hold parked.
        periodicJobs: periodic.get(conn.id) ?? [],
        breaker: live?.breaker ?? null,
        rateBudget: live?.rateBudget ?? null,
        // The token cascade, for a connector that declares what depends on its grant: the grant's state, each
        // dependent with its scope, then the syncs it holds (every entity while the grant is refused).
        ...(chains.has(conn.id)
          ? {
              authCascade: {
                grant: conn.status,
                chain: chains.get(conn.id),
                syncs: {
                  entities: Object.keys(connectorFor(conn.provider).entities).length,
                  paused:
                    conn.status === "auth_failed"
                      ? Object.keys(connectorFor(conn.provider).entities).length
                      : 0,
                },
              },
            }
          : {}),
        entities: Object.keys(connectorFor(conn.provider).entities).map((entity) => {
          const s = live?.entities.find((e) => e.entity === entity);
          const key = pairKey(conn.id, entity);
          const failed = failures.get(key) ?? { open: 0, errors: [] };
          const truth = {
            counts: counts(entity),
            failedRecords: failed.open,
            errorList: failed.errors,
            lastRun: runs.get(key) ?? null,
          };
          return s
            ? {
                ...s,
                status: s.status === "COMPLETED" && failed.open > 0 ? COMPLETED_WITH_ERRORS : s.status,
                ...truth,
              }
            : { entity, status: "PENDING", lease: null, progress: null, ...truth };
        }),
      };
    }),
    timers: state.timers,
  };
}

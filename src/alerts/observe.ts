import { type SQL, sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import { connectorFor, knownProviders } from "../connectors/registry";
import type { Db } from "../db/client";
import { entityColumnPrefix, mirrorIdent } from "../db/schema/sync";
import type { AlertConfig } from "./config";
import type { Observations } from "./rules";
import { textArray } from "./state";

type Row = Record<string, string | number | null>;
const n = (v: unknown) => Number(v ?? 0);
const s = (v: unknown) => String(v ?? "");
const ids = (r: Row) => ({
  accountId: s(r.account_id),
  connectionId: s(r.connection_id),
  provider: s(r.provider),
});

/**
 * Gathers what the rules read, from Postgres only (aggregates over indexed recent rows; one statement per
 * rule). Spans accounts: the system role's connection, optionally limited to some accounts.
 *
 * Breakers live in each account's object; the object reports each open/closed change into
 * `connection_breakers` (durable-objects/breaker-report.ts), which is what is read here, for connections
 * that still exist.
 */
export async function observe(db: Db, cfg: AlertConfig, accountIds?: string[]): Promise<Observations> {
  const scoped = (col = sql`account_id`): SQL =>
    accountIds ? sql`and ${col} = any(${textArray(accountIds)})` : sql``;
  return withAllAccounts(db, async (tx) => {
    const q = async (query: SQL) => (await tx.execute(query)).rows as Row[];
    const calls = await q(sql`
      select account_id, connection_id, provider, sum(requests) as requests, sum(provider_errors) as errors
      from sync_runs
      where updated_at > now() - make_interval(mins => ${cfg.errorRateWindowMinutes}) ${scoped()}
      group by 1, 2, 3`);
    const parked = await q(sql`
      with f as (
        select account_id, connection_id, provider,
          count(*) filter (where first_seen_at > now() - make_interval(mins => ${cfg.parkedWindowMinutes})) as recent,
          count(*) as open
        from failed_records where resolved_at is null ${scoped()} group by 1, 2, 3
      ), w as (
        select account_id, connection_id, provider,
          count(*) filter (where processed_at > now() - make_interval(mins => ${cfg.parkedWindowMinutes})) as recent,
          count(*) as open
        from webhook_inbox where status = 'parked' ${scoped()} group by 1, 2, 3
      )
      select account_id, connection_id, provider, sum(recent) as recent, sum(open) as open
      from (select * from f union all select * from w) x group by 1, 2, 3`);
    const auth = await q(sql`
      select account_id, id as connection_id, provider from connections
      where status = 'auth_failed' ${scoped()}`);
    const backlog = await q(sql`
      select account_id, connection_id, provider, count(*) as pending,
        extract(epoch from now() - min(received_at)) * 1000 as oldest_ms
      from webhook_inbox where status = 'pending' ${scoped()} group by 1, 2, 3`);
    const breakers = await q(sql`
      select b.account_id, b.connection_id, b.provider, extract(epoch from b.open_since) * 1000 as open_since
      from connection_breakers b join connections c on c.id = b.connection_id
      where b.state = 'open' and b.open_since is not null ${scoped(sql`b.account_id`)}`);
    const jobs = await q(sql`
      select account_id, connection_id, provider, job, count(*) as runs,
        count(*) filter (where outcome = 'failed') as failed
      from connection_job_runs
      where outcome <> 'running'
        and finished_at > now() - make_interval(mins => ${cfg.jobErrorRateWindowMinutes}) ${scoped()}
      group by 1, 2, 3, 4`);
    const drift: Observations["drift"] = [];
    for (const provider of knownProviders()) {
      const entities = Object.keys(connectorFor(provider).entities);
      if (entities.length === 0) continue;
      const table = sql.raw(mirrorIdent(`${provider}_sync_jobs`));
      for (const entity of entities) {
        const p = entityColumnPrefix(entity);
        const theirs = sql.raw(mirrorIdent(`${p}_${provider}`));
        const ours = sql.raw(mirrorIdent(`${p}_ad`));
        const rows = await q(sql`
          select account_id, connection_id, ${theirs} as theirs, ${ours} as ours from ${table}
          where ${theirs} is not null and ${ours} is not null and ${theirs} <> ${ours} ${scoped()}`);
        for (const r of rows)
          drift.push({ ...ids({ ...r, provider }), entity, providerCount: n(r.theirs), ourCount: n(r.ours) });
      }
    }
    return {
      providerCalls: calls.map((r) => ({ ...ids(r), requests: n(r.requests), errors: n(r.errors) })),
      openBreakers: breakers.map((r) => ({ ...ids(r), openSince: n(r.open_since) })),
      drift,
      parked: parked.map((r) => ({ ...ids(r), recent: n(r.recent), open: n(r.open) })),
      authFailed: auth.map(ids),
      webhookBacklog: backlog.map((r) => ({ ...ids(r), pending: n(r.pending), oldestMs: n(r.oldest_ms) })),
      jobRuns: jobs.map((r) => ({ ...ids(r), job: s(r.job), runs: n(r.runs), failed: n(r.failed) })),
    };
  });
}

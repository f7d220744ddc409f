import pg from "pg";
import type { InvocationStats } from "../../../durable-objects/subrequest-meter";
import type { BenchStack } from "./bench-stack";
import { memoryGroups } from "./groups";
import { type MemoryPeak, startMemorySampler } from "./rss";
import type { TappedRequest } from "./sim-tap";
import { type StatementStats, statementsDelta, statementsSnapshot } from "./statements";

export type Tenant = { accountId: string; connectionId: string; apiKey: string; systemKey: string };

export type BackfillResult = {
  people: number;
  records: number;
  seconds: number;
  recordsPerSec: number;
  simRequests: number;
  failedRecords: number;
  pollIntervalMs: number;
  statements: StatementStats;
  memory: MemoryPeak[];
  /** subrequests per alarm invocation of the account's object over the run (its admin status) */
  invocations: InvocationStats;
  /** the FUB API requests of the run, as the simulator answered them (not written to the JSON) */
  requests: TappedRequest[];
};

/** Registers a simulator tenant and a platform account + FUB connection pointing at it. */
export async function createTenant(
  b: BenchStack,
  opts: {
    name: string;
    people: number;
    rateLimit?: false | { limit: number; windowSec: number };
    /** more simulator tenant settings (webhookRetryScale, …) */
    tenant?: Record<string, unknown>;
  },
): Promise<Tenant> {
  const t: Tenant = {
    accountId: `acc_${opts.name}`,
    connectionId: `con_${opts.name}`,
    apiKey: `key-${opts.name}`,
    systemKey: `sys-${opts.name}`,
  };
  await b.sim.putTenant(t.apiKey, {
    seed: opts.name,
    systemKey: t.systemKey,
    counts: { people: opts.people },
    ...(opts.rateLimit === undefined ? {} : { rateLimit: opts.rateLimit }),
    ...opts.tenant,
  });
  await b.admin.createAccount(t.accountId, `bench ${opts.name}`);
  await b.admin.createConnection(t.accountId, {
    id: t.connectionId,
    provider: "fub",
    credentials: { apiKey: t.apiKey, systemKey: t.systemKey, system: "edge-etl-bench" },
    baseUrl: b.stack.simulatorUrl,
  });
  return t;
}

type Progress = { core: number; failed: number };

/**
 * Cheap, polled often: whether these accounts' people runs have all completed (their mirrored sync states) and
 * no staged page of theirs still waits for its transform. A run completes once its last page is staged, while
 * its last transforms may still run; a page is judged by its first record, as a transform marks a page's
 * records done together, so it costs one index probe per page.
 */
export async function runsLanded(client: pg.Client, accountIds: string[]): Promise<boolean> {
  // pg_stat_statements strips comments and constants but keeps aliases: `bench_` marks the bench's own queries.
  const r = await client.query(
    `/* bench */ select
       (select count(*) filter (where status = 'COMPLETED') from fub_sync_state
        where account_id = any($1::text[]) and entity = 'people')::int as bench_completed,
       exists (
         select 1 from stage_pending_pages p join stage_records s
           on s.connection_id = p.connection_id and s.entity = p.entity and s.run_id = p.run_id
          and s.page_no = p.page_no and s.seq = 0
         where p.account_id = any($1::text[]) and s.done_at is null) as bench_pending`,
    [accountIds],
  );
  const row = r.rows[0] as { bench_completed: number; bench_pending: boolean };
  return row.bench_completed === accountIds.length && !row.bench_pending;
}

/**
 * What landed. For a fresh account every person lands once, so core + failed reaching the provider's count
 * means every staged page was transformed. Counting the core table takes Postgres about 0.9 s at 200,000 rows
 * (a parallel scan at 1M), CPU the backfill it measures would lose, so it runs only once the run completed
 * (and every 300th poll, in case a state mirror failed: at 60 one count landed inside every default backfill,
 * 2.2 s of Postgres beside it), not on every poll.
 */
export async function progress(client: pg.Client, accountId: string): Promise<Progress> {
  const r = await client.query(
    `/* bench */ select
       (select count(*) from fub_people where account_id = $1 and deleted_at is null)::int as bench_core,
       (select count(*) from failed_records where account_id = $1 and resolved_at is null)::int as bench_failed`,
    [accountId],
  );
  const row = r.rows[0] as { bench_core: number; bench_failed: number };
  return { core: row.bench_core, failed: row.bench_failed };
}

/**
 * Onboarding sync of one tenant, timed from the admin call to the moment every live person is in the core
 * table and nothing is left in staging.
 */
export async function runBackfill(
  b: BenchStack,
  t: Tenant,
  opts: { timeoutMs: number; pollIntervalMs?: number; expected?: number },
): Promise<BackfillResult> {
  // The poll reads one state row; the core table is counted once the run looks done.
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const expected = opts.expected ?? (await b.sim.summary(t.apiKey, "people")).count;
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  const sampler = startMemorySampler(memoryGroups(b));
  try {
    b.tap.take();
    const before = await statementsSnapshot(client);
    const t0 = performance.now();
    await b.admin.sync(t.accountId, { entity: "people", mode: "onboarding" });
    let last: Progress = { core: 0, failed: 0 };
    let polls = 0;
    const deadline = Date.now() + opts.timeoutMs;
    let finishedAt = 0;
    for (;;) {
      // Counting the core table each second after the run completed, until its last transforms landed, slowed
      // them (two or three 2 s counts at 200,000).
      const landed = await runsLanded(client, [t.accountId]);
      finishedAt = performance.now();
      polls++;
      if (landed || polls % 300 === 0) {
        last = await progress(client, t.accountId);
        polls++;
        if (last.core + last.failed >= expected) break;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `backfill of ${expected} people did not finish in ${opts.timeoutMs} ms: ${JSON.stringify(last)}`,
        );
      }
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
    // Everything had landed by the time the count that found every person started (right after this poll).
    const seconds = (finishedAt - t0) / 1000;
    const statements = await statementsDelta(client, before, polls);
    const requests = b.tap.take();
    const status = await b.admin.status<{ invocations: InvocationStats }>(t.accountId);
    return {
      people: expected,
      records: last.core,
      seconds: round(seconds, 2),
      recordsPerSec: round(last.core / seconds, 0),
      simRequests: requests.length,
      failedRecords: last.failed,
      pollIntervalMs,
      statements,
      memory: sampler.stop(),
      invocations: status.invocations,
      requests,
    };
  } finally {
    sampler.stop();
    await client.end();
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

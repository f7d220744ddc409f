import { sql } from "drizzle-orm";
import { withAllAccounts } from "../accounts/tenant";
import type { Db } from "../db/client";
import { escapeLabel } from "./counters";

type Sample = { labels: Record<string, string | number>; value: number; suffix?: string };
type Family = { name: string; help: string; type: "counter" | "gauge" | "histogram"; samples: Sample[] };

/** Upper bounds (seconds) of the run duration histogram's buckets. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 14400];

const P = "edge_etl_";

function line(name: string, labels: Record<string, string | number>, value: number): string {
  const keys = Object.keys(labels);
  const text = keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(",");
  return `${name}${keys.length ? `{${text}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}

/** The families in Prometheus text exposition format (version 0.0.4). */
export function render(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const x of f.samples) out.push(line(`${f.name}${x.suffix ?? ""}`, x.labels, x.value));
  }
  return `${out.join("\n")}\n`;
}

type Row = Record<string, string | number | null>;
const n = (v: unknown) => Number(v ?? 0);
const s = (v: unknown) => String(v ?? "");

/**
 * Every metric from durable state, so any isolate serves the same figures: aggregates over `sync_runs`,
 * `failed_records`, `webhook_inbox` and staging, plus the counters of events nothing else records
 * (`metric_counters`). Reads span accounts: the system role's connection.
 */
export async function collectMetrics(db: Db): Promise<string> {
  return withAllAccounts(db, async (tx) => {
    const q = async (query: ReturnType<typeof sql>) => (await tx.execute(query)).rows as Row[];
    const runs = await q(sql`
      select provider, mode, coalesce(trigger, 'manual') as trigger, count(*) as started,
        count(*) filter (where status in ('COMPLETED', 'COMPLETED_WITH_ERRORS')) as completed,
        count(*) filter (where status = 'ERROR') as failed,
        sum(fetched) as fetched, sum(written) as written, sum(unchanged) as unchanged, sum(deleted) as deleted,
        sum(failed) as records_failed, sum(requests) as requests, sum(rate_limited) as rate_limited
      from sync_runs group by 1, 2, 3 order by 1, 2, 3`);
    const durations = await q(sql`
      select provider, mode, extract(epoch from finished_at - started_at) as seconds
      from sync_runs where finished_at is not null and status in ('COMPLETED', 'COMPLETED_WITH_ERRORS', 'ERROR')
        and finished_at > now() - interval '7 days'`);
    const accounts = await q(sql`
      select count(distinct account_id) as n from sync_runs
      where status in ('COMPLETED', 'COMPLETED_WITH_ERRORS') and updated_at > now() - interval '1 day'`);
    const webhooks = await q(
      sql`select provider, status, count(*) as n from webhook_inbox group by 1, 2 order by 1, 2`,
    );
    const dead = await q(sql`
      select provider, count(*) as n from failed_records where error_code = 'dead_lettered' and resolved_at is null
      group by 1 order by 1`);
    const lag = await q(sql`
      select extract(epoch from now() - min(staged_at)) as seconds, count(*) as pages from stage_pending_pages`);
    const counters = await q(sql`select name, labels, value from metric_counters order by name, labels`);

    const byTrigger = (key: string) =>
      runs.map((r) => ({
        labels: { provider: s(r.provider), mode: s(r.mode), trigger: s(r.trigger) },
        value: n(r[key]),
      }));
    const perProvider = (key: string) => {
      const sums = new Map<string, number>();
      for (const r of runs) sums.set(s(r.provider), (sums.get(s(r.provider)) ?? 0) + n(r[key]));
      return [...sums].map(([provider, value]) => ({ labels: { provider }, value }));
    };
    const records = ["fetched", "written", "unchanged", "deleted", "records_failed"].flatMap((key) => {
      const outcome = key === "records_failed" ? "failed" : key;
      return perProvider(key).map((x) => ({ labels: { ...x.labels, outcome }, value: x.value }));
    });
    const families: Family[] = [
      {
        name: `${P}runs_started_total`,
        help: "Runs started.",
        type: "counter",
        samples: byTrigger("started"),
      },
      {
        name: `${P}runs_completed_total`,
        help: "Runs completed.",
        type: "counter",
        samples: byTrigger("completed"),
      },
      {
        name: `${P}runs_failed_total`,
        help: "Runs that ended in ERROR.",
        type: "counter",
        samples: byTrigger("failed"),
      },
      {
        name: `${P}accounts_processed`,
        help: "Accounts with a run completed in the last 24 hours.",
        type: "gauge",
        samples: [{ labels: {}, value: n(accounts[0]?.n) }],
      },
      { name: `${P}records_total`, help: "Records by outcome.", type: "counter", samples: records },
      {
        name: `${P}provider_requests_total`,
        help: "Provider requests made by sync runs.",
        type: "counter",
        samples: perProvider("requests"),
      },
      {
        name: `${P}provider_rate_limited_total`,
        help: "Provider requests refused with 429.",
        type: "counter",
        samples: perProvider("rate_limited"),
      },
      {
        name: `${P}run_duration_seconds`,
        help: "Run duration (runs finished in the last 7 days).",
        type: "histogram",
        samples: histogram(durations),
      },
      {
        name: `${P}webhook_events`,
        help: "Webhook events recorded, by inbox status (received = the sum; parked = status parked).",
        type: "gauge",
        samples: webhooks.map((r) => ({
          labels: { provider: s(r.provider), status: s(r.status) },
          value: n(r.n),
        })),
      },
      {
        name: `${P}dead_letters`,
        help: "Open failed records parked after the transform queue's retries were exhausted.",
        type: "gauge",
        samples: dead.map((r) => ({ labels: { provider: s(r.provider) }, value: n(r.n) })),
      },
      {
        name: `${P}transform_lag_seconds`,
        help: "Age of the oldest staged page still waiting for its transform (0: none).",
        type: "gauge",
        samples: [{ labels: {}, value: n(lag[0]?.seconds) }],
      },
      {
        name: `${P}transform_pending_pages`,
        help: "Staged pages waiting for their transform.",
        type: "gauge",
        samples: [{ labels: {}, value: n(lag[0]?.pages) }],
      },
    ];
    return render(families) + renderCounters(counters);
  });
}

function histogram(rows: Row[]): Sample[] {
  const groups = new Map<string, { provider: string; mode: string; values: number[] }>();
  for (const r of rows) {
    const key = `${s(r.provider)}\u0000${s(r.mode)}`;
    const g = groups.get(key) ?? { provider: s(r.provider), mode: s(r.mode), values: [] };
    g.values.push(n(r.seconds));
    groups.set(key, g);
  }
  const samples: Sample[] = [];
  for (const g of groups.values()) {
    const base = { provider: g.provider, mode: g.mode };
    for (const le of RUN_DURATION_BUCKETS)
      samples.push({
        suffix: "_bucket",
        labels: { ...base, le },
        value: g.values.filter((v) => v <= le).length,
      });
    samples.push({ suffix: "_bucket", labels: { ...base, le: "+Inf" }, value: g.values.length });
    samples.push({ suffix: "_sum", labels: base, value: g.values.reduce((a, b) => a + b, 0) });
    samples.push({ suffix: "_count", labels: base, value: g.values.length });
  }
  return samples;
}

/** Counters kept in metric_counters, one family per name (their labels are stored already rendered). */
function renderCounters(rows: Row[]): string {
  const out: string[] = [];
  let current = "";
  for (const r of rows) {
    const name = `${P}${s(r.name)}`;
    if (name !== current) {
      out.push(`# HELP ${name} Counted as it happens.`, `# TYPE ${name} counter`);
      current = name;
    }
    out.push(`${name}${r.labels ? `{${s(r.labels)}}` : ""} ${n(r.value)}`);
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

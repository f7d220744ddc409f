import type { AlertConfig } from "./config";

/** What the rules read, gathered from Postgres by observe.ts (one list per rule, already scoped). */
export type Observations = {
  /** Per connection: provider requests and failed ones of runs active in the error-rate window. */
  providerCalls: {
    accountId: string;
    connectionId: string;
    provider: string;
    requests: number;
    errors: number;
  }[];
  /** Breakers open now, with when they opened (ms since epoch). */
  openBreakers: { accountId: string; connectionId: string; provider: string; openSince: number }[];
  /** Per entity: the provider's count and ours from the last reconciliation. */
  drift: {
    accountId: string;
    connectionId: string;
    provider: string;
    entity: string;
    providerCount: number;
    ourCount: number;
  }[];
  /** Per connection: failed records and webhook events parked within the growth window, and all open ones. */
  parked: { accountId: string; connectionId: string; provider: string; recent: number; open: number }[];
  /** Connections whose OAuth refresh was refused (status auth_failed). */
  authFailed: { accountId: string; connectionId: string; provider: string }[];
  /** Per connection: age in ms of the oldest pending webhook event, and how many are pending. */
  webhookBacklog: {
    accountId: string;
    connectionId: string;
    provider: string;
    oldestMs: number;
    pending: number;
  }[];
  /** Per connection and connector job: runs finished in the job window, and how many of them failed. */
  jobRuns?: {
    accountId: string;
    connectionId: string;
    provider: string;
    job: string;
    runs: number;
    failed: number;
  }[];
};

export type AlertRule =
  | "provider_error_rate"
  | "breaker_open"
  | "reconciliation_drift"
  | "parked_growing"
  | "oauth_refresh_failing"
  | "webhook_backlog"
  | "job_error_rate";

/** A condition firing now. `key` names it across evaluations (rule and subject), so its state can be kept. */
export type Firing = {
  key: string;
  rule: AlertRule;
  severity: "warning" | "critical";
  /** `<account>/<connection>[/<entity>]`: what the alert is about. */
  subject: string;
  accountId: string;
  connectionId: string;
  provider: string;
  value: number;
  threshold: number;
  summary: string;
};

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const minutes = (ms: number) => `${Math.floor(ms / 60_000)} min`;

function firing(
  rule: AlertRule,
  severity: Firing["severity"],
  c: { accountId: string; connectionId: string; provider: string },
  value: number,
  threshold: number,
  summary: string,
  entity?: string,
): Firing {
  const subject = [c.accountId, c.connectionId, ...(entity ? [entity] : [])].join("/");
  return {
    key: `${rule}:${subject}`,
    rule,
    severity,
    subject,
    accountId: c.accountId,
    connectionId: c.connectionId,
    provider: c.provider,
    value,
    threshold,
    summary,
  };
}

/** Every condition the observations show firing under the config's thresholds. Pure: no clock but `now`. */
export function evaluateRules(obs: Observations, cfg: AlertConfig, now: number): Firing[] {
  const out: Firing[] = [];
  for (const c of obs.providerCalls) {
    if (c.requests < Math.max(1, cfg.errorRateMinRequests)) continue;
    const rate = c.errors / c.requests;
    if (rate > cfg.errorRate)
      out.push(
        firing(
          "provider_error_rate",
          "critical",
          c,
          rate,
          cfg.errorRate,
          `${c.provider} connection ${c.connectionId}: ${pct(rate)} of ${c.requests} provider requests failed in the last ${cfg.errorRateWindowMinutes} min (threshold ${pct(cfg.errorRate)})`,
        ),
      );
  }
  for (const b of obs.openBreakers) {
    const open = now - b.openSince;
    if (open > cfg.breakerOpenMinutes * 60_000)
      out.push(
        firing(
          "breaker_open",
          "critical",
          b,
          open / 60_000,
          cfg.breakerOpenMinutes,
          `${b.provider} connection ${b.connectionId}: breaker open for ${minutes(open)} (threshold ${cfg.breakerOpenMinutes} min)`,
        ),
      );
  }
  for (const d of obs.drift) {
    const diff = Math.abs(d.providerCount - d.ourCount);
    const ratio = d.providerCount > 0 ? diff / d.providerCount : diff > 0 ? 1 : 0;
    if (diff >= Math.max(1, cfg.driftMinRecords) && ratio > cfg.driftRatio)
      out.push(
        firing(
          "reconciliation_drift",
          "warning",
          d,
          diff,
          cfg.driftMinRecords,
          `${d.provider} connection ${d.connectionId} ${d.entity}: provider has ${d.providerCount}, we have ${d.ourCount} (${pct(ratio)} apart)`,
          d.entity,
        ),
      );
  }
  for (const p of obs.parked) {
    if (p.recent >= Math.max(1, cfg.parkedGrowth))
      out.push(
        firing(
          "parked_growing",
          "warning",
          p,
          p.recent,
          cfg.parkedGrowth,
          `${p.provider} connection ${p.connectionId}: ${p.recent} items parked or dead-lettered in the last ${cfg.parkedWindowMinutes} min (${p.open} open)`,
        ),
      );
  }
  for (const a of obs.authFailed)
    out.push(
      firing(
        "oauth_refresh_failing",
        "critical",
        a,
        1,
        1,
        `${a.provider} connection ${a.connectionId}: the provider refused the OAuth refresh; reconnect it`,
      ),
    );
  for (const w of obs.webhookBacklog) {
    if (w.pending > 0 && w.oldestMs > cfg.webhookBacklogMinutes * 60_000)
      out.push(
        firing(
          "webhook_backlog",
          "warning",
          w,
          w.oldestMs / 60_000,
          cfg.webhookBacklogMinutes,
          `${w.provider} connection ${w.connectionId}: ${w.pending} webhook events pending, the oldest for ${minutes(w.oldestMs)} (threshold ${cfg.webhookBacklogMinutes} min)`,
        ),
      );
  }
  for (const j of obs.jobRuns ?? []) {
    if (j.runs < 1) continue;
    const rate = j.failed / j.runs;
    if (rate > cfg.jobErrorRate)
      out.push(
        firing(
          "job_error_rate",
          "warning",
          j,
          rate,
          cfg.jobErrorRate,
          `${j.provider} connection ${j.connectionId} job ${j.job}: ${j.failed} of ${j.runs} runs failed in the last ${minutes(cfg.jobErrorRateWindowMinutes * 60_000)} (${pct(rate)}, threshold ${pct(cfg.jobErrorRate)})`,
          j.job,
        ),
      );
  }
  return out;
}

/** Thresholds, windows and the cooldown of the alert rules; every one settable by env, each with a default. */
export type AlertConfig = {
  /** Provider error rate (failed requests / requests) above which a connection alerts. */
  errorRate: number;
  /** Window of the error rate, in minutes. */
  errorRateWindowMinutes: number;
  /** Requests a connection must have made in the window before its rate means anything. */
  errorRateMinRequests: number;
  /** Minutes a breaker must have stayed open. */
  breakerOpenMinutes: number;
  /** Provider-vs-ours difference, as a share of the provider's count, above which an entity drifted... */
  driftRatio: number;
  /** ...provided it is at least this many records. */
  driftMinRecords: number;
  /** New parked or dead-lettered items within the window that make a connection's backlog "growing". */
  parkedGrowth: number;
  /** Window of the growth, in minutes. */
  parkedWindowMinutes: number;
  /** Age in minutes of the oldest pending webhook event beyond which the inbox is backlogged. */
  webhookBacklogMinutes: number;
  /** Minutes after a notification during which the same condition is not notified again. */
  cooldownMinutes: number;
  /** Attempts of one delivery (the first included). */
  deliveryAttempts: number;
  /** Share of a connector job's runs that failed (ConnectorSpec.jobs) above which it alerts... */
  jobErrorRate: number;
  /** ...over the runs finished in this window, in minutes (a 30-minute job runs 48 times a day). */
  jobErrorRateWindowMinutes: number;
};

export const ALERT_DEFAULTS: AlertConfig = {
  errorRate: 0.05,
  errorRateWindowMinutes: 15,
  errorRateMinRequests: 20,
  breakerOpenMinutes: 10,
  driftRatio: 0.01,
  driftMinRecords: 10,
  parkedGrowth: 1,
  parkedWindowMinutes: 15,
  webhookBacklogMinutes: 5,
  cooldownMinutes: 60,
  deliveryAttempts: 3,
  jobErrorRate: 0.05,
  jobErrorRateWindowMinutes: 1440,
};

/** The env var of each setting (ALERT_ERROR_RATE, ALERT_COOLDOWN_MINUTES, ...). */
export const ALERT_ENV: Record<keyof AlertConfig, string> = {
  errorRate: "ALERT_ERROR_RATE",
  errorRateWindowMinutes: "ALERT_ERROR_RATE_WINDOW_MINUTES",
  errorRateMinRequests: "ALERT_ERROR_RATE_MIN_REQUESTS",
  breakerOpenMinutes: "ALERT_BREAKER_OPEN_MINUTES",
  driftRatio: "ALERT_DRIFT_RATIO",
  driftMinRecords: "ALERT_DRIFT_MIN_RECORDS",
  parkedGrowth: "ALERT_PARKED_GROWTH",
  parkedWindowMinutes: "ALERT_PARKED_WINDOW_MINUTES",
  webhookBacklogMinutes: "ALERT_WEBHOOK_BACKLOG_MINUTES",
  cooldownMinutes: "ALERT_COOLDOWN_MINUTES",
  deliveryAttempts: "ALERT_DELIVERY_ATTEMPTS",
  jobErrorRate: "ALERT_JOB_ERROR_RATE",
  jobErrorRateWindowMinutes: "ALERT_JOB_ERROR_RATE_WINDOW_MINUTES",
};

/** Reads the settings from env-like vars; a value that is absent, not a number or negative keeps the default. */
export function alertConfig(vars: object): AlertConfig {
  const out = { ...ALERT_DEFAULTS };
  for (const key of Object.keys(ALERT_ENV) as (keyof AlertConfig)[]) {
    const raw = (vars as Record<string, unknown>)[ALERT_ENV[key]];
    if (typeof raw !== "string" || raw.trim() === "") continue;
    const n = Number(raw);
    if (Number.isFinite(n) && n >= 0) out[key] = n;
  }
  out.deliveryAttempts = Math.min(10, Math.max(1, Math.floor(out.deliveryAttempts)));
  return out;
}

import type { AccountSync } from "../durable-objects/account-sync";
import type { RateBudget } from "../durable-objects/rate-budget";
import type { TransformMessage } from "./pipeline/messages";

/** Bindings, vars and secrets of the Worker (see wrangler.toml and .dev.vars.example). */
export interface Env {
  ACCOUNT_SYNC: DurableObjectNamespace<AccountSync>;
  /** One rate budget per provider credential the provider counts by (named by its fingerprint), shared by accounts. */
  RATE_BUDGET: DurableObjectNamespace<RateBudget>;
  TRANSFORMS: Queue<TransformMessage>;
  /** The request role (etl_app): sees only the account a transaction names, never more. */
  DATABASE_URL: string;
  /**
   * The system role (etl_system) for cross-account work: queue consumer, cron fan-out, sweeps, webhook routing.
   * Unset: system paths use DATABASE_URL, and /health answers 503.
   */
  SYSTEM_DATABASE_URL?: string;
  /** host:port of the local WebSocket-to-TCP proxy; unset in production (Neon terminates WebSockets). */
  DB_WS_PROXY?: string;
  ADMIN_TOKEN: string;
  /** `kid:<base64 32 bytes>[,kid:...]`, first entry encrypts, all decrypt. */
  CREDENTIALS_KEY: string;
  /**
   * HMAC key of the OAuth connect flow's `state`. Per provider, also OAUTH_<PROVIDER>_CLIENT_ID and
   * _CLIENT_SECRET (secrets), optional _AUTH_BASE_URL (origin of its authorize/token/revoke URLs, e.g. a
   * simulator) and _API_BASE_URL (base URL of the connections the flow creates); read by name in src/oauth.
   */
  OAUTH_STATE_SECRET?: string;
  /** Public origin the provider redirects back to (`<origin>/oauth/callback/<provider>`); default: the request's. */
  OAUTH_REDIRECT_BASE_URL?: string;
  /** Pages a sync step fetches before yielding to the alarm, to stay inside per-invocation limits. */
  SYNC_PAGES_PER_STEP?: string;
  /** Wall-clock milliseconds after which a sync step starts no further page (whichever of the two comes first). */
  SYNC_STEP_MS?: string;
  /** Hours transformed staging rows are kept before the daily prune (pruneStaging); default 72. */
  STAGING_RETENTION_HOURS?: string;
  /** Minutes a staged page may stay pending before the 15-minute cron announces it again; default 15. */
  STAGING_REANNOUNCE_AFTER_MINUTES?: string;
  /**
   * First ceiling, in seconds, of the transform queue's retry schedule (default 6, growing 4× per retry: five
   * retries span at least 17 min). Local harnesses shorten it; production keeps the default.
   */
  TRANSFORM_RETRY_BASE_SECONDS?: string;
  /** Days a finished run and its log lines are kept in the run history (default 30). */
  RUN_HISTORY_RETENTION_DAYS?: string;
  /** Workers Analytics Engine dataset for metrics; optional: without it metrics are only served from Postgres. */
  METRICS?: AnalyticsEngineDataset;
  /** Connections one scheduler claim takes (default 100); a tick claims page after page while its time lasts. */
  SCHEDULER_CLAIM_PAGE?: string;
  /** Wall-clock milliseconds a scheduler tick spends starting work before leaving the rest to the next (40,000). */
  SCHEDULER_TICK_MS?: string;
  /**
   * Transform pages a backfill of one account may keep waiting in the shared queue (default 200): it fetches no
   * further page until its backlog drains below, so other accounts' webhooks and deltas queue behind at most that.
   */
  BACKFILL_INFLIGHT_PAGES?: string;
  /**
   * Where alerts are POSTed (Slack-compatible JSON signed with Standard Webhooks using ALERT_WEBHOOK_SECRET, a
   * `whsec_<base64>` secret). Unset: alerts are evaluated, recorded and listed, not sent. Thresholds and the
   * cooldown: ALERT_ERROR_RATE, ALERT_COOLDOWN_MINUTES, ... (src/alerts/config.ts names them all).
   */
  ALERT_WEBHOOK_URL?: string;
  ALERT_WEBHOOK_SECRET?: string;
  ALERT_ERROR_RATE?: string;
  ALERT_ERROR_RATE_WINDOW_MINUTES?: string;
  ALERT_ERROR_RATE_MIN_REQUESTS?: string;
  ALERT_BREAKER_OPEN_MINUTES?: string;
  ALERT_DRIFT_RATIO?: string;
  ALERT_DRIFT_MIN_RECORDS?: string;
  ALERT_PARKED_GROWTH?: string;
  ALERT_PARKED_WINDOW_MINUTES?: string;
  ALERT_WEBHOOK_BACKLOG_MINUTES?: string;
  ALERT_COOLDOWN_MINUTES?: string;
  ALERT_DELIVERY_ATTEMPTS?: string;
  /** Test-only: base URL of the provider simulator started by the workerd test setup. */
  SIMULATOR_URL?: string;
}

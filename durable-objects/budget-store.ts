import type { RateLimitPolicy } from "../src/connectors/types";
import {
  type BudgetSnapshot,
  budgetSnapshot,
  DEFAULT_RESERVE,
  type HeaderReader,
  initialRateBudgetState,
  observeRateHeaders,
  onRateLimited,
  type Priority,
  type RateBudgetConfig,
  type RateBudgetState,
  takeToken,
} from "../src/core/rate-budget";

export type StoredBudgetConfig = RateBudgetConfig & { headers: RateLimitPolicy["headers"] };

export function budgetConfigFrom(policy: RateLimitPolicy): StoredBudgetConfig {
  return {
    limit: policy.limit,
    windowMs: policy.windowMs,
    reserve: DEFAULT_RESERVE,
    headers: policy.headers,
  };
}

// Used only when nothing has told the object a connection's policy yet: cautious, one request per second.
const FALLBACK: StoredBudgetConfig = {
  limit: 10,
  windowMs: 10_000,
  reserve: DEFAULT_RESERVE,
  headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
};

type Row = { state_json: string; config_json: string | null };

function read(sql: SqlStorage, connectionId: string): { state: RateBudgetState; config: StoredBudgetConfig } {
  const row = sql
    .exec<Row>("select state_json, config_json from budgets where connection_id = ?", connectionId)
    .toArray()[0];
  return {
    state: row ? (JSON.parse(row.state_json) as RateBudgetState) : initialRateBudgetState(),
    config: row?.config_json ? (JSON.parse(row.config_json) as StoredBudgetConfig) : FALLBACK,
  };
}

function write(sql: SqlStorage, connectionId: string, state: RateBudgetState, config: StoredBudgetConfig) {
  sql.exec(
    `insert into budgets (connection_id, state_json, config_json) values (?, ?, ?)
     on conflict (connection_id) do update set state_json = excluded.state_json, config_json = excluded.config_json`,
    connectionId,
    JSON.stringify(state),
    JSON.stringify(config),
  );
}

export type Acquired = { granted: true } | { granted: false; retryAt: number };

/**
 * One sliding-window budget per connection, shared by every caller in the object (webhook fetches, delta,
 * backfill) and persisted after each grant. Synchronous read-modify-write: no two callers see the same slot.
 */
export const budgetStore = {
  acquire(
    sql: SqlStorage,
    connectionId: string,
    priority: Priority,
    now: number,
    policy?: RateLimitPolicy,
  ): Acquired {
    const current = read(sql, connectionId);
    const config = policy ? budgetConfigFrom(policy) : current.config;
    const result = takeToken(current.state, config, now, priority);
    write(sql, connectionId, result.state, config);
    return result.granted ? { granted: true } : { granted: false, retryAt: now + result.waitMs };
  },
  /** Learns the provider's view from its X-RateLimit-* headers (every response, 429 included). */
  observe(sql: SqlStorage, connectionId: string, now: number, headers: HeaderReader): void {
    const { state, config } = read(sql, connectionId);
    write(sql, connectionId, observeRateHeaders(state, config, now, headers, config.headers), config);
  },
  /** A 429: the whole connection waits until Retry-After (or a full window). Returns when it may call again. */
  rateLimited(sql: SqlStorage, connectionId: string, now: number, retryAfterMs: number | null): number {
    const { state, config } = read(sql, connectionId);
    const next = onRateLimited(state, now, retryAfterMs, config);
    write(sql, connectionId, next, config);
    return next.blockedUntil ?? now;
  },
  snapshot(sql: SqlStorage, connectionId: string, now: number): BudgetSnapshot {
    const { state, config } = read(sql, connectionId);
    return budgetSnapshot(state, config, now);
  },
  remove(sql: SqlStorage, connectionId: string): void {
    sql.exec("delete from budgets where connection_id = ?", connectionId);
  },
};

import type { RateLimitPolicy } from "../src/connectors/types";
import {
  DEFAULT_RESERVE,
  type HeaderReader,
  type Priority,
  type RateBudgetState,
} from "../src/core/rate-budget";
import {
  type ContextSnapshot,
  contextSnapshots,
  DEFAULT_CONTEXT,
  initialRateContextsState,
  observeContextHeaders,
  onContextRateLimited,
  pruneContexts,
  type RateContextsConfig,
  type RateContextsState,
  rateContextFor,
  takeContextToken,
} from "../src/core/rate-contexts";

export type StoredBudgetConfig = RateContextsConfig & { headers: RateLimitPolicy["headers"] };

export function budgetConfigFrom(policy: RateLimitPolicy): StoredBudgetConfig {
  return {
    limit: policy.limit,
    windowMs: policy.windowMs,
    reserve: DEFAULT_RESERVE,
    headers: policy.headers,
    defaultContext: policy.defaultContext ?? DEFAULT_CONTEXT,
    contexts: policy.contexts ?? [],
    ...(policy.contextHeader ? { contextHeader: policy.contextHeader } : {}),
  };
}

// Used only when nothing has told the object a connection's policy yet: cautious, one request per second.
const FALLBACK: StoredBudgetConfig = {
  limit: 10,
  windowMs: 10_000,
  reserve: DEFAULT_RESERVE,
  headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
  defaultContext: DEFAULT_CONTEXT,
  contexts: [],
};

type Row = { state_json: string; config_json: string | null };

/** Rows written before budgets had contexts hold one window's state (and a config without contexts). */
function parseConfig(json: string | null | undefined): StoredBudgetConfig {
  if (!json) return FALLBACK;
  const c = JSON.parse(json) as Partial<StoredBudgetConfig> &
    Omit<StoredBudgetConfig, "defaultContext" | "contexts">;
  return { ...c, defaultContext: c.defaultContext ?? DEFAULT_CONTEXT, contexts: c.contexts ?? [] };
}

function parseState(json: string | undefined, config: StoredBudgetConfig): RateContextsState {
  if (!json) return initialRateContextsState();
  const s = JSON.parse(json) as Partial<RateContextsState> | RateBudgetState;
  if ("grants" in s && Array.isArray(s.grants)) return { contexts: { [config.defaultContext]: s } };
  return { contexts: ("contexts" in s ? s.contexts : undefined) ?? {} };
}

/** The default context's log survives its name being declared (a row stored before names were known). */
function renameDefault(s: RateContextsState, from: string, to: string): RateContextsState {
  const log = s.contexts[from];
  if (from === to || !log || s.contexts[to]) return s;
  const { [from]: _, ...rest } = s.contexts;
  return { contexts: { ...rest, [to]: log } };
}

function read(
  sql: SqlStorage,
  connectionId: string,
): { state: RateContextsState; config: StoredBudgetConfig } {
  const row = sql
    .exec<Row>("select state_json, config_json from budgets where connection_id = ?", connectionId)
    .toArray()[0];
  const config = parseConfig(row?.config_json);
  return { state: parseState(row?.state_json, config), config };
}

function write(sql: SqlStorage, connectionId: string, state: RateContextsState, config: StoredBudgetConfig) {
  sql.exec(
    `insert into budgets (connection_id, state_json, config_json) values (?, ?, ?)
     on conflict (connection_id) do update set state_json = excluded.state_json, config_json = excluded.config_json`,
    connectionId,
    JSON.stringify(pruneContexts(state, config)),
    JSON.stringify(config),
  );
}

export type Acquired = { granted: true } | { granted: false; retryAt: number };

/** The default context's figures (as before contexts existed) and every context's, the default first. */
export type RateBudgetView = ContextSnapshot & { contexts: ContextSnapshot[] };

/**
 * One sliding-window budget per rate context of a connection, shared by every caller in the object (webhook
 * fetches, delta, backfill) and persisted after each grant. Synchronous read-modify-write: no two callers see
 * the same slot.
 */
export const budgetStore = {
  /** The context a request to `path` (below the connection's base URL) is counted in. */
  contextOf(policy: RateLimitPolicy, method: string, path: string): string {
    return rateContextFor(budgetConfigFrom(policy), method, path);
  },
  acquire(
    sql: SqlStorage,
    connectionId: string,
    priority: Priority,
    now: number,
    policy?: RateLimitPolicy,
    context?: string,
  ): Acquired {
    const current = read(sql, connectionId);
    const config = policy ? budgetConfigFrom(policy) : current.config;
    const state = renameDefault(current.state, current.config.defaultContext, config.defaultContext);
    const result = takeContextToken(state, config, context ?? config.defaultContext, now, priority);
    write(sql, connectionId, result.state, config);
    return result.granted ? { granted: true } : { granted: false, retryAt: now + result.waitMs };
  },
  /**
   * Learns the provider's view from its X-RateLimit-* headers (every response, 429 included), in the context
   * the response names, else the one the request was counted in. Returns the context it applied to.
   */
  observe(
    sql: SqlStorage,
    connectionId: string,
    now: number,
    headers: HeaderReader,
    matched?: string,
  ): string {
    const { state, config } = read(sql, connectionId);
    const seen = observeContextHeaders(state, config, matched ?? config.defaultContext, now, headers);
    write(sql, connectionId, seen.state, config);
    return seen.context;
  },
  /** A 429: the context waits until Retry-After (or a full window). Returns when it may call again. */
  rateLimited(
    sql: SqlStorage,
    connectionId: string,
    now: number,
    retryAfterMs: number | null,
    context?: string,
  ): number {
    const { state, config } = read(sql, connectionId);
    const name = context ?? config.defaultContext;
    const next = onContextRateLimited(state, config, name, now, retryAfterMs);
    write(sql, connectionId, next, config);
    return next.contexts[name]?.blockedUntil ?? now;
  },
  snapshot(sql: SqlStorage, connectionId: string, now: number): RateBudgetView {
    const { state, config } = read(sql, connectionId);
    const contexts = contextSnapshots(state, config, now);
    return { ...(contexts[0] as ContextSnapshot), contexts };
  },
  remove(sql: SqlStorage, connectionId: string): void {
    sql.exec("delete from budgets where connection_id = ?", connectionId);
  },
};

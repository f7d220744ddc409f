import type { RateLimitPolicy } from "../src/connectors/types";
import {
  DEFAULT_RESERVE,
  type HeaderReader,
  type Priority,
  type RateBudgetState,
  RESERVE_IDLE_WINDOWS,
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
    reserve: policy.reserve ?? DEFAULT_RESERVE,
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
 * What one response tells its budget: the rate headers it carried (on a 429 without Remaining, whose 0 would block
 * a whole window where Retry-After says less), the context the request was counted in, and on a 429 its
 * Retry-After. Plain data, so it crosses an RPC to a shared budget as it is.
 */
export type BudgetFeedback = {
  headers: Record<string, string>;
  context: string;
  rateLimited: { retryAfterMs: number | null } | null;
};

/** The context the feedback applied to and, after a 429, when that context may call again. */
export type Settled = { context: string; retryAt: number | null };

/** The headers of a response the budget reads (lower-cased names), the only part of a response it keeps. */
export function budgetHeaders(
  policy: RateLimitPolicy,
  headers: HeaderReader,
  withoutRemaining: boolean,
): Record<string, string> {
  const h = policy.headers;
  const names = [
    h.limit,
    h.window ?? "X-RateLimit-Window",
    h.reset ?? "X-RateLimit-Reset",
    ...(withoutRemaining ? [] : [h.remaining]),
    ...(policy.contextHeader ? [policy.contextHeader] : []),
  ];
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) out[name.toLowerCase()] = value;
  }
  return out;
}

const readerOf = (headers: Record<string, string>): HeaderReader => ({
  get: (name) => headers[name.toLowerCase()] ?? null,
});

/** The table every object keeping budgets has (AccountSync's schema creates the same one). */
const BUDGETS_TABLE =
  "create table if not exists budgets (connection_id text primary key, state_json text not null, config_json text)";

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
  /** A response's feedback in one step: its headers, then its 429 if it was one. */
  settle(sql: SqlStorage, connectionId: string, now: number, feedback: BudgetFeedback): Settled {
    const context = budgetStore.observe(sql, connectionId, now, readerOf(feedback.headers), feedback.context);
    if (!feedback.rateLimited) return { context, retryAt: null };
    const retryAfterMs = feedback.rateLimited.retryAfterMs;
    return { context, retryAt: budgetStore.rateLimited(sql, connectionId, now, retryAfterMs, context) };
  },
  snapshot(sql: SqlStorage, connectionId: string, now: number): RateBudgetView {
    const { state, config } = read(sql, connectionId);
    const contexts = contextSnapshots(state, config, now);
    return { ...(contexts[0] as ContextSnapshot), contexts };
  },
  remove(sql: SqlStorage, connectionId: string): void {
    sql.exec("delete from budgets where connection_id = ?", connectionId);
  },
  ensureTable(sql: SqlStorage): void {
    sql.exec(BUDGETS_TABLE);
  },
  /**
   * Nothing in the budget matters any more: no grant in any window, no block, and no reserve still held by a
   * priority that took a slot within the last RESERVE_IDLE_WINDOWS windows. Forgetting it then changes no verdict.
   */
  idle(sql: SqlStorage, connectionId: string, now: number): boolean {
    const { state, config } = read(sql, connectionId);
    const busy = Object.values(state.contexts).some((s) => {
      const windowMs = s.observedWindowMs ?? config.windowMs;
      const lastUse = Math.max(0, ...s.grants, s.lastGrant?.webhook ?? 0, s.lastGrant?.delta ?? 0);
      return (s.blockedUntil ?? 0) > now || lastUse + RESERVE_IDLE_WINDOWS * windowMs > now;
    });
    return !busy;
  },
};

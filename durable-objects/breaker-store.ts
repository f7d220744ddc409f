import {
  type BreakerConfig,
  type BreakerDecision,
  type BreakerState,
  breakerAllows,
  DEFAULT_BREAKER_CONFIG,
  forceBreaker,
  initialBreakerState,
  loadBreakerState,
  recordFailure,
  recordSuccess,
  windowCounts,
} from "../src/core/breaker";
import { breakerConfigFrom } from "../src/core/breaker-settings";
import { noteBreakerState } from "./breaker-report";

/** Per-connection thresholds from `connection.settings.breaker`; invalid or unknown keys fall back to defaults. */
export { breakerConfigFrom };

type Row = { state_json: string; config_json: string | null };

function read(sql: SqlStorage, connectionId: string): { state: BreakerState; config: BreakerConfig | null } {
  const row = sql
    .exec<Row>("select state_json, config_json from breakers where connection_id = ?", connectionId)
    .toArray()[0];
  if (!row) return { state: initialBreakerState(), config: null };
  // Rows written by the count-based breaker (untimed outcomes, `windowSize`) load as the windowed form.
  return {
    state: loadBreakerState(JSON.parse(row.state_json)),
    config: row.config_json ? breakerConfigFrom({ breaker: JSON.parse(row.config_json) }) : null,
  };
}

/**
 * Persists a transition; counts openings and recoveries so operators (and tests) see what happened, and notes
 * an open/closed change for Postgres (breaker-report.ts), where the breaker-open alert reads it.
 */
function write(
  sql: SqlStorage,
  connectionId: string,
  state: BreakerState,
  config: BreakerConfig | null,
  before?: BreakerState,
  now = Date.now(),
) {
  const opened = before && before.state !== "open" && state.state === "open" ? 1 : 0;
  const closed = before && before.state === "half_open" && state.state === "closed" ? 1 : 0;
  sql.exec(
    `insert into breakers (connection_id, state_json, config_json, opened, closed) values (?, ?, ?, ?, ?)
     on conflict (connection_id) do update set state_json = excluded.state_json,
       config_json = coalesce(excluded.config_json, breakers.config_json),
       opened = breakers.opened + excluded.opened, closed = breakers.closed + excluded.closed`,
    connectionId,
    JSON.stringify(state),
    config ? JSON.stringify(config) : null,
    opened,
    closed,
  );
  noteBreakerState(sql, connectionId, state, now);
}

function counters(sql: SqlStorage, connectionId: string): { opened: number; closed: number } {
  return (
    sql
      .exec<{ opened: number; closed: number }>(
        "select opened, closed from breakers where connection_id = ?",
        connectionId,
      )
      .toArray()[0] ?? { opened: 0, closed: 0 }
  );
}

/**
 * The breaker persisted per connection. Each operation is read-transition-write with no await in between,
 * so it is atomic inside the object even while other calls wait on the network.
 */
export const breakerStore = {
  allow(sql: SqlStorage, connectionId: string, config: BreakerConfig, now: number): BreakerDecision {
    const before = read(sql, connectionId).state;
    const decision = breakerAllows(before, config, now);
    write(sql, connectionId, decision.state, config, before, now);
    return decision;
  },
  success(sql: SqlStorage, connectionId: string, config: BreakerConfig, now: number): BreakerState {
    const before = read(sql, connectionId).state;
    const next = recordSuccess(before, config, now);
    write(sql, connectionId, next, config, before, now);
    return next;
  },
  failure(sql: SqlStorage, connectionId: string, config: BreakerConfig, now: number): BreakerState {
    const before = read(sql, connectionId).state;
    const next = recordFailure(before, config, now);
    write(sql, connectionId, next, config, before, now);
    return next;
  },
  /**
   * A granted half-open probe that ended without a verdict on the provider's health (a 429, a 4xx) must
   * give its slot back, or the breaker would wait for a verdict that never comes.
   */
  releaseProbe(sql: SqlStorage, connectionId: string): void {
    const { state, config } = read(sql, connectionId);
    if (state.state !== "half_open" || state.probesInFlight === 0) return;
    write(sql, connectionId, { ...state, probesInFlight: state.probesInFlight - 1 }, config);
  },
  force(sql: SqlStorage, connectionId: string, mode: "open" | "closed" | null, now: number): BreakerState {
    const current = read(sql, connectionId).state;
    let next = forceBreaker(current, mode);
    // A forced open has no natural end; openedAt records when the operator did it.
    if (mode === "open") next = { ...next, openedAt: now };
    write(sql, connectionId, next, null, undefined, now);
    return next;
  },
  view(sql: SqlStorage, connectionId: string, now: number) {
    const { state, config } = read(sql, connectionId);
    const cfg = config ?? DEFAULT_BREAKER_CONFIG;
    const { calls, failures } = windowCounts(state, cfg, now);
    return {
      state: state.forced ?? state.state,
      mode: state.forced ? `forced_${state.forced}` : "auto",
      /** Over the calls of the last `config.windowMs`. */
      failureRate: calls ? failures / calls : 0,
      calls,
      failures,
      openedAt: state.openedAt,
      reopensAt:
        state.state === "open" && !state.forced && state.openedAt !== null
          ? Math.max(now, state.openedAt + cfg.openMs)
          : null,
      probesInFlight: state.probesInFlight,
      probeSuccesses: state.probeSuccesses,
      /** Transitions so far: closed/half-open → open, and half-open → closed. */
      transitions: counters(sql, connectionId),
      config: cfg,
    };
  },
  remove(sql: SqlStorage, connectionId: string): void {
    sql.exec("delete from breakers where connection_id = ?", connectionId);
    // A connection created again under the same id starts closed in Postgres too.
    noteBreakerState(sql, connectionId, initialBreakerState(), Date.now());
  },
};

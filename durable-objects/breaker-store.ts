import {
  type BreakerConfig,
  type BreakerDecision,
  type BreakerState,
  breakerAllows,
  DEFAULT_BREAKER_CONFIG,
  forceBreaker,
  initialBreakerState,
  recordFailure,
  recordSuccess,
} from "../src/core/breaker";

/** Per-connection thresholds from `connection.settings.breaker`; unknown or invalid keys fall back to defaults. */
export function breakerConfigFrom(settings: Record<string, unknown> | undefined): BreakerConfig {
  const raw = settings?.breaker;
  const cfg = { ...DEFAULT_BREAKER_CONFIG };
  if (!raw || typeof raw !== "object") return cfg;
  const r = raw as Record<string, unknown>;
  const num = (k: keyof BreakerConfig, min: number, max: number) => {
    const v = r[k];
    if (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max) cfg[k] = v;
  };
  num("windowSize", 1, 1000);
  num("minCalls", 1, 1000);
  num("failureRateThreshold", 0.001, 1);
  num("openMs", 1, 24 * 3_600_000);
  num("halfOpenProbes", 1, 100);
  return cfg;
}

type Row = { state_json: string; config_json: string | null };

function read(sql: SqlStorage, connectionId: string): { state: BreakerState; config: BreakerConfig | null } {
  const row = sql
    .exec<Row>("select state_json, config_json from breakers where connection_id = ?", connectionId)
    .toArray()[0];
  if (!row) return { state: initialBreakerState(), config: null };
  return {
    state: JSON.parse(row.state_json) as BreakerState,
    config: row.config_json ? (JSON.parse(row.config_json) as BreakerConfig) : null,
  };
}

/** Persists a transition; counts openings and recoveries so operators (and tests) see what happened. */
function write(
  sql: SqlStorage,
  connectionId: string,
  state: BreakerState,
  config: BreakerConfig | null,
  before?: BreakerState,
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
    write(sql, connectionId, decision.state, config, before);
    return decision;
  },
  success(sql: SqlStorage, connectionId: string, config: BreakerConfig, now: number): BreakerState {
    const before = read(sql, connectionId).state;
    const next = recordSuccess(before, config, now);
    write(sql, connectionId, next, config, before);
    return next;
  },
  failure(sql: SqlStorage, connectionId: string, config: BreakerConfig, now: number): BreakerState {
    const before = read(sql, connectionId).state;
    const next = recordFailure(before, config, now);
    write(sql, connectionId, next, config, before);
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
    write(sql, connectionId, next, null);
    return next;
  },
  view(sql: SqlStorage, connectionId: string, now: number) {
    const { state, config } = read(sql, connectionId);
    const cfg = config ?? DEFAULT_BREAKER_CONFIG;
    const failures = state.window.reduce((sum, x) => sum + x, 0);
    return {
      state: state.forced ?? state.state,
      mode: state.forced ? `forced_${state.forced}` : "auto",
      failureRate: state.window.length ? failures / state.window.length : 0,
      calls: state.window.length,
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
  },
};

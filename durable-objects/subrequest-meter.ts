import type { DbConfig } from "../src/db/client";
import type { Env } from "../src/env";

/**
 * Counts what one invocation of the object sends out: provider fetches, queue calls and Postgres connections
 * (each a WebSocket). The platform caps subrequests per invocation (Workers Paid: 10,000; Free: 50), so a
 * sync step's size must keep the highest count far below that; the status shows it.
 */
export class SubrequestMeter {
  private fetches = 0;
  private queueCalls = 0;
  private connections = 0;

  readonly fetch: typeof fetch = (input, init) => {
    this.fetches++;
    return fetch(input, init);
  };

  /** The environment with its queue counted and a Postgres connection hook that `openDb` calls. */
  env(env: Env): Env & DbConfig {
    const queue = env.TRANSFORMS;
    const metered: Queue<unknown> = {
      send: (body, options) => {
        this.queueCalls++;
        return queue.send(body as never, options);
      },
      sendBatch: (messages, options) => {
        this.queueCalls++;
        return queue.sendBatch(messages as never, options);
      },
      metrics: () => queue.metrics(),
    };
    return {
      ...env,
      TRANSFORMS: metered as Env["TRANSFORMS"],
      onDbConnect: () => {
        this.connections++;
      },
    };
  }

  counts(): SubrequestCounts {
    return {
      fetch: this.fetches,
      queue: this.queueCalls,
      database: this.connections,
      total: this.fetches + this.queueCalls + this.connections,
    };
  }
}

export type SubrequestCounts = { fetch: number; queue: number; database: number; total: number };

export type InvocationStats = {
  /** Alarm invocations seen since the object's storage was created. */
  invocations: number;
  /** Subrequests of all of them, for the mean. */
  subrequests: number;
  last: SubrequestCounts | null;
  /** The invocation with the most subrequests. */
  max: SubrequestCounts | null;
};

const KEY = "invocation_stats";

export function recordInvocation(sql: SqlStorage, counts: SubrequestCounts): void {
  const stats = invocationStats(sql);
  const next: InvocationStats = {
    invocations: stats.invocations + 1,
    subrequests: stats.subrequests + counts.total,
    last: counts,
    max: !stats.max || counts.total > stats.max.total ? counts : stats.max,
  };
  sql.exec(
    "insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
    KEY,
    JSON.stringify(next),
  );
}

export function invocationStats(sql: SqlStorage): InvocationStats {
  const row = sql.exec<{ value: string }>("select value from meta where key = ?", KEY).toArray()[0];
  return row
    ? (JSON.parse(row.value) as InvocationStats)
    : { invocations: 0, subrequests: 0, last: null, max: null };
}

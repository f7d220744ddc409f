import type { CounterIncrement } from "../src/metrics/counters";

type Reported = { opened: number; closed: number };
export type Transitions = {
  connectionId: string;
  provider: string;
  opened: number;
  closed: number;
  total: Reported;
};

const key = (connectionId: string) => `breaker_reported:${connectionId}`;

/**
 * Breaker transitions the object counted (breakers.opened / closed, cumulative) that the durable metric
 * counters have not been told of yet, per connection.
 */
export function unreportedTransitions(sql: SqlStorage): Transitions[] {
  const rows = sql
    .exec<{
      connection_id: string;
      opened: number;
      closed: number;
      reported: string | null;
      provider: string | null;
    }>(
      `select b.connection_id, b.opened, b.closed, m.value as reported,
         (select provider from sync_state s where s.connection_id = b.connection_id limit 1) as provider
       from breakers b left join meta m on m.key = 'breaker_reported:' || b.connection_id`,
    )
    .toArray();
  const out: Transitions[] = [];
  for (const r of rows) {
    const before = r.reported ? (JSON.parse(r.reported) as Reported) : { opened: 0, closed: 0 };
    const opened = Math.max(0, r.opened - before.opened);
    const closed = Math.max(0, r.closed - before.closed);
    if (opened + closed === 0) continue;
    out.push({
      connectionId: r.connection_id,
      provider: r.provider ?? "unknown",
      opened,
      closed,
      total: { opened: r.opened, closed: r.closed },
    });
  }
  return out;
}

export function transitionIncrements(list: Transitions[]): CounterIncrement[] {
  return list.flatMap((t) => [
    ...(t.opened
      ? [{ name: "breaker_transitions_total", labels: { provider: t.provider, to: "open" }, by: t.opened }]
      : []),
    ...(t.closed
      ? [{ name: "breaker_transitions_total", labels: { provider: t.provider, to: "closed" }, by: t.closed }]
      : []),
  ]);
}

/** After the counters took them: a crash between the two counts them again (at least once, never lost). */
export function markReported(sql: SqlStorage, list: Transitions[]): void {
  for (const t of list)
    sql.exec(
      "insert or replace into meta (key, value) values (?, ?)",
      key(t.connectionId),
      JSON.stringify(t.total),
    );
}

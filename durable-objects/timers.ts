/**
 * One alarm per object, many timers: each timer is a row, and the alarm is always set to the earliest due
 * one. Alarms are at-least-once, so firing a timer twice must be harmless (handlers check state first).
 */
export type Timer = { name: string; dueAt: number; payload: string; gen: number };

/** Arms (or re-arms) a timer; the generation lets completeTimer tell a re-armed timer from the fired one. */
export function setTimer(storage: DurableObjectStorage, name: string, dueAt: number, payload: unknown): void {
  storage.sql.exec(
    `insert into timers (name, due_at, payload, gen) values (?, ?, ?, 1)
     on conflict (name) do update set due_at = excluded.due_at, payload = excluded.payload, gen = timers.gen + 1`,
    name,
    dueAt,
    JSON.stringify(payload),
  );
}

export function clearTimer(storage: DurableObjectStorage, name: string): void {
  storage.sql.exec("delete from timers where name = ?", name);
}

/** Timers due at `now`; each stays stored until completeTimer, so a crashed alarm retries it. */
export function dueTimers(storage: DurableObjectStorage, now: number): Timer[] {
  return storage.sql
    .exec<{ name: string; due_at: number; payload: string; gen: number }>(
      "select name, due_at, payload, gen from timers where due_at <= ? order by due_at",
      now,
    )
    .toArray()
    .map((t) => ({ name: t.name, dueAt: t.due_at, payload: t.payload, gen: t.gen }));
}

/** Deletes a fired timer unless its handler already re-armed it for a different time. */
export function completeTimer(storage: DurableObjectStorage, timer: Timer): void {
  storage.sql.exec("delete from timers where name = ? and gen = ?", timer.name, timer.gen);
}

export function listTimers(storage: DurableObjectStorage): Timer[] {
  return storage.sql
    .exec<{ name: string; due_at: number; payload: string; gen: number }>(
      "select name, due_at, payload, gen from timers order by due_at",
    )
    .toArray()
    .map((t) => ({ name: t.name, dueAt: t.due_at, payload: t.payload, gen: t.gen }));
}

/** Points the single alarm at the earliest timer (or clears it). */
export async function syncAlarm(storage: DurableObjectStorage): Promise<void> {
  const next = storage.sql
    .exec<{ due: number | null }>("select min(due_at) as due from timers")
    .toArray()[0]?.due;
  if (next == null) await storage.deleteAlarm();
  else await storage.setAlarm(next);
}

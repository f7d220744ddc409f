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

/** Re-arms a fired timer unless someone re-armed it since it fired (the fresher decision wins). */
export function rearmTimer(
  storage: DurableObjectStorage,
  fired: Timer,
  dueAt: number,
  payload: unknown,
): void {
  storage.sql.exec(
    "update timers set due_at = ?, payload = ?, gen = gen + 1 where name = ? and gen = ?",
    dueAt,
    JSON.stringify(payload),
    fired.name,
    fired.gen,
  );
}

/**
 * Timers due at `now`; each stays stored until completeTimer, so a crashed alarm retries it. Timers whose
 * name starts with `skipPrefix` (paused work) stay stored but don't fire.
 */
export function dueTimers(storage: DurableObjectStorage, now: number, skipPrefix?: string): Timer[] {
  return storage.sql
    .exec<{ name: string; due_at: number; payload: string; gen: number }>(
      "select name, due_at, payload, gen from timers where due_at <= ? and (? is null or substr(name, 1, length(?)) <> ?) order by due_at",
      now,
      skipPrefix ?? null,
      skipPrefix ?? null,
      skipPrefix ?? null,
    )
    .toArray()
    .map((t) => ({ name: t.name, dueAt: t.due_at, payload: t.payload, gen: t.gen }));
}

/** Deletes a fired timer unless its handler already re-armed it for a different time. */
export function completeTimer(storage: DurableObjectStorage, timer: Timer): void {
  storage.sql.exec("delete from timers where name = ? and gen = ?", timer.name, timer.gen);
}

/** When the named timer is due, or null if it isn't set. */
export function timerDueAt(storage: DurableObjectStorage, name: string): number | null {
  const row = storage.sql
    .exec<{ due_at: number }>("select due_at from timers where name = ?", name)
    .toArray()[0];
  return row ? row.due_at : null;
}

export function listTimers(storage: DurableObjectStorage): Timer[] {
  return storage.sql
    .exec<{ name: string; due_at: number; payload: string; gen: number }>(
      "select name, due_at, payload, gen from timers order by due_at",
    )
    .toArray()
    .map((t) => ({ name: t.name, dueAt: t.due_at, payload: t.payload, gen: t.gen }));
}

/** Points the single alarm at the earliest timer that may fire (or clears it). */
export async function syncAlarm(storage: DurableObjectStorage, skipPrefix?: string): Promise<void> {
  const next = storage.sql
    .exec<{ due: number | null }>(
      "select min(due_at) as due from timers where ? is null or substr(name, 1, length(?)) <> ?",
      skipPrefix ?? null,
      skipPrefix ?? null,
      skipPrefix ?? null,
    )
    .toArray()[0]?.due;
  if (next == null) await storage.deleteAlarm();
  else await storage.setAlarm(next);
}

/**
 * Catch-ups the daily reconciliation asked for while the entity had a run in progress. One per entity (asking
 * twice is the same catch-up), kept in the object's storage so a restart between the ask and the run's end
 * loses nothing; taken when that run ends.
 */
const key = (connectionId: string, entity: string) => `catchup:${connectionId}:${entity}`;

export function queueCatchUp(
  sql: SqlStorage,
  c: { accountId: string; connectionId: string; entity: string },
): void {
  sql.exec(
    "insert or replace into meta (key, value) values (?, ?)",
    key(c.connectionId, c.entity),
    JSON.stringify({ accountId: c.accountId, at: Date.now() }),
  );
}

/** Whether a catch-up was queued for the entity; it is removed in the same call. */
export function takeQueuedCatchUp(sql: SqlStorage, connectionId: string, entity: string): boolean {
  const k = key(connectionId, entity);
  const found = sql.exec<{ value: string }>("select value from meta where key = ?", k).toArray().length > 0;
  if (found) sql.exec("delete from meta where key = ?", k);
  return found;
}

/**
 * A lease row is the mutex: the object runs other calls while one awaits a fetch, so "being inside a method"
 * protects nothing. Every operation is a single synchronous statement, hence atomic within the object.
 */
export type LeaseInfo = { name: string; holder: string; expiresAt: number };

export function acquireLease(
  sql: SqlStorage,
  name: string,
  holder: string,
  now: number,
  ttlMs: number,
): boolean {
  sql.exec(
    `insert into leases (name, holder, expires_at) values (?, ?, ?)
     on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
     where leases.expires_at <= ? or leases.holder = excluded.holder`,
    name,
    holder,
    now + ttlMs,
    now,
  );
  const row = sql.exec<{ holder: string }>("select holder from leases where name = ?", name).toArray()[0];
  return row?.holder === holder;
}

export function renewLease(
  sql: SqlStorage,
  name: string,
  holder: string,
  now: number,
  ttlMs: number,
): boolean {
  const cursor = sql.exec(
    "update leases set expires_at = ? where name = ? and holder = ?",
    now + ttlMs,
    name,
    holder,
  );
  return cursor.rowsWritten > 0;
}

export function releaseLease(sql: SqlStorage, name: string, holder: string): void {
  sql.exec("delete from leases where name = ? and holder = ?", name, holder);
}

export function listLeases(sql: SqlStorage, now: number): (LeaseInfo & { expired: boolean })[] {
  return sql
    .exec<{ name: string; holder: string; expires_at: number }>("select name, holder, expires_at from leases")
    .toArray()
    .map((r) => ({ name: r.name, holder: r.holder, expiresAt: r.expires_at, expired: r.expires_at <= now }));
}

/**
 * Called as an instance starts: it has no step in flight yet, so every lease in storage was held by an
 * instance that is gone (evicted, crashed, redeployed). Left in place, each would hold its run back for a
 * whole TTL after every restart.
 */
export function clearLeases(sql: SqlStorage): void {
  sql.exec("delete from leases");
}

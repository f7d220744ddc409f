import { breakerStore } from "./breaker-store";
import { TOKEN_SQLITE_SCHEMA } from "./tokens";

/** Nonces of OAuth states already used, until their state would have expired anyway. */
export const OAUTH_STATE_SQLITE_SCHEMA = `create table if not exists oauth_states_used (
  nonce text primary key, expires_at integer not null)`;

/**
 * Marks a state's nonce used; false when it was used before (a replayed callback). The object is
 * single-threaded, so the check and the insert are one step.
 */
export function consumeStateNonce(sql: SqlStorage, nonce: string, expiresAt: number, now: number): boolean {
  sql.exec(OAUTH_STATE_SQLITE_SCHEMA);
  sql.exec("delete from oauth_states_used where expires_at < ?", now);
  const seen = sql.exec("select 1 from oauth_states_used where nonce = ?", nonce).toArray().length > 0;
  if (seen) return false;
  sql.exec("insert into oauth_states_used (nonce, expires_at) values (?, ?)", nonce, expiresAt);
  return true;
}

/**
 * A connection was (re-)authorised: what its refused grant left behind goes (the refresh-failure record, and
 * the breaker held open for it), so its calls reach the provider again. An open breaker the operator forced
 * on a connection that was not `auth_failed` stays.
 */
export function grantRestored(
  sql: SqlStorage,
  connectionId: string,
  wasAuthFailed: boolean,
  now: number,
): void {
  sql.exec(TOKEN_SQLITE_SCHEMA);
  sql.exec("delete from oauth_refresh_failures where connection_id = ?", connectionId);
  if (wasAuthFailed) breakerStore.force(sql, connectionId, null, now);
}

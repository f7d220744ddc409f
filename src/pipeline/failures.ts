import { sql } from "drizzle-orm";

export type Failure = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  sourceId: string;
  payload: unknown;
  code: string;
  message: string;
};

/**
 * One statement for a batch's failures. Seen again (redelivery, replay of a still-bad record), a failure
 * counts another attempt and reopens, keeping its first-seen time.
 */
export function recordFailuresStatement(failures: Failure[]) {
  const rows = failures.map((f) => ({
    account_id: f.accountId,
    connection_id: f.connectionId,
    provider: f.provider,
    entity: f.entity,
    source_id: f.sourceId,
    payload: f.payload,
    error_code: f.code,
    error_message: f.message.slice(0, 2000),
  }));
  return sql`
    insert into failed_records (account_id, connection_id, provider, entity, source_id, payload, error_code, error_message)
    select distinct on (connection_id, entity, source_id) *
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(account_id text, connection_id text, provider text,
      entity text, source_id text, payload jsonb, error_code text, error_message text)
    on conflict (connection_id, entity, source_id) do update
      set payload = excluded.payload, error_code = excluded.error_code, error_message = excluded.error_message,
          attempts = failed_records.attempts + 1, last_seen_at = now(), resolved_at = null`;
}

/**
 * The database's own error behind a driver or ORM wrapper. The wrapper's message embeds the query and its
 * parameters (record payloads), which must not reach logs or failed_records.
 */
export function databaseError(error: unknown): { code: string | null; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
      return { code, message: String((current as { message?: unknown }).message ?? "database error") };
    }
    current = (current as { cause?: unknown }).cause;
  }
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = root instanceof Error ? root.message : String(root);
  return { code: null, message: message.startsWith("Failed query") ? "database error" : message };
}

/**
 * Data exceptions (22xxx) and integrity violations (23xxx) come from the record itself and fail the same
 * way every time; anything else (connection lost, deadlock, timeout) is worth retrying as is.
 */
export function isRecordError(code: string | null): boolean {
  return code !== null && (code.startsWith("22") || code.startsWith("23"));
}

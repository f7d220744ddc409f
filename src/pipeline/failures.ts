import { sql } from "drizzle-orm";
import { sanitizeError } from "../core/safe-error";
import { holdableText, storedJson } from "../core/storable";

export type Failure = {
  accountId: string;
  connectionId: string;
  provider: string;
  entity: string;
  sourceId: string;
  /** As staged: already in the storable encoding where it needed it. */
  payload: unknown;
  code: string;
  message: string;
  /** The run whose page held the record, when there was one. */
  runId?: string | null;
};

/**
 * One statement for a batch's failures. Seen again (redelivery, replay of a still-bad record), a failure
 * counts another attempt and reopens, keeping its first-seen time. Of several failures of one record in a
 * batch the first listed is kept. Payloads travel in the storable encoding
 * (depth checked: this is the failure path), so no payload can fail the statement.
 */
export function recordFailuresStatement(failures: Failure[]) {
  const rows = failures
    .map(
      (f, n) =>
        `{"n":${n},"account_id":${JSON.stringify(f.accountId)},"connection_id":${JSON.stringify(f.connectionId)},` +
        `"provider":${JSON.stringify(f.provider)},"entity":${JSON.stringify(f.entity)},` +
        `"source_id":${JSON.stringify(holdableText(f.sourceId, 10_000))},"run_id":${JSON.stringify(f.runId ?? null)},` +
        `"payload":${storedJson(f.payload)},"error_code":${JSON.stringify(f.code)},` +
        `"error_message":${JSON.stringify(holdableText(f.message, 2000))}}`,
    )
    .join(",");
  return sql`
    insert into failed_records (account_id, connection_id, provider, entity, source_id, run_id, payload, error_code,
      error_message)
    select distinct on (connection_id, entity, source_id)
      account_id, connection_id, provider, entity, source_id, run_id, payload, error_code, error_message
    from jsonb_to_recordset(${`[${rows}]`}::jsonb) as r(n int, account_id text, connection_id text,
      provider text, entity text, source_id text, run_id text, payload jsonb, error_code text, error_message text)
    order by connection_id, entity, source_id, n
    on conflict (connection_id, entity, source_id) do update
      set payload = excluded.payload, error_code = excluded.error_code, error_message = excluded.error_message,
          run_id = coalesce(excluded.run_id, failed_records.run_id),
          attempts = failed_records.attempts + 1, last_seen_at = now(), resolved_at = null`;
}

/**
 * The database's own error behind a driver or ORM wrapper, through the one sanitizer. The wrapper's message embeds the query and its
 * parameters (record payloads), which must not reach logs or failed_records.
 */
export function databaseError(error: unknown): { code: string | null; message: string } {
  const safe = sanitizeError(error);
  if (safe.code !== null) return safe;
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  // The engine refusing a value (a structure too deep for its recursion, a type it can't serialize) fails the
  // same way for the same record every time: it is the record's fault, like a Postgres data exception.
  if (root instanceof RangeError || root instanceof TypeError)
    return { code: ENGINE_REFUSED, message: safe.message };
  return safe;
}

/** Pseudo SQLSTATE for a value the JavaScript engine itself refused while the record was transformed. */
export const ENGINE_REFUSED = "JS000";

/**
 * Data exceptions (22xxx), integrity violations (23xxx) and program limits (54xxx: a value nested beyond
 * Postgres's stack) come from the record itself and fail the same way every time; anything else (connection lost, deadlock, timeout) is worth retrying as is.
 */
export function isRecordError(code: string | null): boolean {
  return (
    code !== null &&
    (code.startsWith("22") || code.startsWith("23") || code.startsWith("54") || code === ENGINE_REFUSED)
  );
}

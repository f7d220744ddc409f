import { sql } from "drizzle-orm";
import { withTenant } from "../accounts/tenant";
import { asWrapper, findUnholdable, holdableText, MAX_STORABLE_DEPTH } from "../core/storable";
import type { Db } from "../db/client";

/**
 * Webhook events that can't be processed are parked: the inbox row leaves `pending` for `parked` (the sweep
 * stops sending it) and a failed record says why, where the failed-records API lists it (entity "webhook",
 * source id "event:<event id>", the inbox payload as is). Replaying it puts the inbox row back to pending.
 */
export const WEBHOOK_FAILURE_ENTITY = "webhook";
export const webhookFailureSourceId = (eventId: string) =>
  eventId.length <= 256 ? `event:${eventId}` : `event:${eventId.slice(0, 200)}...(${eventId.length} chars)`;

/**
 * Attempts an event gets before it is parked as `webhook_exhausted`. Each is a fetch the provider refused
 * or that failed, with backoff of up to 5 minutes between them (waits the breaker or the rate budget impose
 * don't count), so eight attempts span a provider outage of about half an hour before an operator sees it;
 * the sweep never re-sends a parked event.
 */
export const MAX_WEBHOOK_ATTEMPTS = 8;

/** Why a payload in the storable encoding can't be processed, naming the field, never the value. */
export function unstorableEventReason(payload: unknown): string | null {
  const wrapper = asWrapper(payload);
  if (!wrapper) return null;
  if (wrapper.reason === "too_deep") return `the event body nests deeper than ${MAX_STORABLE_DEPTH} levels`;
  let decoded: unknown;
  try {
    decoded = JSON.parse(wrapper.$unstorable);
  } catch {
    return "the event body is not valid JSON";
  }
  const found = findUnholdable(decoded);
  if (!found) return `the event body is stored encoded (${wrapper.reason})`;
  const what = found.reason === "nul" ? "a NUL character" : "a lone UTF-16 surrogate";
  return `${found.path} holds ${what}, which Postgres cannot store`;
}

/**
 * Parks pending inbox events with a reason, in one statement: their rows become `parked` and each gets an
 * open failed record (a repeat counts another attempt). Returns the ids it parked.
 */
export async function parkInboxEvents(
  db: Db,
  accountId: string,
  events: { inboxId: number; code: string; message: string }[],
): Promise<number[]> {
  if (events.length === 0) return [];
  const doc = JSON.stringify(
    events.map((e) => ({ id: e.inboxId, code: e.code, message: holdableText(e.message, 2000) })),
  );
  const result = await withTenant(db, accountId, (tx) =>
    tx.execute(sql`
      with parked as (
        update webhook_inbox w set status = 'parked', last_error = p.message, processed_at = now()
        from jsonb_to_recordset(${doc}::jsonb) as p(id bigint, code text, message text)
        where w.id = p.id and w.account_id = ${accountId} and w.status = 'pending'
        returning w.id, w.account_id, w.connection_id, w.provider, w.event_id, w.payload, p.code, p.message
      ), failed as (
        insert into failed_records (account_id, connection_id, provider, entity, source_id, payload, error_code,
          error_message)
        select account_id, connection_id, provider, ${WEBHOOK_FAILURE_ENTITY}, 'event:' || event_id, payload, code,
               message
        from parked
        on conflict (connection_id, entity, source_id) do update
          set payload = excluded.payload, error_code = excluded.error_code, error_message = excluded.error_message,
              attempts = failed_records.attempts + 1, last_seen_at = now(), resolved_at = null
      )
      select id from parked`),
  );
  return (result.rows as { id: string | number }[]).map((r) => Number(r.id));
}

/**
 * Parked events named by failed records go back to pending with fresh attempts, for the cron sweep to hand
 * to their account's object; their failures are resolved (a new failure reopens them). Returns how many.
 */
export async function unparkInboxEvents(
  db: Db,
  accountId: string,
  failures: { connectionId: string; sourceId: string }[],
): Promise<number> {
  if (failures.length === 0) return 0;
  const doc = JSON.stringify(failures.map((f) => ({ connection_id: f.connectionId, source_id: f.sourceId })));
  const result = await withTenant(db, accountId, (tx) =>
    tx.execute(sql`
      with named as (
        select * from jsonb_to_recordset(${doc}::jsonb) as f(connection_id text, source_id text)
      ), resolved as (
        update failed_records f set resolved_at = now()
        from named n
        where f.account_id = ${accountId} and f.entity = ${WEBHOOK_FAILURE_ENTITY}
          and f.connection_id = n.connection_id and f.source_id = n.source_id and f.resolved_at is null
      )
      update webhook_inbox w set status = 'pending', attempts = 0, processed_at = null
      from named n
      where w.account_id = ${accountId} and w.connection_id = n.connection_id
        and 'event:' || w.event_id = n.source_id and w.status = 'parked'
      returning w.id`),
  );
  return result.rowCount ?? 0;
}

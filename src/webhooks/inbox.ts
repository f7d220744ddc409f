import { and, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { withAllAccounts, withTenant } from "../accounts/tenant";
import { parseJsonExact } from "../core/exact-json";
import { asWrapper, escapeReason, holdableText, MAX_STORABLE_DEPTH, storableText } from "../core/storable";
import type { Db } from "../db/client";
import { connections, webhookInbox } from "../db/schema";

/** Ids are remembered at least this long after processing: providers retry failed deliveries for days. */
export const INBOX_RETENTION_DAYS = 7;

export type WebhookTarget = {
  accountId: string;
  connectionId: string;
  provider: string;
  credentialsEnc: string;
};

/**
 * The connection a webhook URL names. The caller is not yet authenticated and no account is known, so this
 * is a system path (app.all_accounts); only the connection's own row is read.
 */
export async function findWebhookTarget(
  db: Db,
  provider: string,
  connectionId: string,
): Promise<WebhookTarget | null> {
  const row = await withAllAccounts(db, async (tx) => {
    const found = await tx
      .select({
        accountId: connections.accountId,
        provider: connections.provider,
        credentialsEnc: connections.credentialsEnc,
      })
      .from(connections)
      .where(and(eq(connections.id, connectionId), eq(connections.provider, provider)))
      .limit(1);
    return found[0];
  });
  return row ? { connectionId, ...row } : null;
}

export type InboxEvent = {
  accountId: string;
  connectionId: string;
  provider: string;
  eventId: string;
  eventType: string | null;
  payload: unknown;
};

export type RecordResult = { id: number; duplicate: boolean };

/** The durable record a 2xx promises. A repeated (provider, connection, event id) changes nothing. */
export async function recordInboxEvent(db: Db, event: InboxEvent): Promise<RecordResult> {
  return withTenant(db, event.accountId, async (tx) => {
    const inserted = await tx
      .insert(webhookInbox)
      .values({
        accountId: event.accountId,
        connectionId: event.connectionId,
        provider: event.provider,
        eventId: event.eventId,
        eventType: event.eventType,
        payload: event.payload,
      })
      .onConflictDoNothing({
        target: [webhookInbox.provider, webhookInbox.connectionId, webhookInbox.eventId],
      })
      .returning({ id: webhookInbox.id });
    if (inserted[0]) return { id: inserted[0].id, duplicate: false };
    const existing = await tx
      .select({ id: webhookInbox.id })
      .from(webhookInbox)
      .where(
        and(
          eq(webhookInbox.provider, event.provider),
          eq(webhookInbox.connectionId, event.connectionId),
          eq(webhookInbox.eventId, event.eventId),
        ),
      )
      .limit(1);
    if (!existing[0]) throw new Error("webhook inbox conflict without a row");
    return { id: existing[0].id, duplicate: true };
  });
}

/** An event the account's object recorded, as it hands it on: the body is the raw JSON text we verified. */
export type MirroredEvent = {
  connectionId: string;
  provider: string;
  eventId: string;
  eventType: string | null;
  body: string;
  receivedAt: number;
};

/**
 * Copies a batch of one account's recorded events into the Postgres inbox in one statement and returns the
 * inbox id of each, whether inserted now or already there (an earlier, interrupted copy; a redelivery the
 * object no longer remembered). Keyed by "provider\u0000connection\u0000event id".
 */
export async function mirrorInboxEvents(
  db: Db,
  accountId: string,
  events: MirroredEvent[],
): Promise<Map<string, number>> {
  if (events.length === 0) return new Map();
  const doc = JSON.stringify(
    events.map((e) => ({
      connection_id: e.connectionId,
      provider: e.provider,
      event_id: holdableText(e.eventId),
      event_type: e.eventType === null ? null : holdableText(e.eventType),
      body: storableBody(e.body),
      received_ms: e.receivedAt,
    })),
  );
  // The CTE's insert and the join read the same snapshot: a row comes back either from `ins` (new) or from
  // the table (there before), never twice.
  const result = await withTenant(db, accountId, (tx) =>
    tx.execute(sql`
      with batch as (
        select * from jsonb_to_recordset(${doc}::jsonb)
          as b(connection_id text, provider text, event_id text, event_type text, body text, received_ms bigint)
      ), ins as (
        insert into webhook_inbox (account_id, connection_id, provider, event_id, event_type, payload, received_at)
        select ${accountId}, connection_id, provider, event_id, event_type, body::jsonb,
               to_timestamp(received_ms / 1000.0)
        from batch
        on conflict (provider, connection_id, event_id) do nothing
        returning id, provider, connection_id, event_id
      )
      select id, provider, connection_id, event_id from ins
      union all
      select w.id, w.provider, w.connection_id, w.event_id
      from webhook_inbox w join batch b using (provider, connection_id, event_id)`),
  );
  const ids = new Map<string, number>();
  for (const r of result.rows as {
    id: string | number;
    provider: string;
    connection_id: string;
    event_id: string;
  }[])
    ids.set(eventKey(r.provider, r.connection_id, r.event_id), Number(r.id));
  return ids;
}

/**
 * The body as the inbox can hold it. The route already encoded what Postgres refuses; this is the cheap
 * check again for events recorded before it did (one regex test; the exact check only on a match).
 */
export function storableBody(body: string): string {
  if (escapeReason(body) === null && body.length <= 2 * MAX_STORABLE_DEPTH) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return JSON.stringify({ $unstorable: body, reason: "refused" });
  }
  // Already encoded by the route (a provider body shaped like the wrapper was encoded as reserved_key).
  if (asWrapper(parsed)) return body;
  return storableText(body, parsed).json;
}

export const eventKey = (provider: string, connectionId: string, eventId: string) =>
  `${provider}\u0000${connectionId}\u0000${eventId}`;

export type InboxRow = typeof webhookInbox.$inferSelect;

export async function loadInboxRow(db: Db, accountId: string, inboxId: number): Promise<InboxRow | null> {
  return (await loadInboxRows(db, accountId, [inboxId]))[0] ?? null;
}

/** The account's inbox rows with these ids, in no particular order; ids that don't exist are left out. */
export async function loadInboxRows(db: Db, accountId: string, inboxIds: number[]): Promise<InboxRow[]> {
  if (inboxIds.length === 0) return [];
  // The payload as its text, parsed keeping integers beyond 2^53 exact: the ids an event names are fetched
  // or deleted, and a rounded id names another record.
  const rows = await withTenant(db, accountId, (tx) =>
    tx
      .select({ ...getTableColumns(webhookInbox), payload: sql<string>`${webhookInbox.payload}::text` })
      .from(webhookInbox)
      .where(and(inArray(webhookInbox.id, inboxIds), eq(webhookInbox.accountId, accountId))),
  );
  return rows.map((r) => ({ ...r, payload: parseJsonExact(r.payload) }));
}

/** One statement for the events one provider fetch settled together. */
export async function markInboxesProcessed(
  db: Db,
  accountId: string,
  inboxIds: number[],
  note: string | null = null,
) {
  if (inboxIds.length === 0) return;
  await withTenant(db, accountId, (tx) =>
    tx
      .update(webhookInbox)
      .set({
        status: "processed",
        processedAt: sql`now()`,
        lastError: note === null ? null : holdableText(note, 500),
        attempts: sql`${webhookInbox.attempts} + 1`,
      })
      .where(and(inArray(webhookInbox.id, inboxIds), eq(webhookInbox.accountId, accountId))),
  );
}

/**
 * They stay pending so the sweep tries again; the error is a short reason, never a payload or a secret.
 * `counts`: whether this was a failed attempt (towards the bound) or only a wait (breaker, rate budget).
 */
export async function markInboxesAttemptFailed(
  db: Db,
  accountId: string,
  ids: number[],
  error: string,
  counts = true,
) {
  if (ids.length === 0) return;
  await withTenant(db, accountId, (tx) =>
    tx
      .update(webhookInbox)
      .set({
        lastError: holdableText(error, 500),
        attempts: counts ? sql`${webhookInbox.attempts} + 1` : webhookInbox.attempts,
      })
      .where(and(inArray(webhookInbox.id, ids), eq(webhookInbox.accountId, accountId))),
  );
}

/** What the Worker hands the account's object after recording an event (and what the sweep re-sends). */
export type IngestRequest = { inboxId: number; accountId: string; connectionId: string; provider: string };
export type PendingEvent = IngestRequest;

/**
 * Pending events old enough that their first hand-off has surely failed or been lost (an evicted isolate
 * drops waitUntil work). System path: spans accounts.
 */
export async function pendingInboxEvents(
  db: Db,
  opts: { olderThanSec?: number; limit?: number; accountIds?: string[] } = {},
) {
  const olderThan = opts.olderThanSec ?? 120;
  const scope = opts.accountIds ? sql`and ${inArray(webhookInbox.accountId, opts.accountIds)}` : sql``;
  return withAllAccounts(db, async (tx) => {
    const result = await tx.execute(sql`
      select id, account_id, connection_id, provider from webhook_inbox
      where status = 'pending' and received_at <= now() - make_interval(secs => ${olderThan}) ${scope}
      order by received_at limit ${opts.limit ?? 500}`);
    return (
      result.rows as { id: string | number; account_id: string; connection_id: string; provider: string }[]
    ).map(
      (r): PendingEvent => ({
        inboxId: Number(r.id),
        accountId: r.account_id,
        connectionId: r.connection_id,
        provider: r.provider,
      }),
    );
  });
}

/** Deletes processed rows older than the retention; never below 7 days, and never a pending row. */
export async function pruneInbox(db: Db, retentionDays = INBOX_RETENTION_DAYS): Promise<number> {
  const days = Math.max(INBOX_RETENTION_DAYS, retentionDays);
  return withAllAccounts(db, async (tx) => {
    const result = await tx.execute(sql`
      delete from webhook_inbox
      where status = 'processed' and processed_at < now() - make_interval(days => ${days})`);
    return result.rowCount ?? 0;
  });
}

/** An inbox row as operators see it: the event's identity and progress, never its payload. */
export type InboxEventView = {
  id: number;
  connectionId: string;
  provider: string;
  eventId: string;
  eventType: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
  receivedAt: string;
  processedAt: string | null;
};

/** The account's latest webhook deliveries (newest first), optionally of one status. */
export async function listInboxEvents(
  db: Db,
  accountId: string,
  filter: { status?: string; limit: number },
): Promise<InboxEventView[]> {
  return withTenant(db, accountId, (tx) =>
    tx
      .select({
        id: webhookInbox.id,
        connectionId: webhookInbox.connectionId,
        provider: webhookInbox.provider,
        eventId: webhookInbox.eventId,
        eventType: webhookInbox.eventType,
        status: webhookInbox.status,
        attempts: webhookInbox.attempts,
        lastError: webhookInbox.lastError,
        receivedAt: webhookInbox.receivedAt,
        processedAt: webhookInbox.processedAt,
      })
      .from(webhookInbox)
      .where(
        filter.status
          ? and(eq(webhookInbox.accountId, accountId), eq(webhookInbox.status, filter.status))
          : eq(webhookInbox.accountId, accountId),
      )
      .orderBy(sql`${webhookInbox.id} desc`)
      .limit(filter.limit),
  );
}

import type { LoadedConnection } from "../src/accounts/connections";
import { withTenant } from "../src/accounts/tenant";
import { fullJitterBackoffMs } from "../src/core/backoff";
import { isDatabaseUnreachable } from "../src/core/db-outage";
import { logger, withIds } from "../src/core/log";
import { safeErrorMessage } from "../src/core/safe-error";
import { holdableText } from "../src/core/storable";
import { type DbHandle, openDb } from "../src/db/client";
import type { Env } from "../src/env";
import { databaseError, isRecordError, recordFailuresStatement } from "../src/pipeline/failures";
import { eventKey, type IngestRequest, type MirroredEvent, mirrorInboxEvents } from "../src/webhooks/inbox";
import {
  MAX_WEBHOOK_ATTEMPTS,
  parkInboxEvents,
  WEBHOOK_FAILURE_ENTITY,
  webhookFailureSourceId,
} from "../src/webhooks/parking";
import { keyringFor } from "../src/webhooks/targets";
import { providerAuthFor } from "./provider-auth";
import { setTimer, timerDueAt } from "./timers";
import {
  type IngestOutcome,
  ingestWebhookInObject,
  processWebhookEvents,
  type RunCompleter,
} from "./webhook-fetch";

const log = logger("webhooks");

/**
 * The account object's webhook inbox. An accepted delivery is written here (SQLite, synchronously, before
 * the RPC answers: the object's output gate holds the answer until the write is durable), which is what the
 * 2xx promises. The object then copies events to the Postgres inbox (reporting, the cron sweep) and fetches
 * what they name, from one timer on its single alarm; the same timer retries events left pending.
 */
export const WEBHOOK_TIMER = "webhooks";

/** Ids are remembered at least this long after the copy to Postgres; Postgres keeps its own copy 7 days too. */
export const WEBHOOK_EVENT_RETENTION_MS = 8 * 24 * 3600_000;

const RETRY = { baseMs: 2_000, capMs: 5 * 60_000 };
/** Postgres unreachable: how long until the next copy attempt, or the next try of events it failed. */
const MIRROR_RETRY_MS = 10_000;
/** One alarm run stays bounded (sync steps share the alarm); more work re-arms the timer at once. */
const MAX_EVENTS_PER_RUN = 1_000;
/** Due events taken at once: those of one connection and entity share provider requests (up to the connector's `byIds.max` ids each). */
const DUE_BATCH = 100;
const MAX_RUN_MS = 15_000;
const MIRROR_BATCH = 100;
const MIRROR_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Copies to Postgres one event may fail on its own (its batch-mates copied without it) before it is parked
 * in this object: a refusal that repeats is the event's, not an outage's. A parked copy is no longer tried,
 * stays in this object (counted by webhookEventCounts) and is filed in failed_records when Postgres takes it.
 */
export const MAX_MIRROR_ATTEMPTS = 3;
/**
 * Rounds one event may spend in the work table without an outcome the inbox recorded (Postgres failing
 * while the event was processed, an error in the object's own code) before it is parked as
 * `webhook_exhausted`; failures the inbox records are bounded by MAX_WEBHOOK_ATTEMPTS first. A round that
 * failed because Postgres could not be reached is not counted: an outage of any length is waited out every
 * MIRROR_RETRY_MS (parking needs Postgres anyway), and the bound applies to rounds Postgres took part in.
 */
export const MAX_WORK_ATTEMPTS = 3 * MAX_WEBHOOK_ATTEMPTS;

export const WEBHOOK_SQLITE_SCHEMA = [
  // body: the verified raw JSON, kept only until the copy to Postgres has its inbox id.
  `create table if not exists webhook_events (
     provider text not null, connection_id text not null, event_id text not null,
     account_id text not null, event_type text, body text, received_at integer not null,
     inbox_id integer, mirrored_at integer,
     primary key (provider, connection_id, event_id))`,
  `create index if not exists webhook_events_unmirrored on webhook_events (received_at) where inbox_id is null`,
  `create index if not exists webhook_events_mirrored on webhook_events (mirrored_at) where inbox_id is not null`,
  // Events to (re)process, by Postgres inbox id: new ones, parked ones, ones the sweep handed over.
  `create table if not exists webhook_work (
     inbox_id integer primary key, account_id text not null, connection_id text not null,
     provider text not null, due_at integer not null, attempts integer not null default 0)`,
  `create index if not exists webhook_work_due on webhook_work (due_at)`,
];

/** Columns added after the tables first shipped: added once per object, ignored when already there. */
const WEBHOOK_SQLITE_COLUMNS = [
  "alter table webhook_events add column mirror_failures integer not null default 0",
  // Set when the copy to Postgres gave up (MAX_MIRROR_ATTEMPTS); filed_at once failed_records holds it.
  "alter table webhook_events add column mirror_parked_at integer",
  "alter table webhook_events add column mirror_error text",
  "alter table webhook_events add column filed_at integer",
];

const ready = new WeakSet<SqlStorage>();
function ensureSchema(sql: SqlStorage): void {
  if (ready.has(sql)) return;
  for (const statement of WEBHOOK_SQLITE_SCHEMA) sql.exec(statement);
  const columns = new Set(
    sql
      .exec<{ name: string }>("select name from pragma_table_info('webhook_events')")
      .toArray()
      .map((c) => c.name),
  );
  for (const statement of WEBHOOK_SQLITE_COLUMNS) {
    const column = /add column (\w+)/.exec(statement)?.[1];
    if (column && !columns.has(column)) sql.exec(statement);
  }
  ready.add(sql);
}

/** Runs fn with the tables in place, re-creating them once if they vanished (forgetAccount's deleteAll). */
function withSchema<T>(sql: SqlStorage, fn: () => T): T {
  ensureSchema(sql);
  try {
    return fn();
  } catch (error) {
    if (!/no such table/i.test(error instanceof Error ? error.message : String(error))) throw error;
    ready.delete(sql);
    ensureSchema(sql);
    return fn();
  }
}

/** A verified delivery as the route hands it to the account's object. */
export type RecordedWebhook = {
  accountId: string;
  connectionId: string;
  provider: string;
  eventId: string;
  eventType: string | null;
  /** the raw body as verified (UTF-8 text, valid JSON) */
  body: string;
};

export type RecordOutcome = { duplicate: boolean };

/**
 * The durable records behind the 2xx, for deliveries that arrived together: written without an await between
 * them, they are one implicit transaction, so one commit. A repeated (provider, connection, event id) changes
 * nothing. Returns each event's outcome, in order, and whether the alarm must be (re)armed: only when the
 * webhook timer was not already due.
 */
export function recordWebhookEvents(
  storage: DurableObjectStorage,
  events: RecordedWebhook[],
  now: number,
): { outcomes: RecordOutcome[]; armAlarm: boolean } {
  const outcomes = withSchema(storage.sql, () =>
    events.map((event) => ({
      duplicate:
        storage.sql
          .exec(
            `insert into webhook_events (provider, connection_id, event_id, account_id, event_type, body, received_at)
             values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning 1 as inserted`,
            event.provider,
            event.connectionId,
            event.eventId,
            event.accountId,
            event.eventType,
            event.body,
            now,
          )
          .toArray().length === 0,
    })),
  );
  if (outcomes.every((o) => o.duplicate)) return { outcomes, armAlarm: false };
  // Already due: the run that fires it (or is under way) reads the tables again after its last await, so it
  // sees these events; no second write on the hot path.
  const due = timerDueAt(storage, WEBHOOK_TIMER);
  if (due !== null && due <= now) return { outcomes, armAlarm: false };
  return { outcomes, armAlarm: armWebhookTimer(storage, now, due) };
}

/**
 * Points the webhook timer at `dueAt` unless it is due sooner; bumps its generation, so a run already under
 * way doesn't complete it away. Returns whether the alarm needs re-arming. `current` is the timer's due time
 * when the caller has just read it.
 */
function armWebhookTimer(
  storage: DurableObjectStorage,
  dueAt: number,
  current = timerDueAt(storage, WEBHOOK_TIMER),
): boolean {
  setTimer(storage, WEBHOOK_TIMER, current === null ? dueAt : Math.min(current, dueAt), {});
  return current === null || current > dueAt;
}

/**
 * A connection was re-authorised: its events waiting on the refused grant (parked for an hour) are due now, so
 * the changes they announce land with the recovery instead of an hour later. Returns whether the alarm needs
 * re-arming.
 */
export function resumeConnectionWebhooks(
  storage: DurableObjectStorage,
  sql: SqlStorage,
  connectionId: string,
  now: number,
): boolean {
  ensureSchema(sql);
  const waiting = sql
    .exec<{ n: number }>(
      "select count(*) as n from webhook_work where connection_id = ? and due_at > ?",
      connectionId,
      now,
    )
    .one().n;
  if (waiting === 0) return false;
  sql.exec(
    "update webhook_work set due_at = ? where connection_id = ? and due_at > ?",
    now,
    connectionId,
    now,
  );
  return armWebhookTimer(storage, now);
}

/** Queues an event for processing at `dueAt` (the sweep's hand-offs that stayed pending). */
export function scheduleWebhookRetry(
  storage: DurableObjectStorage,
  req: IngestRequest,
  dueAt: number,
  attempts = 1,
): boolean {
  withSchema(storage.sql, () =>
    storage.sql.exec(
      `insert into webhook_work (inbox_id, account_id, connection_id, provider, due_at, attempts)
       values (?, ?, ?, ?, ?, ?)
       on conflict (inbox_id) do update set due_at = min(webhook_work.due_at, excluded.due_at)`,
      req.inboxId,
      req.accountId,
      req.connectionId,
      req.provider,
      dueAt,
      attempts,
    ),
  );
  return armWebhookTimer(storage, dueAt);
}

/** When an event left pending should be tried again: the gate's own time when it parked, else backoff. */
export function retryAtOf(outcome: IngestOutcome, attempts: number, now: number): number | null {
  if (outcome.status !== "pending") return null;
  return outcome.retryAt ?? now + Math.max(1_000, fullJitterBackoffMs(attempts, RETRY));
}

export type DrainReport = { mirrored: number; processed: number; pending: number; mirrorFailed: boolean };

export type DrainDeps = {
  completeRun: RunCompleter;
  fetch?: typeof fetch;
  now?: () => number;
};

type WorkRow = {
  inbox_id: number;
  account_id: string;
  connection_id: string;
  provider: string;
  attempts: number;
};

/**
 * The webhook timer's handler: copy recorded events to Postgres, then process what is due, one Postgres
 * pool for the whole run. Never throws (the alarm would drop the timer): whatever is left re-arms it.
 * Idempotent: the copy is an upsert by event id and processing checks the inbox row's status first.
 */
export async function drainWebhookWork(
  ctx: DurableObjectState,
  env: Env,
  deps: DrainDeps,
): Promise<DrainReport> {
  const sql = ctx.storage.sql;
  // Not the hot path: always make sure the tables exist (they vanish with forgetAccount's deleteAll).
  ready.delete(sql);
  ensureSchema(sql);
  const now = deps.now ?? Date.now;
  const report: DrainReport = { mirrored: 0, processed: 0, pending: 0, mirrorFailed: false };
  let handle: DbHandle | null = null;
  const db = () => {
    handle ??= openDb(env);
    return handle.db;
  };
  const started = now();
  // A connection the gate parked (breaker open, no budget) parks its other due events too, without a call.
  const parkedUntil = new Map<string, number>();
  const connections = new Map<string, LoadedConnection>();
  let broken = false;
  try {
    while (now() - started < MAX_RUN_MS && report.processed + report.pending < MAX_EVENTS_PER_RUN) {
      if (!report.mirrorFailed) {
        try {
          const copy = await mirrorBatch(sql, db(), now());
          report.mirrored += copy.copied;
          // Rows that got no inbox id would be selected again at once: wait like for an outage instead.
          if (copy.copied < copy.selected) report.mirrorFailed = true;
        } catch (error) {
          report.mirrorFailed = true;
          log.warn("webhook copy to Postgres failed", { error: safeErrorMessage(error) });
        }
      }
      const due = sql
        .exec<WorkRow>(
          "select inbox_id, account_id, connection_id, provider, attempts from webhook_work where due_at <= ? order by due_at limit ?",
          now(),
          DUE_BATCH,
        )
        .toArray();
      if (due.length === 0) {
        if (report.mirrorFailed || unmirroredCount(sql) === 0) break;
        continue;
      }
      const ready: WorkRow[] = [];
      for (const w of due) {
        const parked = parkedUntil.get(w.connection_id);
        if (parked !== undefined && parked > now()) {
          sql.exec("update webhook_work set due_at = ? where inbox_id = ?", parked, w.inbox_id);
          report.pending++;
        } else ready.push(w);
      }
      const processDeps = {
        db: db(),
        sql,
        queue: env.TRANSFORMS,
        fetch: deps.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
        auth: providerAuthFor(ctx, env),
        now,
        keyring: await keyringFor(env.CREDENTIALS_KEY),
        completeRun: deps.completeRun,
        connections,
      };
      const asRequest = (w: WorkRow): IngestRequest => ({
        inboxId: w.inbox_id,
        accountId: w.account_id,
        connectionId: w.connection_id,
        provider: w.provider,
      });
      let outcomes: Map<number, IngestOutcome>;
      // Events whose round failed only because Postgres was unreachable: not a round against their bound.
      const outage = new Set<number>();
      try {
        outcomes = await processWebhookEvents(processDeps, ready.map(asRequest));
      } catch (error) {
        // One event can break its batch's call: each goes alone, so only what fails alone stays pending.
        outcomes = new Map();
        const down = isDatabaseUnreachable(error);
        for (const w of ready.length > 1 && !down ? ready : []) {
          try {
            for (const [id, o] of await processWebhookEvents(processDeps, [asRequest(w)]))
              outcomes.set(id, o);
          } catch (own) {
            if (isDatabaseUnreachable(own)) outage.add(w.inbox_id);
          }
        }
        const message = safeErrorMessage(error);
        for (const w of ready)
          if (!outcomes.has(w.inbox_id)) {
            outcomes.set(w.inbox_id, { status: "pending", error: message });
            if (down) outage.add(w.inbox_id);
          }
      }
      await parkWorn(
        processDeps.db,
        ready.filter((w) => !outage.has(w.inbox_id)),
        outcomes,
      );
      for (const w of ready) {
        const outcome = outcomes.get(w.inbox_id) ?? { status: "missing" };
        if (outage.has(w.inbox_id) && outcome.status === "pending") {
          sql.exec(
            "update webhook_work set due_at = ? where inbox_id = ?",
            now() + MIRROR_RETRY_MS,
            w.inbox_id,
          );
          report.pending++;
          continue;
        }
        const retryAt = retryAtOf(outcome, w.attempts, now());
        if (retryAt === null) {
          sql.exec("delete from webhook_work where inbox_id = ?", w.inbox_id);
          report.processed++;
        } else {
          sql.exec(
            "update webhook_work set due_at = ?, attempts = attempts + 1 where inbox_id = ?",
            retryAt,
            w.inbox_id,
          );
          if (outcome.status === "pending" && outcome.retryAt !== undefined)
            parkedUntil.set(w.connection_id, outcome.retryAt);
          report.pending++;
        }
      }
    }
    pruneRemembered(sql, now());
  } catch (error) {
    // Something outside the per-event handling broke: keep the timer so the work is not stranded, and don't
    // spin on it.
    broken = true;
    log.error("webhook run failed", { error: safeErrorMessage(error) });
  } finally {
    const closing = handle as DbHandle | null;
    if (closing) ctx.waitUntil(closing.close().catch(() => {}));
  }
  const next = nextDue(sql, now(), report.mirrorFailed);
  if (next !== null)
    setTimer(ctx.storage, WEBHOOK_TIMER, broken ? Math.max(next, now() + MIRROR_RETRY_MS) : next, {});
  return report;
}

/**
 * Events that spent MAX_WORK_ATTEMPTS rounds here without an outcome are parked in the inbox (which the
 * failed-records API shows); if Postgres can't take that either, they stay pending for the next round.
 */
async function parkWorn(
  db: ReturnType<typeof openDb>["db"],
  ready: WorkRow[],
  outcomes: Map<number, IngestOutcome>,
): Promise<void> {
  const worn = ready.filter(
    (w) => w.attempts + 1 >= MAX_WORK_ATTEMPTS && outcomes.get(w.inbox_id)?.status === "pending",
  );
  for (const [accountId, group] of groupBy(worn, (w) => w.account_id)) {
    try {
      const parkedEvents = group.map((w) => {
        const outcome = outcomes.get(w.inbox_id) as IngestOutcome & { status: "pending" };
        return {
          inboxId: w.inbox_id,
          code: "webhook_exhausted",
          message: `${w.attempts + 1} rounds without an outcome; last: ${outcome.error}`,
        };
      });
      const parked = new Set(await parkInboxEvents(db, accountId, parkedEvents));
      for (const e of parkedEvents)
        if (parked.has(e.inboxId))
          outcomes.set(e.inboxId, { status: "parked", code: e.code, note: e.message });
    } catch (error) {
      withIds(log, { accountId }).warn("parking webhook events failed", {
        error: databaseError(error).message,
      });
    }
  }
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

/** Copies up to one batch of not-yet-copied events; each gets its inbox id and a work row in one transaction. */
async function mirrorBatch(
  sql: SqlStorage,
  db: ReturnType<typeof openDb>["db"],
  now: number,
): Promise<{ selected: number; copied: number }> {
  const rows = sql
    .exec<{
      provider: string;
      connection_id: string;
      event_id: string;
      account_id: string;
      event_type: string | null;
      body: string;
      received_at: number;
    }>(
      `select provider, connection_id, event_id, account_id, event_type, body, received_at
       from webhook_events where inbox_id is null and mirror_parked_at is null order by received_at limit ?`,
      MIRROR_BATCH,
    )
    .toArray();
  if (rows.length === 0) return { selected: 0, copied: 0 };
  let bytes = 0;
  const batch = rows.filter((r, i) => {
    bytes += r.body.length;
    return i === 0 || bytes <= MIRROR_BATCH_BYTES;
  });
  // One object is one account; grouping anyway keeps a stray row from being written under the wrong tenant.
  const byAccount = new Map<string, typeof batch>();
  for (const r of batch) byAccount.set(r.account_id, [...(byAccount.get(r.account_id) ?? []), r]);
  let copied = 0;
  for (const [accountId, group] of byAccount) {
    const events: MirroredEvent[] = group.map((r) => ({
      connectionId: r.connection_id,
      provider: r.provider,
      eventId: r.event_id,
      eventType: r.event_type,
      body: r.body,
      receivedAt: r.received_at,
    }));
    const ids = await mirrorIsolating(sql, db, accountId, events, now);
    for (const r of group) {
      // The copy holds ids as Postgres can (holdableText): match on that form.
      const inboxId = ids.get(eventKey(r.provider, r.connection_id, holdableText(r.event_id)));
      if (inboxId === undefined) continue;
      sql.exec(
        "update webhook_events set inbox_id = ?, mirrored_at = ?, body = null where provider = ? and connection_id = ? and event_id = ?",
        inboxId,
        now,
        r.provider,
        r.connection_id,
        r.event_id,
      );
      sql.exec(
        `insert into webhook_work (inbox_id, account_id, connection_id, provider, due_at, attempts)
         values (?, ?, ?, ?, ?, 0) on conflict (inbox_id) do nothing`,
        inboxId,
        accountId,
        r.connection_id,
        r.provider,
        now,
      );
      copied++;
    }
  }
  return { selected: batch.length, copied };
}

/**
 * The batch in one statement; if Postgres refuses it for its data, each event alone, so a poison event
 * can't hold its batch-mates back. An event refused alone counts a failure and is parked here after
 * MAX_MIRROR_ATTEMPTS (then filed in failed_records, best effort). An outage (not a data error) throws.
 */
async function mirrorIsolating(
  sql: SqlStorage,
  db: ReturnType<typeof openDb>["db"],
  accountId: string,
  events: MirroredEvent[],
  now: number,
): Promise<Map<string, number>> {
  try {
    return await mirrorInboxEvents(db, accountId, events);
  } catch (error) {
    if (!isRecordError(databaseError(error).code)) throw error;
  }
  const ids = new Map<string, number>();
  for (const event of events) {
    try {
      for (const [k, v] of await mirrorInboxEvents(db, accountId, [event])) ids.set(k, v);
    } catch (error) {
      const cause = databaseError(error);
      if (!isRecordError(cause.code)) throw error;
      const failures = sql
        .exec<{ n: number }>(
          `update webhook_events set mirror_failures = mirror_failures + 1, mirror_error = ?
           where provider = ? and connection_id = ? and event_id = ? returning mirror_failures as n`,
          holdableText(`${cause.code}: ${cause.message}`, 500),
          event.provider,
          event.connectionId,
          event.eventId,
        )
        .toArray()[0]?.n;
      if ((failures ?? 0) >= MAX_MIRROR_ATTEMPTS)
        sql.exec(
          "update webhook_events set mirror_parked_at = ? where provider = ? and connection_id = ? and event_id = ?",
          now,
          event.provider,
          event.connectionId,
          event.eventId,
        );
    }
  }
  await fileMirrorParked(sql, db, accountId, now);
  return ids;
}

/** Copies Postgres refused are filed in failed_records (payload kept in the storable encoding). */
async function fileMirrorParked(
  sql: SqlStorage,
  db: ReturnType<typeof openDb>["db"],
  accountId: string,
  now: number,
): Promise<void> {
  const parked = sql
    .exec<{
      provider: string;
      connection_id: string;
      event_id: string;
      body: string;
      mirror_error: string | null;
    }>(
      `select provider, connection_id, event_id, body, mirror_error from webhook_events
       where account_id = ? and mirror_parked_at is not null and filed_at is null limit 100`,
      accountId,
    )
    .toArray();
  if (parked.length === 0) return;
  try {
    await withTenant(db, accountId, (tx) =>
      tx.execute(
        recordFailuresStatement(
          parked.map((p) => ({
            accountId,
            connectionId: p.connection_id,
            provider: p.provider,
            entity: WEBHOOK_FAILURE_ENTITY,
            sourceId: webhookFailureSourceId(p.event_id),
            payload: { $unstorable: p.body, reason: "refused" },
            code: "webhook_unrecordable",
            message: `the Postgres inbox refused the event ${MAX_MIRROR_ATTEMPTS} times: ${p.mirror_error ?? ""}`,
          })),
        ),
      ),
    );
    for (const p of parked)
      sql.exec(
        "update webhook_events set filed_at = ? where provider = ? and connection_id = ? and event_id = ?",
        now,
        p.provider,
        p.connection_id,
        p.event_id,
      );
  } catch (error) {
    log.warn("filing unrecordable webhook events failed", { error: databaseError(error).message });
  }
}

function unmirroredCount(sql: SqlStorage): number {
  return sql
    .exec<{ n: number }>(
      "select count(*) as n from webhook_events where inbox_id is null and mirror_parked_at is null",
    )
    .one().n;
}

function nextDue(sql: SqlStorage, now: number, mirrorFailed: boolean): number | null {
  const candidates: number[] = [];
  if (unmirroredCount(sql) > 0) candidates.push(mirrorFailed ? now + MIRROR_RETRY_MS : now);
  const work = sql.exec<{ due: number | null }>("select min(due_at) as due from webhook_work").one().due;
  if (work !== null) candidates.push(work);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

function pruneRemembered(sql: SqlStorage, now: number): void {
  sql.exec(
    "delete from webhook_events where inbox_id is not null and mirrored_at < ?",
    now - WEBHOOK_EVENT_RETENTION_MS,
  );
}

/**
 * An event handed over by inbox id (the cron sweep, tests): processed now; left pending, it joins the work
 * the webhook timer retries. The caller re-arms the alarm.
 */
export async function ingestHandedOver(
  ctx: DurableObjectState,
  env: Env,
  req: IngestRequest,
  completeRun: RunCompleter,
): Promise<IngestOutcome> {
  const outcome = await ingestWebhookInObject(ctx, env, req, completeRun);
  const retryAt = retryAtOf(outcome, 0, Date.now());
  if (retryAt !== null) scheduleWebhookRetry(ctx.storage, req, retryAt);
  return outcome;
}

/** For tests and status: what the object holds. */
export function webhookEventCounts(sql: SqlStorage): {
  recorded: number;
  unmirrored: number;
  work: number;
  mirrorParked: number;
} {
  ensureSchema(sql);
  return {
    recorded: sql.exec<{ n: number }>("select count(*) as n from webhook_events").one().n,
    unmirrored: unmirroredCount(sql),
    work: sql.exec<{ n: number }>("select count(*) as n from webhook_work").one().n,
    mirrorParked: sql
      .exec<{ n: number }>("select count(*) as n from webhook_events where mirror_parked_at is not null")
      .one().n,
  };
}

/** For tests: the events the object recorded for a connection, oldest first. */
export function recordedWebhookEvents(sql: SqlStorage, connectionId: string) {
  ensureSchema(sql);
  return sql
    .exec<{ event_id: string; account_id: string; event_type: string | null; inbox_id: number | null }>(
      `select event_id, account_id, event_type, inbox_id from webhook_events
       where connection_id = ? order by received_at, event_id`,
      connectionId,
    )
    .toArray();
}

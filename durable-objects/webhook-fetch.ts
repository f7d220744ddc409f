import { type LoadedConnection, loadConnection } from "../src/accounts/connections";
// Row-level security: as etl_app, the event's own account must be set for every read and write.
import { inTenant } from "../src/accounts/tenant";
import { knownProviders } from "../src/connectors/registry";
import type { EntityDef, WebhookResolution } from "../src/connectors/types";
import type { Keyring } from "../src/core/crypto";
import { isDatabaseUnreachable } from "../src/core/db-outage";
import { AppError } from "../src/core/errors";
import { logger } from "../src/core/log";
import { safeErrorMessage } from "../src/core/safe-error";
import { sameOrigin } from "../src/core/same-origin";
import { type Db, openDb } from "../src/db/client";
import type { Env } from "../src/env";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import {
  endParkedWebhookRuns,
  type RunLogLevel,
  recordReportedRun,
  supersedeWebhookRuns,
} from "../src/pipeline/run-history";
import { type StagedRecord, stagePage } from "../src/pipeline/staging";
import { recordsOfResponse } from "../src/webhooks/events";
import {
  type InboxRow,
  type IngestRequest,
  loadInboxRow,
  loadInboxRows,
  markInboxesAttemptFailed,
  markInboxesProcessed,
} from "../src/webhooks/inbox";
import { MAX_WEBHOOK_ATTEMPTS, parkInboxEvents, unstorableEventReason } from "../src/webhooks/parking";
import { keyringFor } from "../src/webhooks/targets";
import { breakerConfigFrom } from "./breaker-store";
import { type CallTally, countCall, newTally } from "./call-tally";
import { type ProviderAuth, providerAuthFor } from "./provider-auth";
import { callProvider, DEFAULT_REQUEST_TIMEOUT_MS, readJson } from "./provider-call";
import { fetchRecord } from "./record-fetch";

const log = logger("webhooks");

export type IngestOutcome =
  | { status: "processed"; staged: number; note?: string }
  | { status: "parked"; code: string; note: string }
  | { status: "already_processed" | "missing" }
  | { status: "pending"; error: string; retryAt?: number };

export type RunCompleter = (
  db: Db,
  run: {
    accountId: string;
    connectionId: string;
    provider: string;
    entity: string;
    runId: string;
    mode: "webhook";
  },
) => Promise<unknown>;

export type WebhookProcessDeps = {
  db: Db;
  sql: SqlStorage;
  queue: Queue<TransformMessage>;
  fetch: typeof fetch;
  /** Tokens and sessions of connections whose auth step needs them. */
  auth?: ProviderAuth;
  now: () => number;
  keyring: Keyring;
  completeRun: RunCompleter;
  /** Connections already loaded in this run (one object run processes many events of few connections). */
  connections?: Map<string, LoadedConnection>;
};

/** One run per event, so a redelivered or re-swept event rewrites its own staged rows instead of adding more. */
export const webhookRunId = (eventId: string) => `webhook:${eventId}`;

/**
 * Events fetched together share a run named after the first and the count: a retry of the same group rewrites
 * its pages; a retry that groups differently stages the records again, which the core upsert absorbs.
 */
const eventIdsOf = (rows: InboxRow[]) => rows.map((r) => r.eventId);

export const webhookGroupRunId = (eventIds: string[]) =>
  eventIds.length === 1
    ? webhookRunId(eventIds[0] as string)
    : `webhook:${eventIds[0]}+${eventIds.length - 1}`;

/** What an event needs, decided from its row alone (plus the connection), before anything is fetched. */
type Plan =
  | { kind: "finish"; note: string }
  | { kind: "park"; code: string; note: string }
  | { kind: "retry"; error: string }
  | { kind: "delete"; connection: LoadedConnection; entity: EntityDef; ids: string[]; deletedAt: string }
  | { kind: "fetch"; connection: LoadedConnection; entity: EntityDef; resolution: WebhookResolution };

async function planEvent(deps: WebhookProcessDeps, row: InboxRow): Promise<Plan> {
  // A body Postgres could only hold encoded can't be acted on: its ids are not ids we could store.
  const unstorable = unstorableEventReason(row.payload);
  if (unstorable) return { kind: "park", code: "unstorable_value", note: unstorable };
  if (row.attempts >= MAX_WEBHOOK_ATTEMPTS)
    return {
      kind: "park",
      code: "webhook_exhausted",
      note: `${row.attempts} attempts failed; last: ${row.lastError ?? "unknown"}`,
    };
  if (!knownProviders().includes(row.provider))
    return { kind: "finish", note: `no connector for provider "${row.provider}"` };
  let connection: LoadedConnection;
  try {
    const cached = deps.connections?.get(row.connectionId);
    connection =
      cached ??
      (await inTenant(deps.db, row.accountId, (db) =>
        loadConnection(db, deps.keyring, row.accountId, row.connectionId),
      ));
    deps.connections?.set(row.connectionId, connection);
  } catch (error) {
    if (error instanceof AppError && error.status === 404)
      return { kind: "finish", note: "connection no longer exists" };
    // An outage is not the event's failed attempt: the caller keeps it pending without counting it.
    if (isDatabaseUnreachable(error)) throw error;
    return {
      kind: "retry",
      error: `cannot load connection: ${error instanceof Error ? error.message : String(error)}`,
    };
  }

  const spec = connection.connector.webhooks;
  if (!spec) return { kind: "finish", note: `provider "${row.provider}" declares no webhooks` };
  let resolution: WebhookResolution | null;
  try {
    resolution = spec.resolve(row.payload);
  } catch (error) {
    // Signed by the provider but not the shape we know: retrying can't help, the reason stays on the row.
    return { kind: "finish", note: error instanceof Error ? error.message : String(error) };
  }
  if (!resolution) return { kind: "finish", note: "the event names nothing we sync" };
  const entity = connection.connector.entities[resolution.entity];
  if (!entity) return { kind: "finish", note: `entity "${resolution.entity}" is not synced` };
  if (resolution.ids.length === 0) return { kind: "finish", note: "the event names no records" };
  if (resolution.deleted) {
    const deletedAt = resolution.occurredAt ?? new Date(row.receivedAt).toISOString();
    return { kind: "delete", connection, entity, ids: resolution.ids, deletedAt };
  }
  return { kind: "fetch", connection, entity, resolution };
}

/**
 * Turns one recorded event into staged records, through the same gate (breaker + rate budget, webhook
 * priority) and the same staging/transform path as a pull. Anything transient leaves the row pending for the
 * next attempt; only a finished or pointless event is marked processed.
 */
export async function processWebhookEvent(
  deps: WebhookProcessDeps,
  req: IngestRequest,
): Promise<IngestOutcome> {
  const row = await loadInboxRow(deps.db, req.accountId, req.inboxId);
  if (!row) return { status: "missing" };
  if (row.status !== "pending") return { status: "already_processed" };
  return settleGroup(deps, [row], await planEvent(deps, row)).then((o) => o.get(row.id) as IngestOutcome);
}

/**
 * Several recorded events of one account at once: events that fetch records of the same connection and
 * entity by id share their provider requests (up to the connector's ids per request), so a burst costs one
 * request per hundred events instead of one per event. Everything else goes as processWebhookEvent would.
 * One outcome per inbox id.
 */
export async function processWebhookEvents(
  deps: WebhookProcessDeps,
  reqs: IngestRequest[],
): Promise<Map<number, IngestOutcome>> {
  const outcomes = new Map<number, IngestOutcome>();
  const byAccount = new Map<string, Set<number>>();
  for (const r of reqs) {
    const ids = byAccount.get(r.accountId) ?? new Set<number>();
    byAccount.set(r.accountId, ids.add(r.inboxId));
  }
  for (const [accountId, idSet] of byAccount) {
    const ids = [...idSet];
    const rows = new Map((await loadInboxRows(deps.db, accountId, ids)).map((r) => [r.id, r]));
    const groups = new Map<string, { rows: InboxRow[]; named: string[][]; plan: Plan & { kind: "fetch" } }>();
    for (const id of ids) {
      const row = rows.get(id);
      if (!row) {
        outcomes.set(id, { status: "missing" });
        continue;
      }
      if (row.status !== "pending") {
        outcomes.set(id, { status: "already_processed" });
        continue;
      }
      const plan = await planEvent(deps, row);
      // Records fetched at their own URLs can't share a request; only by-id lists are grouped.
      if (
        plan.kind === "fetch" &&
        !plan.resolution.records?.length &&
        byIdsUrls(plan, plan.resolution.ids) !== null
      ) {
        const key = `${row.connectionId}\u0000${plan.entity.name}`;
        const group = groups.get(key);
        if (group) {
          group.rows.push(row);
          group.named.push(plan.resolution.ids);
        } else groups.set(key, { rows: [row], named: [plan.resolution.ids], plan });
        continue;
      }
      for (const [k, v] of await settleGroup(deps, [row], plan)) outcomes.set(k, v);
    }
    for (const { rows: members, named, plan } of groups.values())
      for (const [k, v] of await settleGroup(deps, members, plan, named)) outcomes.set(k, v);
  }
  return outcomes;
}

const byIdsUrls = (plan: { connection: LoadedConnection; entity: EntityDef }, ids: string[]) =>
  plan.connection.connector.recordsUrls({ baseUrl: plan.connection.baseUrl, entity: plan.entity, ids });

/**
 * Carries out one plan for its events (one, or several that fetch together: `named` holds the ids each of
 * them names) and records the outcome.
 */
async function settleGroup(
  deps: WebhookProcessDeps,
  rows: InboxRow[],
  plan: Plan,
  named: string[][] = rows.map(() => (plan.kind === "fetch" ? plan.resolution.ids : [])),
): Promise<Map<number, IngestOutcome>> {
  const first = rows[0] as InboxRow;
  const ids = rows.map((r) => r.id);
  const all = (outcome: IngestOutcome) => new Map(ids.map((id) => [id, outcome]));
  const finish = async (staged: number, note?: string) => {
    await markInboxesProcessed(deps.db, first.accountId, ids, note ?? null);
    return all(note ? { status: "processed", staged, note } : { status: "processed", staged });
  };
  // A wait the breaker or the rate budget imposes (retryAt) is not a failed attempt: only failures count
  // towards MAX_WEBHOOK_ATTEMPTS.
  const retry = async (error: string, retryAt?: number) => {
    await markInboxesAttemptFailed(deps.db, first.accountId, ids, error, retryAt === undefined);
    return all(retryAt ? { status: "pending", error, retryAt } : { status: "pending", error });
  };
  if (plan.kind === "finish") return finish(0, plan.note);
  if (plan.kind === "park") {
    await parkInboxEvents(
      deps.db,
      first.accountId,
      ids.map((inboxId) => ({ inboxId, code: plan.code, message: plan.note })),
    );
    // Attempts that spent the bound left their run waiting: it ends here, with the reason.
    if (plan.code === "webhook_exhausted") await endWebhookRuns(deps, rows, plan.note);
    return all({ status: "parked", code: plan.code, note: plan.note });
  }
  if (plan.kind === "retry") return retry(plan.error);
  const report = newRunReport();
  const run = {
    accountId: first.accountId,
    connectionId: first.connectionId,
    provider: first.provider,
    entity: plan.entity.name,
    runId:
      plan.kind === "delete" ? webhookRunId(first.eventId) : webhookGroupRunId(rows.map((r) => r.eventId)),
  };
  try {
    if (plan.kind === "delete") {
      report.line(
        "info",
        `webhook run started: 1 event deleting ${plan.ids.length} ${plan.entity.name} record(s)`,
      );
      const staged = await stageDeletes(deps, first, plan.connection, plan.entity, plan.ids, plan.deletedAt);
      report.fetched = staged;
      report.pages = 1;
      report.line("info", `run finished: ${staged} delete(s) staged for transform`);
      await writeWebhookRun(deps, run, report, "COMPLETED", null, eventIdsOf(rows));
      return finish(staged);
    }
    const wanted = [...new Set(named.flat())];
    report.line(
      "info",
      `webhook run started: ${rows.length} event(s) naming ${plan.resolution.records?.length ?? wanted.length} ${plan.entity.name} record(s)`,
    );
    const fetched = await fetchAndStage(deps, rows, plan, wanted, report);
    if (!fetched.ok) {
      const held = fetched.retryAt !== undefined;
      report.line(
        "warn",
        held
          ? `provider calls held (${fetched.error}) until ${new Date(fetched.retryAt ?? 0).toISOString()}; ${report.progress()}; the events stay pending`
          : `fetch failed: ${fetched.error}; ${report.progress()}; the events stay pending`,
      );
      await writeWebhookRun(deps, run, report, "PENDING", fetched.error);
      return retry(fetched.error, fetched.retryAt);
    }
    if (fetched.note) report.line("warn", fetched.note);
    report.line(
      "info",
      `run finished: ${report.progress()}; ${fetched.staged} record(s) staged for transform`,
    );
    await writeWebhookRun(deps, run, report, "COMPLETED", null, eventIdsOf(rows));
    if (fetched.note) return finish(fetched.staged, fetched.note);
    await markInboxesProcessed(deps.db, first.accountId, ids, null);
    // A lone event reports everything its fetch staged; one of a group, the records it named that came back.
    return new Map(
      rows.map((r, i) => {
        const staged =
          rows.length === 1
            ? fetched.staged
            : (named[i] ?? []).filter((id) => fetched.sourceIds.has(id)).length;
        return [r.id, { status: "processed", staged } as IngestOutcome];
      }),
    );
  } catch (error) {
    if (isDatabaseUnreachable(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    report.line(
      "warn",
      `run failed: ${safeErrorMessage(error)}; ${report.progress()}; the events stay pending`,
    );
    await writeWebhookRun(deps, run, report, "PENDING", safeErrorMessage(error));
    return retry(message);
  }
}

async function endWebhookRuns(deps: WebhookProcessDeps, rows: InboxRow[], reason: string): Promise<void> {
  const first = rows[0] as InboxRow;
  try {
    await inTenant(deps.db, first.accountId, (db) =>
      endParkedWebhookRuns(
        db,
        first.accountId,
        first.connectionId,
        rows.map((r) => r.eventId),
        reason,
      ),
    );
  } catch (e) {
    log.warn("webhook run history not written", { error: safeErrorMessage(e) });
  }
}

/** What a webhook run did, for its row in `sync_runs` and its log lines (ours: counts, ids, safe errors). */
type RunReport = {
  tally: CallTally;
  pages: number;
  fetched: number;
  lines: { level: RunLogLevel; message: string }[];
  line(level: RunLogLevel, message: string): void;
  progress(): string;
};

function newRunReport(): RunReport {
  const report: RunReport = {
    tally: newTally(),
    pages: 0,
    fetched: 0,
    lines: [],
    line: (level, message) => {
      report.lines.push({ level, message });
    },
    progress: () =>
      `${report.fetched} record(s) fetched by id in ${report.tally.requests} request(s) (${report.tally.rateLimited} answered 429)`,
  };
  return report;
}

/**
 * The run's row and lines, best effort: the event's own outcome is already decided, and a history lost to an
 * outage must not turn it into a failed attempt.
 */
async function writeWebhookRun(
  deps: WebhookProcessDeps,
  run: { accountId: string; connectionId: string; provider: string; entity: string; runId: string },
  report: RunReport,
  status: "COMPLETED" | "PENDING",
  error: string | null,
  eventIds: string[] = [],
): Promise<void> {
  try {
    await inTenant(deps.db, run.accountId, async (db) => {
      if (status === "COMPLETED")
        await supersedeWebhookRuns(db, run.accountId, run.connectionId, eventIds, run.runId);
      await recordReportedRun(
        db,
        {
          ...run,
          mode: "webhook",
          status,
          pages: report.pages,
          fetched: report.fetched,
          requests: report.tally.requests,
          rateLimited: report.tally.rateLimited,
          providerErrors: report.tally.errors,
          error,
        },
        report.lines,
      );
    });
  } catch (e) {
    log.warn("webhook run history not written", { runId: run.runId, error: safeErrorMessage(e) });
  }
}

type Fetched =
  | { ok: true; staged: number; sourceIds: Set<string>; note?: string }
  | { ok: false; error: string; retryAt?: number };

async function fetchAndStage(
  deps: WebhookProcessDeps,
  rows: InboxRow[],
  plan: Plan & { kind: "fetch" },
  ids: string[],
  report: RunReport,
): Promise<Fetched> {
  const { connection, entity, resolution } = plan;
  const first = rows[0] as InboxRow;
  if (resolution.records?.length) return fetchEachRecord(deps, rows, plan, report);
  // By id through the list endpoint (a normal page); else the payload's uri, but only on the connection's
  // own API origin, since the request carries the connection's credentials.
  const byIds = byIdsUrls(plan, ids);
  const urls =
    byIds ?? (resolution.uri && sameOrigin(resolution.uri, connection.baseUrl) ? [resolution.uri] : null);
  if (!urls)
    return {
      ok: true,
      staged: 0,
      sourceIds: new Set(),
      note: "no way to fetch these records on the connection's API",
    };
  const runId = webhookGroupRunId(rows.map((r) => r.eventId));
  let staged = 0;
  const sourceIds = new Set<string>();
  // Each URL is its own page of the run, so a retry after a partial failure rewrites, never duplicates.
  for (const [pageNo, url] of urls.entries()) {
    const result = await callProvider(
      { sql: deps.sql, fetch: deps.fetch, now: deps.now, ...(deps.auth ? { auth: deps.auth } : {}) },
      {
        connection,
        priority: "webhook",
        breaker: breakerConfigFrom(connection.settings),
        timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      },
      url,
    );
    countCall(report.tally, result);
    if (result.kind === "parked")
      return { ok: false, error: `parked: ${result.reason}`, retryAt: result.retryAt };
    if (result.kind === "failure") return { ok: false, error: result.error };
    if (result.kind === "rejected") {
      // Gone between the event and our fetch: its own delete event (or the next delta) settles it.
      if (result.status === 404) continue;
      return { ok: false, error: `provider rejected the fetch with HTTP ${result.status}` };
    }
    const read = await readJson(result.response);
    if (!read.ok) return { ok: false, error: read.error };
    const records = byIds
      ? connection.connector.parsePage(read.body, entity, url).records
      : recordsOfResponse(read.body, entity.collectionKey);
    const key = {
      accountId: first.accountId,
      connectionId: first.connectionId,
      provider: first.provider,
      entity: entity.name,
      runId,
      pageNo,
    };
    const page: StagedRecord[] = records.map((payload) => ({
      sourceId: entity.sourceIdOf(payload),
      op: "upsert",
      payload,
    }));
    await inTenant(deps.db, first.accountId, (db) => stagePage(db, key, page));
    if (page.length > 0) await sendTransforms(deps.queue, [{ v: 1, ...key, records: page.length }]);
    report.pages++;
    report.fetched += page.length;
    staged += page.length;
    for (const r of page) if (r.sourceId !== null) sourceIds.add(r.sourceId);
  }
  return { ok: true, staged, sourceIds };
}

/**
 * One request per record at the URL the event resolved to (a provider with no by-id list), each through the
 * gate. A record that answers 301 was merged: its survivor is fetched and staged, and the old id is retired
 * (a tombstone of kind "merged", applied when the run completes). Each record is its own page of the run, so a
 * retry rewrites instead of duplicating.
 */
async function fetchEachRecord(
  deps: WebhookProcessDeps,
  rows: InboxRow[],
  plan: Plan & { kind: "fetch" },
  report: RunReport,
): Promise<Fetched> {
  const { connection, entity } = plan;
  const targets = plan.resolution.records ?? [];
  const first = rows[0] as InboxRow;
  const key = {
    accountId: first.accountId,
    connectionId: first.connectionId,
    provider: first.provider,
    entity: entity.name,
    runId: webhookGroupRunId(rows.map((r) => r.eventId)),
  };
  const call = async (url: string, init: RequestInit) => {
    const result = await callProvider(
      // The same authentication as list fetches: an OAuth connection's token is renewed here too.
      { sql: deps.sql, fetch: deps.fetch, now: deps.now, ...(deps.auth ? { auth: deps.auth } : {}) },
      {
        connection,
        priority: "webhook",
        breaker: breakerConfigFrom(connection.settings),
        timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      },
      url,
      init,
    );
    countCall(report.tally, result);
    return result;
  };
  let staged = 0;
  const sourceIds = new Set<string>();
  const retired: StagedRecord[] = [];
  const notes: string[] = [];
  for (const [pageNo, target] of targets.entries()) {
    const got = await fetchRecord(call, connection.baseUrl, entity, target);
    if (got.kind === "error")
      return { ok: false, error: got.error, ...(got.retryAt ? { retryAt: got.retryAt } : {}) };
    if (got.kind === "refused") {
      notes.push(got.note);
      continue;
    }
    if (got.kind === "gone") {
      // Checked against the provider: a hint about a record it no longer serves is that record's delete.
      if (plan.resolution.goneIsDelete)
        retired.push({
          sourceId: target.id,
          op: "delete",
          payload: { id: target.id, deletedAt: new Date(deps.now()).toISOString() },
        });
      continue;
    }
    // The record's own URL names its parents; its body may not (ParentSpec.stamp does the same for lists).
    for (const record of got.records) {
      if (!target.stamp || !record || typeof record !== "object") continue;
      Object.assign(record as Record<string, unknown>, target.stamp);
    }
    const page: StagedRecord[] = got.records.map((payload) => ({
      sourceId: entity.sourceIdOf(payload),
      op: "upsert",
      payload,
    }));
    await inTenant(deps.db, first.accountId, (db) => stagePage(db, { ...key, pageNo }, page));
    if (page.length > 0) await sendTransforms(deps.queue, [{ v: 1, ...key, pageNo, records: page.length }]);
    report.pages++;
    report.fetched += page.length;
    staged += page.length;
    for (const r of page) if (r.sourceId !== null) sourceIds.add(r.sourceId);
    const survivor = page.find((r) => r.sourceId !== null)?.sourceId ?? null;
    if (got.movedFrom !== null && survivor !== got.movedFrom) {
      retired.push({
        sourceId: got.movedFrom,
        op: "delete",
        payload: {
          id: got.movedFrom,
          deletedAt: new Date(deps.now()).toISOString(),
          retired: "merged",
          mergedInto: survivor,
        },
      });
      // Ids only, never payloads: operators see which record replaced which.
      log.info("record merged", {
        connectionId: first.connectionId,
        entity: entity.name,
        from: got.movedFrom,
        into: survivor,
      });
    }
  }
  if (retired.length > 0) {
    // After every record's page, so its number can't collide with one of them.
    await inTenant(deps.db, first.accountId, (db) =>
      stagePage(db, { ...key, pageNo: targets.length }, retired),
    );
    await deps.completeRun(deps.db, { ...key, mode: "webhook" });
    const merged = retired.filter((r) => (r.payload as { retired?: string }).retired === "merged").length;
    if (merged > 0) notes.push(`${merged} merged record(s) retired`);
  }
  return notes.length > 0
    ? { ok: true, staged, sourceIds, note: notes.join("; ") }
    : { ok: true, staged, sourceIds };
}

async function stageDeletes(
  deps: WebhookProcessDeps,
  row: InboxRow,
  connection: LoadedConnection,
  entity: EntityDef,
  ids: string[],
  deletedAt: string,
): Promise<number> {
  const runId = webhookRunId(row.eventId);
  const tombstones: StagedRecord[] = ids.map((id) => ({
    sourceId: id,
    op: "delete",
    // A numeric id stays a number only while a double holds it exactly; beyond 2^53 it keeps its digits.
    payload: { id: /^\d+$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : id, deletedAt },
  }));
  const key = {
    accountId: row.accountId,
    connectionId: row.connectionId,
    provider: connection.provider,
    entity: entity.name,
    runId,
  };
  await inTenant(deps.db, row.accountId, (db) => stagePage(db, { ...key, pageNo: 0 }, tombstones));
  await deps.completeRun(deps.db, { ...key, mode: "webhook" });
  return tombstones.length;
}

/** The object-side entry point behind AccountSync.ingestWebhook: a fresh pool for the call, closed after. */
export async function ingestWebhookInObject(
  ctx: DurableObjectState,
  env: Env,
  req: IngestRequest,
  completeRun: RunCompleter,
): Promise<IngestOutcome> {
  const handle = openDb(env);
  try {
    return await processWebhookEvent(
      {
        db: handle.db,
        sql: ctx.storage.sql,
        queue: env.TRANSFORMS,
        fetch: (input, init) => fetch(input, init),
        auth: providerAuthFor(ctx, env),
        now: Date.now,
        keyring: await keyringFor(env.CREDENTIALS_KEY),
        completeRun,
      },
      req,
    );
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

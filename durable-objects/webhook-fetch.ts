import { type LoadedConnection, loadConnection } from "../src/accounts/connections";
// Row-level security: as etl_app, the event's own account must be set for every read and write.
import { inTenant } from "../src/accounts/tenant";
import { knownProviders } from "../src/connectors/registry";
import type { EntityDef, WebhookResolution } from "../src/connectors/types";
import type { Keyring } from "../src/core/crypto";
import { AppError } from "../src/core/errors";
import { type Db, openDb } from "../src/db/client";
import type { Env } from "../src/env";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import { type StagedRecord, stagePage } from "../src/pipeline/staging";
import { recordsOfResponse, sameOrigin } from "../src/webhooks/events";
import {
  type InboxRow,
  type IngestRequest,
  loadInboxRow,
  markInboxAttemptFailed,
  markInboxProcessed,
} from "../src/webhooks/inbox";
import { keyringFor } from "../src/webhooks/targets";
import { breakerConfigFrom } from "./breaker-store";
import { callProvider, DEFAULT_REQUEST_TIMEOUT_MS, readJson } from "./provider-call";

export type IngestOutcome =
  | { status: "processed"; staged: number; note?: string }
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
  now: () => number;
  keyring: Keyring;
  completeRun: RunCompleter;
  /** Connections already loaded in this run (one object run processes many events of few connections). */
  connections?: Map<string, LoadedConnection>;
};

/** One run per event, so a redelivered or re-swept event rewrites its own staged rows instead of adding more. */
export const webhookRunId = (eventId: string) => `webhook:${eventId}`;

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

  const finish = async (staged: number, note?: string): Promise<IngestOutcome> => {
    await markInboxProcessed(deps.db, row.accountId, row.id, note ?? null);
    return note ? { status: "processed", staged, note } : { status: "processed", staged };
  };
  const retry = async (error: string, retryAt?: number): Promise<IngestOutcome> => {
    await markInboxAttemptFailed(deps.db, row.accountId, row.id, error);
    return retryAt ? { status: "pending", error, retryAt } : { status: "pending", error };
  };

  if (!knownProviders().includes(row.provider))
    return finish(0, `no connector for provider "${row.provider}"`);
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
    if (error instanceof AppError && error.status === 404) return finish(0, "connection no longer exists");
    return retry(`cannot load connection: ${error instanceof Error ? error.message : String(error)}`);
  }

  const spec = connection.connector.webhooks;
  if (!spec) return finish(0, `provider "${row.provider}" declares no webhooks`);
  let resolution: WebhookResolution | null;
  try {
    resolution = spec.resolve(row.payload);
  } catch (error) {
    // Signed by the provider but not the shape we know: retrying can't help, the reason stays on the row.
    return finish(0, error instanceof Error ? error.message : String(error));
  }
  if (!resolution) return finish(0, "the event names nothing we sync");
  const entity = connection.connector.entities[resolution.entity];
  if (!entity) return finish(0, `entity "${resolution.entity}" is not synced`);
  if (resolution.ids.length === 0) return finish(0, "the event names no records");

  try {
    if (resolution.deleted) {
      const deletedAt = resolution.occurredAt ?? new Date(row.receivedAt).toISOString();
      return finish(await stageDeletes(deps, row, connection, entity, resolution.ids, deletedAt));
    }
    return await fetchAndStage(deps, row, connection, entity, resolution, finish, retry);
  } catch (error) {
    return retry(error instanceof Error ? error.message : String(error));
  }
}

async function fetchAndStage(
  deps: WebhookProcessDeps,
  row: InboxRow,
  connection: LoadedConnection,
  entity: EntityDef,
  resolution: WebhookResolution,
  finish: (staged: number, note?: string) => Promise<IngestOutcome>,
  retry: (error: string, retryAt?: number) => Promise<IngestOutcome>,
): Promise<IngestOutcome> {
  // By id through the list endpoint (a normal page); else the payload's uri, but only on the connection's
  // own API origin, since the request carries the connection's credentials.
  const byIds = connection.connector.recordsUrls({
    baseUrl: connection.baseUrl,
    entity,
    ids: resolution.ids,
  });
  const urls =
    byIds ?? (resolution.uri && sameOrigin(resolution.uri, connection.baseUrl) ? [resolution.uri] : null);
  if (!urls) return finish(0, "no way to fetch these records on the connection's API");
  const runId = webhookRunId(row.eventId);
  let staged = 0;
  // Each URL is its own page of the event's run, so a retry after a partial failure rewrites, never duplicates.
  for (const [pageNo, url] of urls.entries()) {
    const result = await callProvider(
      { sql: deps.sql, fetch: deps.fetch, now: deps.now },
      {
        connection,
        priority: "webhook",
        breaker: breakerConfigFrom(connection.settings),
        timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      },
      url,
    );
    if (result.kind === "parked") return retry(`parked: ${result.reason}`, result.retryAt);
    if (result.kind === "failure") return retry(result.error);
    if (result.kind === "rejected") {
      // Gone between the event and our fetch: its own delete event (or the next delta) settles it.
      if (result.status === 404) continue;
      return retry(`provider rejected the fetch with HTTP ${result.status}`);
    }
    const read = await readJson(result.response);
    if (!read.ok) return retry(read.error);
    const records = byIds
      ? connection.connector.parsePage(read.body, entity, url).records
      : recordsOfResponse(read.body, entity.collectionKey);
    const key = {
      accountId: row.accountId,
      connectionId: row.connectionId,
      provider: row.provider,
      entity: entity.name,
      runId,
      pageNo,
    };
    const page: StagedRecord[] = records.map((payload) => ({
      sourceId: entity.sourceIdOf(payload),
      op: "upsert",
      payload,
    }));
    await inTenant(deps.db, row.accountId, (db) => stagePage(db, key, page));
    if (page.length > 0) await sendTransforms(deps.queue, [{ v: 1, ...key, records: page.length }]);
    staged += page.length;
  }
  return finish(staged);
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
    payload: { id: /^\d+$/.test(id) ? Number(id) : id, deletedAt },
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

import type { LoadedConnection } from "../src/accounts/connections";
import { inTenant } from "../src/accounts/tenant";
import type { Db } from "../src/db/client";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import { type StagedRecord, stagePage } from "../src/pipeline/staging";
import { breakerConfigFrom } from "./breaker-store";
import type { ProviderAuth } from "./provider-auth";
import { callProvider, DEFAULT_REQUEST_TIMEOUT_MS, readJson } from "./provider-call";

export type ResyncDeps = {
  db: Db;
  sql: SqlStorage;
  queue: Queue<TransformMessage>;
  fetch: typeof fetch;
  auth?: ProviderAuth;
  now: () => number;
};

export type ResyncOutcome =
  /** Fetched and staged; the transform queue writes it into core like any pulled page. */
  | { status: "staged"; runId: string; staged: number }
  /** The provider does not list it (404 or an empty answer): nothing staged, nothing deleted. */
  | { status: "not_found"; runId: string }
  /** The entity has no by-id request, so a single record cannot be fetched on its own. */
  | { status: "unsupported"; note: string }
  /** The breaker, the rate budget or a refused grant held the call back: ask again after `retryAt`. */
  | { status: "parked"; reason: string; retryAt: number }
  | { status: "failed"; error: string };

/**
 * Fetches one record by its provider id, once, through the connection's gate (breaker and rate budget, at
 * webhook priority), and stages it as a page of its own run, the same path a webhook's fetch takes. One
 * request, no retry: the operator who asked sees the outcome and may ask again.
 */
export async function resyncRecord(
  deps: ResyncDeps,
  connection: LoadedConnection,
  entityName: string,
  sourceId: string,
): Promise<ResyncOutcome> {
  const entity = connection.connector.entities[entityName];
  if (!entity) return { status: "unsupported", note: `"${entityName}" is not an entity of this connection` };
  const urls = connection.connector.recordsUrls({ baseUrl: connection.baseUrl, entity, ids: [sourceId] });
  const url = urls?.[0];
  if (!url) return { status: "unsupported", note: `${entityName} records cannot be fetched by id` };
  const runId = `resync:${entityName}:${sourceId}:${deps.now()}`;
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
  if (result.kind === "parked") return { status: "parked", reason: result.reason, retryAt: result.retryAt };
  if (result.kind === "failure") return { status: "failed", error: result.error };
  if (result.kind === "rejected") {
    if (result.status === 404) return { status: "not_found", runId };
    return { status: "failed", error: `provider rejected the fetch with HTTP ${result.status}` };
  }
  const read = await readJson(result.response, connection.connector.repairBody);
  if (!read.ok) return { status: "failed", error: read.error };
  // A by-id list may answer more than asked (or nothing): only the named record is staged.
  const page: StagedRecord[] = connection.connector
    .parsePage(read.body, entity, url, connection.settings)
    .records.map((payload) => ({ sourceId: entity.sourceIdOf(payload), op: "upsert" as const, payload }))
    .filter((r) => r.sourceId === sourceId);
  if (page.length === 0) return { status: "not_found", runId };
  const key = {
    accountId: connection.accountId,
    connectionId: connection.id,
    provider: connection.provider,
    entity: entity.name,
    runId,
    pageNo: 0,
  };
  await inTenant(deps.db, connection.accountId, (db) => stagePage(db, key, page));
  await sendTransforms(deps.queue, [{ v: 1, ...key, records: page.length }]);
  return { status: "staged", runId, staged: page.length };
}

import type { LoadedConnection } from "../src/accounts/connections";
import type { EntityDef } from "../src/connectors/types";
import { parseRetryAfter } from "../src/core/backoff";
import { type Cursor, maxCursor, overlapStart } from "../src/core/cursor";
import type { Db } from "../src/db/client";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import { stagePage } from "../src/pipeline/staging";
import { acquireLease, releaseLease, renewLease } from "./lease";
import { getSyncState, mirrorSyncState, putSyncState, type SyncState } from "./sync-state";

export type StepDeps = {
  sql: SqlStorage;
  db: Db;
  queue: Queue<TransformMessage>;
  fetch: typeof fetch;
  now: () => number;
  accountId: string;
  connection: LoadedConnection;
  pagesPerStep: number;
  leaseTtlMs: number;
  /** Delta runs start this far before the cursor: providers' clocks and commit order are not exact. */
  overlapMs: number;
};

export type StepOutcome =
  | { kind: "continue" }
  | { kind: "completed" }
  | { kind: "busy" }
  | { kind: "idle" }
  | { kind: "rate_limited"; retryAt: number }
  | { kind: "failed"; error: string };

export const leaseName = (connectionId: string, entity: string) => `sync:${connectionId}:${entity}`;

/**
 * One bounded slice of a run: up to pagesPerStep pages, each staged (one statement), announced to the
 * transform queue, and only then committed to the cursor. A crash at any point re-fetches a page; none is
 * ever skipped.
 */
export async function runSyncStep(deps: StepDeps, entityName: string): Promise<StepOutcome> {
  const { sql, connection } = deps;
  const entity = connection.connector.entities[entityName];
  if (!entity) return { kind: "failed", error: `unknown entity "${entityName}"` };
  const lease = leaseName(connection.id, entityName);
  const holder = crypto.randomUUID();
  if (!acquireLease(sql, lease, holder, deps.now(), deps.leaseTtlMs)) return { kind: "busy" };
  try {
    let state = getSyncState(sql, connection.id, entityName);
    if (state?.status !== "IN_PROGRESS" || !state.runId) return { kind: "idle" };
    for (let i = 0; i < deps.pagesPerStep; i++) {
      const outcome = await syncOnePage(deps, entity, state);
      if (outcome.kind !== "page") return outcome;
      state = outcome.state;
      if (!renewLease(sql, lease, holder, deps.now(), deps.leaseTtlMs)) return { kind: "busy" };
      if (state.status === "COMPLETED") return { kind: "completed" };
    }
    return { kind: "continue" };
  } finally {
    releaseLease(sql, lease, holder);
  }
}

async function syncOnePage(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
): Promise<{ kind: "page"; state: SyncState } | Exclude<StepOutcome, { kind: "continue" | "completed" }>> {
  const { connection } = deps;
  const connector = connection.connector;
  const url =
    state.nextUrl ??
    connector.firstPageUrl({
      baseUrl: connection.baseUrl,
      entity,
      mode: state.mode,
      since: state.mode === "delta" && state.cursor ? overlapStart(state.cursor, deps.overlapMs) : null,
    });
  let response: Response;
  try {
    response = await deps.fetch(url, {
      headers: { Accept: "application/json", ...connector.authHeaders(connection.credentials) },
    });
  } catch (error) {
    return {
      kind: "failed",
      error: `fetch failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (response.status === 429) {
    await response.body?.cancel();
    const wait = parseRetryAfter(response.headers.get("Retry-After"), deps.now()) ?? 10_000;
    return { kind: "rate_limited", retryAt: deps.now() + wait };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { kind: "failed", error: `${entity.listPath} answered HTTP ${response.status}` };
  }
  let page: ReturnType<typeof connector.parsePage>;
  try {
    page = connector.parsePage(await response.json(), entity, url);
  } catch (error) {
    return {
      kind: "failed",
      error: `unreadable page: ${error instanceof Error ? error.message : String(error)}`,
    };
  }

  const runId = state.runId ?? "";
  await stagePage(
    deps.db,
    {
      accountId: deps.accountId,
      connectionId: connection.id,
      provider: connection.provider,
      entity: entity.name,
      runId,
      pageNo: state.pageNo,
    },
    page.records.map((payload) => ({ sourceId: entity.sourceIdOf(payload), op: "upsert", payload })),
  );
  if (page.records.length > 0) {
    await sendTransforms(deps.queue, [
      {
        v: 1,
        accountId: deps.accountId,
        connectionId: connection.id,
        provider: connection.provider,
        entity: entity.name,
        runId,
        pageNo: state.pageNo,
        records: page.records.length,
      },
    ]);
  }

  let cursor: Cursor | null = state.cursor;
  for (const record of page.records) {
    const c = entity.cursorOf(record);
    if (c) cursor = cursor ? maxCursor(cursor, c) : c;
  }
  const now = deps.now();
  const done = page.nextUrl === null;
  const next: SyncState = {
    ...state,
    pageNo: state.pageNo + 1,
    nextUrl: page.nextUrl,
    cursor,
    recordsSynced: state.recordsSynced + page.records.length,
    runRecords: state.runRecords + page.records.length,
    runTotal: state.runTotal ?? page.total,
    status: done ? "COMPLETED" : "IN_PROGRESS",
    lastSyncAt: now,
    lastFinishedAt: done ? now : state.lastFinishedAt,
    errorMessage: null,
  };
  putSyncState(deps.sql, next);
  await mirrorSyncState(deps.db, deps.accountId, next).catch(() => {});
  return { kind: "page", state: next };
}

import type { LoadedConnection } from "../src/accounts/connections";
import type { EntityDef } from "../src/connectors/types";
import { type Cursor, maxCursor, overlapStart } from "../src/core/cursor";
import type { Db } from "../src/db/client";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import { stagePage } from "../src/pipeline/staging";
import { acquireLease, releaseLease, renewLease } from "./lease";
import { callProvider, type ParkReason, readJson } from "./provider-call";
import type { SyncSettings } from "./settings";
import { getSyncState, putSyncState, type SyncState } from "./sync-state";

export type StepDeps = {
  sql: SqlStorage;
  /** Runs fn with Postgres scoped to the account (row-level security). */
  tenantDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  queue: Queue<TransformMessage>;
  fetch: typeof fetch;
  now: () => number;
  accountId: string;
  connection: LoadedConnection;
  settings: SyncSettings;
  pagesPerStep: number;
  leaseTtlMs: number;
  /** Delta runs start this far before the cursor: providers' clocks and commit order are not exact. */
  overlapMs: number;
  /** Called after every durable state change (Postgres mirror); its failure must not fail the step. */
  onState: (state: SyncState) => Promise<void>;
  /** Called once when a run's last page is committed. */
  onComplete: (state: SyncState) => Promise<void>;
  /** Lease holder id; tests pass their own to show exclusivity. */
  holder?: string;
};

export type StepOutcome =
  | { kind: "continue" }
  | { kind: "completed" }
  | { kind: "busy" }
  | { kind: "idle" }
  | { kind: "parked"; reason: ParkReason; retryAt: number }
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
  const holder = deps.holder ?? crypto.randomUUID();
  if (!acquireLease(sql, lease, holder, deps.now(), deps.leaseTtlMs)) return { kind: "busy" };
  try {
    let state = getSyncState(sql, connection.id, entityName);
    if (state?.status !== "IN_PROGRESS" || !state.runId) return { kind: "idle" };
    for (let i = 0; i < deps.pagesPerStep; i++) {
      const outcome = await syncOnePage(deps, entity, state);
      if (outcome.kind !== "page") return outcome;
      // Whoever stole an expired lease now owns the run: stop without touching its state.
      if (!renewLease(sql, lease, holder, deps.now(), deps.leaseTtlMs)) return { kind: "busy" };
      state = commitPage(deps, state, outcome);
      await deps.onState(state);
      if (state.status === "COMPLETED") {
        await deps.onComplete(state);
        return { kind: "completed" };
      }
    }
    return { kind: "continue" };
  } finally {
    releaseLease(sql, lease, holder);
  }
}

type FetchedPage = { kind: "page"; records: unknown[]; nextUrl: string | null; total: number | null };

async function syncOnePage(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
): Promise<FetchedPage | Exclude<StepOutcome, { kind: "continue" | "completed" }>> {
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
  const call = await callProvider(
    { sql: deps.sql, fetch: deps.fetch, now: deps.now },
    {
      connection,
      priority: state.mode === "delta" ? "delta" : "backfill",
      breaker: deps.settings.breaker,
      timeoutMs: deps.settings.requestTimeoutMs,
    },
    url,
  );
  if (call.kind === "parked") return call;
  if (call.kind === "failure") return { kind: "failed", error: `${entity.listPath}: ${call.error}` };
  if (call.kind === "rejected")
    return { kind: "failed", error: `${entity.listPath} answered HTTP ${call.status}` };
  const body = await readJson(call.response);
  if (!body.ok) return { kind: "failed", error: `${entity.listPath}: ${body.error}` };
  let page: ReturnType<typeof connector.parsePage>;
  try {
    page = connector.parsePage(body.body, entity, url);
  } catch (error) {
    return {
      kind: "failed",
      error: `unreadable page: ${error instanceof Error ? error.message : String(error)}`,
    };
  }

  const runId = state.runId ?? "";
  const key = {
    accountId: deps.accountId,
    connectionId: connection.id,
    provider: connection.provider,
    entity: entity.name,
    runId,
    pageNo: state.pageNo,
  };
  await deps.tenantDb((db) =>
    stagePage(
      db,
      key,
      page.records.map((payload) => ({ sourceId: entity.sourceIdOf(payload), op: "upsert", payload })),
    ),
  );
  if (page.records.length > 0) {
    await sendTransforms(deps.queue, [{ v: 1, ...key, records: page.records.length }]);
  }
  return { kind: "page", ...page };
}

/** The cursor, page number and counters move in one synchronous write, after staging and enqueueing. */
function commitPage(deps: StepDeps, state: SyncState, page: FetchedPage): SyncState {
  const entity = deps.connection.connector.entities[state.entity];
  let cursor: Cursor | null = state.cursor;
  for (const record of page.records) {
    const c = entity?.cursorOf(record) ?? null;
    if (c) cursor = maxCursor(cursor, c);
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
  return next;
}

import type { LoadedConnection } from "../src/accounts/connections";
import type { EntityDef } from "../src/connectors/types";
import { type Cursor, maxCursor, overlapStart } from "../src/core/cursor";
import type { Db } from "../src/db/client";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import { type PageKey, stagePages } from "../src/pipeline/staging";
import { acquireLease, releaseLease, renewLease } from "./lease";
import { callProvider, type ParkReason, readJson } from "./provider-call";
import type { SyncSettings } from "./settings";
import { getSyncState, putSyncState, type SyncState } from "./sync-state";

export type StepDeps = {
  sql: SqlStorage;
  /** Runs fn with Postgres scoped to the account (row-level security), in one transaction. */
  tenantDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  queue: Queue<TransformMessage>;
  fetch: typeof fetch;
  now: () => number;
  accountId: string;
  connection: LoadedConnection;
  settings: SyncSettings;
  pagesPerStep: number;
  /** Wall-clock budget of one step: no page is started after it has passed (the step's pages still finish). */
  stepMs?: number;
  /** Pages fetched ahead of staging (default DEFAULT_READ_AHEAD); they are staged together. */
  readAhead?: number;
  leaseTtlMs: number;
  /** Delta runs start this far before the cursor: providers' clocks and commit order are not exact. */
  overlapMs: number;
  /** Called after every durable state change (Postgres mirror); its failure must not fail the step. */
  onState: (state: SyncState) => Promise<void>;
  /**
   * Writes the Postgres mirror of a committed state inside the transaction that stages the next page, so a
   * page costs one transaction instead of two. When given, onState is called only for the state a step ends
   * with (the one no later page's transaction carried).
   */
  mirrorIn?: (db: Db, state: SyncState) => Promise<void>;
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

type FetchedPage = { kind: "page"; records: unknown[]; nextUrl: string | null; total: number | null };
type FetchOutcome = FetchedPage | Exclude<StepOutcome, { kind: "continue" | "completed" }>;

/** Pages fetched ahead of the one being staged; they are staged together (one transaction, one send). */
export const DEFAULT_READ_AHEAD = 8;

/**
 * One bounded slice of a run: up to pagesPerStep pages (or stepMs of wall time). A page's URL is known once the
 * page before it is parsed, so fetching is a chain; it runs ahead of staging by up to readAhead pages. Whatever
 * has been fetched when the previous write finishes is staged in one transaction (one statement), announced to
 * the transform queue in one send, and only then committed to the cursor, in page order. A crash at any point
 * re-fetches from the last committed page (pages fetched ahead are simply fetched again); none is ever skipped.
 */
export async function runSyncStep(deps: StepDeps, entityName: string): Promise<StepOutcome> {
  const { sql, connection } = deps;
  const entity = connection.connector.entities[entityName];
  if (!entity) return { kind: "failed", error: `unknown entity "${entityName}"` };
  const lease = leaseName(connection.id, entityName);
  const holder = deps.holder ?? crypto.randomUUID();
  const started = deps.now();
  if (!acquireLease(sql, lease, holder, started, deps.leaseTtlMs)) return { kind: "busy" };
  let reader: ReadAhead | null = null;
  // The committed state no page transaction has mirrored yet (mirrorIn mode).
  let unmirrored: SyncState | null = null;
  try {
    let state = getSyncState(sql, connection.id, entityName);
    if (state?.status !== "IN_PROGRESS" || !state.runId) return { kind: "idle" };
    const run = state;
    reader = readAhead({
      first: pageUrl(deps, entity, run),
      fetch: (url) => fetchPage(deps, entity, run, url),
      depth: Math.max(1, deps.readAhead ?? DEFAULT_READ_AHEAD),
      limit: deps.pagesPerStep,
      more: () => deps.stepMs === undefined || deps.now() - started < deps.stepMs,
    });
    for (;;) {
      const taken = await reader.take();
      const pages = taken.filter((p): p is FetchedPage => p.kind === "page");
      const stop = taken.find((p): p is Exclude<FetchOutcome, FetchedPage> => p.kind !== "page");
      if (pages.length > 0) {
        if (await stageAndEnqueue(deps, entity, state, pages, unmirrored)) unmirrored = null;
        // Whoever stole an expired lease now owns the run: stop without touching its state.
        if (!renewLease(sql, lease, holder, deps.now(), deps.leaseTtlMs)) return { kind: "busy" };
        for (const page of pages) state = commitPage(deps, state, page);
        if (deps.mirrorIn) unmirrored = state;
        else await deps.onState(state);
        if (state.status === "COMPLETED") {
          if (unmirrored) await deps.onState(unmirrored);
          unmirrored = null;
          await deps.onComplete(state);
          return { kind: "completed" };
        }
      }
      if (stop) return stop;
      if (taken.length === 0) return { kind: "continue" };
    }
  } finally {
    if (unmirrored) await deps.onState(unmirrored);
    // Pages fetched ahead that nobody will commit: let their requests finish (their outcomes count for the
    // breaker and budget) and drop them. They are fetched again by the step that needs them.
    if (reader) await reader.close();
    releaseLease(sql, lease, holder);
  }
}

type ReadAhead = {
  /** Every page fetched so far and not yet taken, at least one unless the chain has ended (then none). */
  take(): Promise<FetchOutcome[]>;
  /** Stops fetching and waits for a request in flight. */
  close(): Promise<void>;
};

/**
 * The fetch chain, running ahead of its consumer by at most `depth` pages. It ends after `limit` pages, at the
 * last page, at the first outcome that isn't a page, or when `more()` says the step's time is up.
 */
function readAhead(opts: {
  first: string;
  fetch: (url: string) => Promise<FetchOutcome>;
  depth: number;
  limit: number;
  more: () => boolean;
}): ReadAhead {
  const buffer: FetchOutcome[] = [];
  let ended = false;
  let closed = false;
  let wake: (() => void) | null = null;
  let space: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const chain = (async () => {
    let url: string | null = opts.first;
    try {
      for (let n = 0; url !== null && n < opts.limit && !closed; n++) {
        if (n > 0 && !opts.more()) break;
        while (buffer.length >= opts.depth && !closed) await new Promise<void>((r) => (space = r));
        if (closed) break;
        const page: FetchOutcome = await opts.fetch(url);
        if (closed) break;
        buffer.push(page);
        notify();
        url = page.kind === "page" ? page.nextUrl : null;
      }
    } catch (error) {
      buffer.push({ kind: "failed", error: error instanceof Error ? error.message : String(error) });
    } finally {
      ended = true;
      notify();
    }
  })();
  return {
    async take() {
      while (buffer.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const out = buffer.splice(0);
      space?.();
      space = null;
      return out;
    },
    async close() {
      closed = true;
      space?.();
      space = null;
      await chain;
    },
  };
}

function pageUrl(deps: StepDeps, entity: EntityDef, state: SyncState): string {
  return (
    state.nextUrl ??
    deps.connection.connector.firstPageUrl({
      baseUrl: deps.connection.baseUrl,
      entity,
      mode: state.mode,
      since: state.mode === "delta" && state.cursor ? overlapStart(state.cursor, deps.overlapMs) : null,
    })
  );
}

/** Provider call, body and parse: everything about a page that touches neither Postgres nor the cursor. */
async function fetchPage(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
  url: string,
): Promise<FetchOutcome> {
  const { connection } = deps;
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
  try {
    return { kind: "page", ...connection.connector.parsePage(body.body, entity, url) };
  } catch (error) {
    return {
      kind: "failed",
      error: `unreadable page: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * Stages the pages (one statement) and, in the same transaction, mirrors the last committed state; then enqueues
 * their transforms (one send). Returns whether the mirror was written. A failing mirror must not fail the pages,
 * so it runs under a savepoint.
 */
async function stageAndEnqueue(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
  pages: FetchedPage[],
  mirror: SyncState | null,
): Promise<boolean> {
  const staged = pages.map((page, i) => ({
    key: {
      accountId: deps.accountId,
      connectionId: deps.connection.id,
      provider: deps.connection.provider,
      entity: entity.name,
      runId: state.runId ?? "",
      pageNo: state.pageNo + i,
    } satisfies PageKey,
    records: page.records.map((payload) => ({
      sourceId: entity.sourceIdOf(payload),
      op: "upsert" as const,
      payload,
    })),
  }));
  const nonEmpty = staged.filter((p) => p.records.length > 0);
  const mirrorIn = deps.mirrorIn;
  if (nonEmpty.length === 0 && !(mirror && mirrorIn)) return false;
  const mirrored = await deps.tenantDb(async (db) => {
    await stagePages(db, nonEmpty);
    return mirror && mirrorIn ? savepoint(db, () => mirrorIn(db, mirror)) : false;
  });
  await sendTransforms(
    deps.queue,
    nonEmpty.map((p) => ({ v: 1 as const, ...p.key, records: p.records.length })),
  );
  return mirrored;
}

async function savepoint(db: Db, fn: () => Promise<void>): Promise<boolean> {
  await db.execute("savepoint mirror");
  try {
    await fn();
    await db.execute("release savepoint mirror");
    return true;
  } catch (error) {
    await db.execute("rollback to savepoint mirror");
    console.warn("sync state mirror failed", error instanceof Error ? error.message : String(error));
    return false;
  }
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

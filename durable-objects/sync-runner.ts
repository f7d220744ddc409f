import type { LoadedConnection } from "../src/accounts/connections";
import { listPathValues, parentValues } from "../src/connectors/paging";
import type { EntityDef } from "../src/connectors/types";
import { type Cursor, maxCursor, overlapStart } from "../src/core/cursor";
import { logger } from "../src/core/log";
import { safeErrorMessage } from "../src/core/safe-error";
import type { Db } from "../src/db/client";
import { sendTransforms, type TransformMessage } from "../src/pipeline/messages";
import { type PageKey, stagePages } from "../src/pipeline/staging";
import {
  countParents,
  type ParentRef,
  type ParentScope,
  parentPagesPending,
  parentRefCursor,
  parentsAfter,
} from "../src/sync/parents";
import { type CallTally, countCall } from "./call-tally";
import { acquireLease, releaseLease, renewLease } from "./lease";
import type { ProviderAuth } from "./provider-auth";
import { callProvider, type ParkReason, readJson } from "./provider-call";
import { MAX_RECORD_MOVES } from "./record-fetch";
import type { SyncSettings } from "./settings";
import { type FanOut, getSyncState, putSyncState, type SyncState } from "./sync-state";

const log = logger("sync");

export type StepDeps = {
  sql: SqlStorage;
  /** Runs fn with Postgres scoped to the account (row-level security), in one transaction. */
  tenantDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  queue: Queue<TransformMessage>;
  fetch: typeof fetch;
  /** Tokens and sessions of the connection's auth step (absent: static credentials only). */
  auth?: ProviderAuth;
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
  /**
   * Fairness towards other accounts: a backfill (not a delta) keeps at most `limit` of the account's pages
   * waiting in the shared transform queue. A step starts only with room and fetches no more pages than fit.
   */
  backlog?: { limit: number; pending: () => Promise<number> };
};

/** How soon a backfill held back by its transform backlog looks again. */
export const BACKLOG_WAIT_MS = 1_000;

export type StepOutcome =
  | { kind: "continue" }
  | { kind: "completed" }
  | { kind: "busy" }
  | { kind: "idle" }
  | { kind: "parked"; reason: ParkReason; retryAt: number }
  /** Not an error: the run can't begin yet (its parent entity is still landing); look again at retryAt. */
  | { kind: "waiting"; reason: string; retryAt: number }
  /** unreachable: the step failed because Postgres could not be reached (an outage, not the run's fault). */
  | { kind: "failed"; error: string; unreachable?: boolean };

export const leaseName = (connectionId: string, entity: string) => `sync:${connectionId}:${entity}`;

/**
 * Where the next page is: its URL and, for an entity listed per parent, whose children it lists (with the
 * ancestors' ids a nested path needs).
 */
type Position = { url: string; parent: string | null; ancestors?: Record<string, string> | null };

type FetchedPage = {
  kind: "page";
  records: unknown[];
  nextUrl: string | null;
  total: number | null;
  /** The page after this one in the run (across parents); null when this page ends the run. */
  next: Position | null;
};
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
  const tally: Tally = { requests: 0, rateLimited: 0, errors: 0 };
  try {
    let state = getSyncState(sql, connection.id, entityName);
    if (state?.status !== "IN_PROGRESS" || !state.runId) return { kind: "idle" };
    let parents: Parents | null = null;
    if (entity.parent) {
      const fan = await prepareFanOut(deps, entity, state);
      if (fan.kind !== "ready") return fan;
      state = fan.state;
      parents = fan.parents;
      if (state.status === "COMPLETED") {
        // No parent to list: the run is complete without a page.
        await deps.onState(state);
        await deps.onComplete(state);
        return { kind: "completed" };
      }
    }
    let limit = deps.pagesPerStep;
    if (deps.backlog && state.mode !== "delta") {
      const room = deps.backlog.limit - (await deps.backlog.pending());
      if (room <= 0) {
        return {
          kind: "waiting",
          reason: "transform backlog",
          retryAt: deps.now() + BACKLOG_WAIT_MS,
        };
      }
      limit = Math.min(limit, room);
    }
    const run = state;
    const list = parents;
    reader = readAhead({
      first: position(deps, entity, run),
      fetch: (at) => fetchPage(deps, entity, run, at, list, tally),
      depth: Math.max(1, Math.min(limit, deps.readAhead ?? DEFAULT_READ_AHEAD)),
      limit,
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
        for (const page of pages) state = commitPage(deps, state, page, tally);
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
    // Requests no committed page carried (a 429, a failure, pages fetched ahead): counted on the run all the same.
    const counted = countRequests(deps, entityName, tally);
    if (counted) unmirrored = counted;
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
  first: Position;
  fetch: (at: Position) => Promise<FetchOutcome>;
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
    let at: Position | null = opts.first;
    try {
      for (let n = 0; at !== null && n < opts.limit && !closed; n++) {
        if (n > 0 && !opts.more()) break;
        while (buffer.length >= opts.depth && !closed) await new Promise<void>((r) => (space = r));
        if (closed) break;
        const page: FetchOutcome = await opts.fetch(at);
        if (closed) break;
        buffer.push(page);
        notify();
        at = page.kind === "page" ? page.next : null;
      }
    } catch (error) {
      buffer.push({ kind: "failed", error: safeErrorMessage(error) });
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

function position(deps: StepDeps, entity: EntityDef, state: SyncState): Position {
  const parent = state.fanOut?.current ?? null;
  const ancestors = state.fanOut?.currentAncestors ?? null;
  if (state.nextUrl) return { url: state.nextUrl, parent, ancestors };
  if (state.fanOut) return { url: childrenUrl(deps, entity, state, parent, ancestors), parent, ancestors };
  return {
    url: deps.connection.connector.firstPageUrl({
      baseUrl: deps.connection.baseUrl,
      entity,
      mode: state.mode,
      since: state.mode === "delta" && state.cursor ? overlapStart(state.cursor, deps.overlapMs) : null,
      settings: deps.connection.settings,
    }),
    parent: null,
  };
}

/**
 * First page of one parent's children. All of them, in a delta run too: the run chose the parents that changed,
 * and a child's own update time says nothing about what the provider did to its list (a child moved or deleted).
 */
function childrenUrl(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
  parentId: string | null,
  ancestors: Record<string, string> | null | undefined,
): string {
  return deps.connection.connector.firstPageUrl({
    baseUrl: deps.connection.baseUrl,
    entity,
    mode: state.mode,
    since: null,
    parentId,
    parentParams: ancestors ?? null,
    settings: deps.connection.settings,
  });
}

type Parents = { after(id: string | null): Promise<ParentRef | null> };

/** Look again this soon when the parent entity is still landing. */
export const PARENT_WAIT_MS = 5_000;
/**
 * A parent page untransformed for longer than this is stuck, not landing: the re-announce sweep and the failed
 * records own it, and the fan-out stops waiting for it (the daily reconciliation repairs what it missed).
 */
export const PARENT_STALE_PAGE_MS = 30 * 60_000;

/**
 * Before a run lists anything: an onboarding run (and a delta, for the parent's delta) waits until the parent
 * entity has no run in progress and no freshly staged page still untransformed, so every parent is in core. Then it counts its parents, notes the
 * Postgres time (the next delta's watermark) and takes the first parent. Later steps resume where the state is.
 */
async function prepareFanOut(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
): Promise<
  { kind: "ready"; state: SyncState; parents: Parents } | Extract<StepOutcome, { kind: "waiting" }>
> {
  const spec = entity.parent;
  const parentDef = spec ? deps.connection.connector.entities[spec.entity] : undefined;
  if (!spec || !parentDef) throw new Error(`${entity.name}: parent entity "${spec?.entity}" is not declared`);
  if (!state.fanOut && (state.mode === "onboarding" || state.mode === "delta")) {
    const reason = await parentUnsettled(deps, spec.entity, state.mode);
    if (reason) {
      const waiting = { ...state, errorMessage: reason };
      if (state.errorMessage !== reason) {
        putSyncState(deps.sql, waiting);
        await deps.onState(waiting);
      }
      return { kind: "waiting", reason, retryAt: deps.now() + PARENT_WAIT_MS };
    }
  }
  const scope: ParentScope = {
    accountId: deps.accountId,
    connectionId: deps.connection.id,
    parent: parentDef,
    // A child versioned by content has no update time to say whose children changed: a delta lists every
    // parent's children (and completes as a complete scan), unless the connector says a parent's own change
    // covers its children's (ParentSpec.deltaParents), when it lists the changed parents' only.
    since: state.fanOut
      ? state.fanOut.since
      : state.mode === "delta" && (entity.versioning !== "contentHash" || spec.deltaParents === "changed")
        ? (state.parentWatermark ?? null)
        : null,
    overlapMs: deps.overlapMs,
    ...(spec.ancestors ? { ancestors: spec.ancestors } : {}),
    ...(spec.where ? { only: spec.where } : {}),
  };
  const parents = parentRefCursor((after) => deps.tenantDb((db) => parentsAfter(db, scope, after)));
  if (state.fanOut) return { kind: "ready", state, parents };
  const counted = await deps.tenantDb((db) => countParents(db, scope));
  const first = await parents.after(null);
  const fanOut: FanOut = {
    current: first?.id ?? null,
    currentAncestors: first?.ancestors ?? null,
    done: null,
    parentsDone: 0,
    parentsTotal: counted.total,
    startedAt: counted.at,
    since: scope.since,
  };
  const now = deps.now();
  const next: SyncState =
    first === null
      ? {
          ...state,
          fanOut,
          nextUrl: null,
          status: "COMPLETED",
          lastSyncAt: now,
          lastFinishedAt: now,
          parentWatermark: counted.at,
          errorMessage: null,
        }
      : { ...state, fanOut, nextUrl: null, errorMessage: null };
  putSyncState(deps.sql, next);
  return { kind: "ready", state: next, parents };
}

/**
 * Why the parent entity isn't settled yet, or null when every parent it fetched is in core. A delta waits
 * only for the parent's delta (started by the same sync): a parent new in it then has its children listed
 * in the same delta, not the next. It never waits for a parent's backfill, which can take hours.
 */
async function parentUnsettled(
  deps: StepDeps,
  parentEntity: string,
  mode: SyncState["mode"],
): Promise<string | null> {
  const parentState = getSyncState(deps.sql, deps.connection.id, parentEntity);
  if (mode === "delta" && parentState?.mode !== "delta") return null;
  if (parentState?.status === "IN_PROGRESS")
    return `waiting for the ${parentState.mode} run of ${parentEntity} to finish`;
  const pending = await deps.tenantDb((db) =>
    parentPagesPending(db, {
      connectionId: deps.connection.id,
      parentEntity,
      stagedWithinMs: PARENT_STALE_PAGE_MS,
    }),
  );
  return pending ? `waiting for staged pages of ${parentEntity} to be transformed` : null;
}

/** Provider requests of a step not yet added to its run's counters. */
type Tally = CallTally;

/** Adds what the tally holds to the run's state (one synchronous write); the new state, or null if none. */
function countRequests(deps: StepDeps, entityName: string, tally: Tally): SyncState | null {
  if (tally.requests === 0) return null;
  const state = getSyncState(deps.sql, deps.connection.id, entityName);
  if (!state?.runId) return null;
  const next = {
    ...state,
    runRequests: (state.runRequests ?? 0) + tally.requests,
    runRateLimited: (state.runRateLimited ?? 0) + tally.rateLimited,
    runProviderErrors: (state.runProviderErrors ?? 0) + tally.errors,
  };
  tally.requests = 0;
  tally.rateLimited = 0;
  tally.errors = 0;
  putSyncState(deps.sql, next);
  return next;
}

/** Provider call, body and parse: everything about a page that touches neither Postgres nor the cursor. */
async function fetchPage(
  deps: StepDeps,
  entity: EntityDef,
  state: SyncState,
  at: Position,
  parents: Parents | null,
  tally: Tally,
): Promise<FetchOutcome> {
  const { connection } = deps;
  let url = at.url;
  let page: ReturnType<typeof connection.connector.parsePage> | null = null;
  for (let moves = 0; page === null; moves++) {
    const call = await callProvider(
      { sql: deps.sql, fetch: deps.fetch, now: deps.now, ...(deps.auth ? { auth: deps.auth } : {}) },
      {
        connection,
        priority: state.mode === "delta" ? "delta" : "backfill",
        breaker: deps.settings.breaker,
        timeoutMs: deps.settings.requestTimeoutMs,
      },
      url,
      // A child's parent the provider merged away answers with a redirect to the survivor's children. The
      // runtime must not follow it: the credentials stay on the API's origin, and the children are stamped
      // from the URL they were listed at, the survivor's, never as the old parent's.
      at.parent !== null ? { redirect: "manual" } : {},
    );
    countCall(tally, call);
    if (call.kind === "parked") return call;
    if (call.kind === "failure") return { kind: "failed", error: `${entity.listPath}: ${call.error}` };
    if (call.kind === "rejected")
      return { kind: "failed", error: `${entity.listPath} answered HTTP ${call.status}` };
    const { status } = call.response;
    if (status >= 300 && status < 400) {
      const location = call.response.headers.get("Location");
      await call.response.body?.cancel().catch(() => {});
      if (status !== 301 && status !== 308)
        return { kind: "failed", error: `${entity.listPath} answered HTTP ${status}` };
      const target = movedList(entity, url, location, connection.baseUrl);
      if (target && moves < MAX_RECORD_MOVES) {
        log.info("parent moved; its children are listed at the survivor's", {
          connectionId: connection.id,
          entity: entity.name,
          parent: at.parent,
        });
        url = target;
        continue;
      }
      // Elsewhere, not a list of this entity, or a chain of moves: nothing here is ours to stage. The merge
      // itself retires the old parent, and the survivor's children come with the survivor.
      log.warn("parent moved to where its children can't be listed; skipped", {
        connectionId: connection.id,
        entity: entity.name,
        parent: at.parent,
        moves,
      });
      page = { records: [], nextUrl: null, total: null };
    } else {
      const body = await readJson(call.response, connection.connector.repairBody);
      if (!body.ok) return { kind: "failed", error: `${entity.listPath}: ${body.error}` };
      try {
        page = connection.connector.parsePage(body.body, entity, url, connection.settings);
      } catch (error) {
        return {
          kind: "failed",
          error: `unreadable page: ${safeErrorMessage(error)}`,
        };
      }
    }
  }
  if (entity.parent?.stamp && at.parent !== null)
    stampParents(entity, page.records, at, listPathValues(entity, url, connection.baseUrl));
  let next: Position | null = page.nextUrl
    ? { url: page.nextUrl, parent: at.parent, ancestors: at.ancestors ?? null }
    : null;
  // A parent's last page: the run goes on with the next parent's first page, if there is one.
  if (!next && parents && at.parent !== null) {
    const ref = await parents.after(at.parent);
    if (ref !== null)
      next = {
        url: childrenUrl(deps, entity, state, ref.id, ref.ancestors),
        parent: ref.id,
        ancestors: ref.ancestors,
      };
  }
  return { kind: "page", ...page, next };
}

/**
 * Writes the parents' ids into children whose payload doesn't carry them (ParentSpec.stamp), before anything
 * reads the record: its id, cursor and core rows can then name where it lives.
 */
function stampParents(
  entity: EntityDef,
  records: unknown[],
  at: Position,
  listed: Record<string, string> | null,
): void {
  const values = { ...parentValues(entity, at.parent ?? "", at.ancestors), ...(listed ?? {}) };
  for (const record of records) {
    if (!record || typeof record !== "object") continue;
    for (const [field, name] of Object.entries(entity.parent?.stamp ?? {})) {
      const v = values[name];
      if (v !== undefined) (record as Record<string, unknown>)[field] = v;
    }
  }
}

/** Where a moved child list went, when it is this entity's list on the connection's own origin. */
function movedList(entity: EntityDef, from: string, location: string | null, baseUrl: string): string | null {
  if (!location) return null;
  let target: string;
  try {
    target = new URL(location, from).toString();
  } catch {
    return null;
  }
  return listPathValues(entity, target, baseUrl) ? target : null;
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
    log.warn("sync state mirror failed", { error: safeErrorMessage(error) });
    return false;
  }
}

/** The cursor, page number and counters move in one synchronous write, after staging and enqueueing. */
function commitPage(deps: StepDeps, state: SyncState, page: FetchedPage, tally: Tally): SyncState {
  const entity = deps.connection.connector.entities[state.entity];
  const descending = entity?.incremental.order === "descending";
  const done = page.next === null;
  // Ascending: every page moves the cursor. Descending: the highest seen waits in runCursor for the run's end.
  let seen: Cursor | null = descending ? (state.runCursor ?? null) : state.cursor;
  for (const record of page.records) {
    const c = entity?.cursorOf(record) ?? null;
    if (c) seen = maxCursor(seen, c);
  }
  const cursor = descending ? (done ? maxCursor(state.cursor, seen) : state.cursor) : seen;
  const runCursor = descending && !done ? seen : null;
  const now = deps.now();
  let fanOut = state.fanOut ?? null;
  // The page finished its parent: the position moves to the next parent (none when the run is done).
  if (fanOut && page.next?.parent !== fanOut.current) {
    fanOut = {
      ...fanOut,
      done: fanOut.current,
      current: page.next?.parent ?? null,
      currentAncestors: page.next?.ancestors ?? null,
      parentsDone: fanOut.parentsDone + 1,
    };
  }
  const next: SyncState = {
    ...state,
    pageNo: state.pageNo + 1,
    nextUrl: page.next?.url ?? null,
    cursor,
    runCursor,
    recordsSynced: state.recordsSynced + page.records.length,
    runRecords: state.runRecords + page.records.length,
    // A page's total counts one parent's children, not the run's.
    runTotal: fanOut ? null : (state.runTotal ?? page.total),
    fanOut,
    parentWatermark: done && fanOut ? fanOut.startedAt : state.parentWatermark,
    status: done ? "COMPLETED" : "IN_PROGRESS",
    lastSyncAt: now,
    lastFinishedAt: done ? now : state.lastFinishedAt,
    errorMessage: null,
    runRequests: (state.runRequests ?? 0) + tally.requests,
    runRateLimited: (state.runRateLimited ?? 0) + tally.rateLimited,
    runProviderErrors: (state.runProviderErrors ?? 0) + tally.errors,
  };
  tally.requests = 0;
  tally.rateLimited = 0;
  tally.errors = 0;
  putSyncState(deps.sql, next);
  return next;
}

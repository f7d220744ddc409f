/**
 * What Dotloop needs from the engine that the connector declaration (src/connectors/types.ts) cannot say yet,
 * written as data in the shape the connector would declare it. Nothing here is read by the engine today; the
 * integrator wires each item when the engine grows the matching feature.
 */

/**
 * Entities listed under a parent's path. `listPath` of the entity holds `{param}` placeholders; each is filled
 * with the id of a live record of `parent` (and, transitively, of the parent's own parents). The engine
 * should pass the filled values to toCore as `source.path` (records.ts `DotloopSource`): Dotloop's nested
 * records do not carry them.
 */
export type NestedDecl = {
  parent: string | null;
  /** Placeholder of listPath filled by the parent's id. */
  param: string | null;
  /** Only parents whose raw record satisfies this are listed (loops exist for INDIVIDUAL profiles only). */
  parentWhere?: { field: string; equals: string };
  /** Dotloop pages this list by batch_number/batch_size; false: one answer holds everything. */
  paged: boolean;
  /** Record by id, for webhook fetches: Dotloop has no by-id list filter. */
  recordPath: string | null;
  /** The answer is one object (`{data: {...}}`), not a list. */
  single?: boolean;
};

export const DOTLOOP_NESTING: Record<string, NestedDecl> = {
  account: { parent: null, param: null, paged: false, recordPath: "/account", single: true },
  profiles: { parent: null, param: null, paged: false, recordPath: "/profile/{id}" },
  loops: {
    parent: "profiles",
    param: "profileId",
    parentWhere: { field: "type", equals: "INDIVIDUAL" },
    paged: true,
    // The single-loop answer is not known to honour include_details; the detail is fetched beside it.
    recordPath: "/profile/{profileId}/loop/{id}",
  },
  participants: {
    parent: "loops",
    param: "loopId",
    paged: false,
    recordPath: "/profile/{profileId}/loop/{loopId}/participant/{id}",
  },
  contacts: { parent: null, param: null, paged: true, recordPath: "/contact/{id}" },
  folders: { parent: "loops", param: "loopId", paged: false, recordPath: null },
  documents: { parent: "folders", param: "folderId", paged: false, recordPath: null },
  /** Tasks hang under task lists, which are listed only to reach them (loop-files.ts dotloopTaskListSchema). */
  taskLists: { parent: "loops", param: "loopId", paged: false, recordPath: null },
  tasks: { parent: "taskLists", param: "taskListId", paged: false, recordPath: null },
};

/**
 * The "detail" child of one loop: `GET /profile/{profileId}/loop/{loopId}/detail` answers one label-keyed map
 * without an id; its row is keyed by the loop (loops.ts `loopDetailRow`). Loops are listed with
 * include_details=true, so this call is needed only after a per-loop fetch (webhook, 301 survivor).
 */
export const DOTLOOP_LOOP_DETAIL = {
  entity: "loopDetails",
  of: "loops",
  path: "/profile/{profileId}/loop/{loopId}/detail",
  idFrom: "loopId",
} as const;

/**
 * Incremental reads in Dotloop's own filter format: one `filter` parameter, comma-joined `key=value` pairs
 * (`|` for OR). The lower bound is inclusive and ISO-8601 UTC; the engine's overlap window and last-writer-wins
 * make the repeated boundary record harmless. Loops sort ascending here (Dotloop accepts `updated:asc`), so
 * the cursor may advance per page; `newestFirst` says what to do if a deployment finds asc refused.
 */
export const DOTLOOP_FILTERS = {
  loops: {
    param: "filter",
    format: "updated_min={since}",
    sort: { param: "sort", ascending: "updated:asc", descending: "updated:desc" },
    /** Dotloop's default order (no sort) is newest first: a cursor is then committed only at the run's end. */
    newestFirst: false,
  },
} as const;

/**
 * HTTP 301 on a merged loop: any path under the old loop id redirects to the survivor's. The engine should
 * follow it once (same origin only, credentials kept), fetch the survivor, and retire the old id as
 * LOOP_MERGED does (loops' deleteTargets: the loop, its detail row, its transaction).
 */
export const DOTLOOP_MERGE_REDIRECT = { status: 301, entity: "loops", retire: "deleteTargets" } as const;

/**
 * `X-RateLimit-Reset` is milliseconds until the window closes (a public client's test uses 32000); the
 * engine reads that header as seconds (epoch or relative), which turns 32 s into "a full window". The
 * connector would declare the unit once RateLimitSpec has a place for it.
 */
export const DOTLOOP_RATE_RESET_UNIT = "ms-until-reset" as const;

/**
 * Signed text of X-DOTLOOP-SIGNATURE (hex HMAC-SHA1 keyed by the subscription's signing key): the raw body by
 * default (two of three sources), `{timestamp}.{rawBody}` as a per-connection setting (the third).
 */
export const DOTLOOP_SIGNED_TEXT = {
  default: "body",
  alternative: "timestamp.body",
  setting: "signedText",
} as const;

import type { SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { z } from "zod";
import type { Cursor } from "../core/cursor";
import type { Db } from "../db/client";

/** Where a core row comes from; every core row carries it. */
export type SourceContext = { accountId: string; connectionId: string };

/** One row for one core table, keyed by the table's (account, connection, source id) natural key. */
export type CoreWrite = { table: PgTable; row: Record<string, unknown> };

/** A core row a delete reaches: the table and the source id as that table keys it. */
export type DeleteTarget = { table: PgTable; sourceId: string };

export type SyncMode = "onboarding" | "delta";

/** Decrypted credentials of a connection; shape is provider-specific and never logged. */
export type Credentials = Record<string, string>;

// ---------------------------------------------------------------------------------------------------------
// Declarations: what a provider is, as data. `defineConnector` turns them into the Connector the engine uses.

/**
 * How a request is authenticated. Every `*Field` names a key of the connection's credentials, so the
 * declaration holds no secret.
 */
export type AuthSpec = AuthKind & {
  /** Headers sent as they are on every call (a provider that wants `Content-Type` even on a GET). */
  fixedHeaders?: Record<string, string>;
};

type AuthKind =
  /** API key as the HTTP Basic username with an empty password. */
  | { kind: "apiKeyBasic"; keyField: string; extraHeaders?: Record<string, string> }
  /**
   * OAuth access token or a static bearer token. With `oauth`, the token is the
   * connection's OAuth grant, refreshed by the engine ahead of expiry and once on a 401.
   */
  | {
      kind: "bearer";
      tokenField: string;
      extraHeaders?: Record<string, string>;
      oauth?: OAuthSpec;
      /**
       * A provider that also takes a personal key: a connection whose credentials hold `keyField` sends it
       * as `<header>: [prefix ]<key>` instead, with nothing to renew.
       */
      keyAlternative?: { header: string; keyField: string; prefix?: string };
    }
  /** Key in a header with an optional scheme prefix (`Authorization: token <key>`). */
  | {
      kind: "header";
      header: string;
      keyField: string;
      prefix?: string;
      extraHeaders?: Record<string, string>;
    }
  /** Key as a query parameter (`api_token`). */
  | { kind: "query"; param: string; keyField: string; extraHeaders?: Record<string, string> }
  /**
   * Session from a login call: the engine obtains the session with `login` and stores it in
   * credentials[sessionField]; requests carry it in `header`.
   */
  | {
      kind: "session";
      header: string;
      sessionField: string;
      login: {
        path: string;
        method: "POST" | "GET";
        /** JSON body of the login call: body field → credential field (POST only). */
        fields?: Record<string, string>;
        /** Dotted path of the session in the login answer (default: the header's value is the answer's `sessionField`). */
        sessionPath?: string;
        /** Dotted path of the session's lifetime in seconds in the login answer. */
        expiresInPath?: string;
        /** Lifetime assumed when the answer names none (default 30 minutes). */
        ttlMs?: number;
        /**
         * Builds the login's headers and JSON body when fixed fields can't say it (a signature over the
         * credentials and the request time); `fields` is then unused. What it computes is a secret: never logged.
         */
        request?: (args: LoginArgs) => Promise<{ headers?: Record<string, string>; body?: unknown }>;
        /** The session's expiry (epoch ms) when the answer gives a time instead of a lifetime; null: unknown. */
        expiresAt?: (answer: unknown, args: LoginArgs) => number | null;
      };
      extraHeaders?: Record<string, string>;
    };

/** What a login builder is given: the connection's credentials and settings, and the time of the call. */
export type LoginArgs = { credentials: Credentials; settings: Record<string, unknown>; now: number };

/**
 * A provider's OAuth 2 authorization-code grant, as data. URLs are the production ones; an environment points
 * them elsewhere (a simulator) with OAUTH_<PROVIDER>_AUTH_BASE_URL, which replaces their origin.
 */
export type OAuthSpec = {
  authorizeUrl: string;
  tokenUrl: string;
  /** Where a grant is revoked when its connection is deleted; absent when the provider has no such endpoint. */
  revokeUrl?: string;
  /** How the client authenticates at the token and revoke endpoints (HTTP Basic client_id:client_secret). */
  clientAuth: "basic";
  scopes: string[];
  /** Joins scopes in the authorize URL (default " "). */
  scopeSeparator?: string;
  /** Extra fixed parameters of the authorize URL (e.g. `redirect_on_deny=true`). */
  authorizeParams?: Record<string, string>;
  /** Name of the token parameter of the revoke call (default "token"). */
  revokeParam?: string;
  /** Where the token and revoke calls carry their parameters (default "form": the RFC 6749 form body). */
  paramsIn?: "form" | "query";
};

/**
 * What an asynchronous auth step asks the engine for: secrets the engine keeps fresh. `refused` is the value
 * the provider just answered 401 to, so concurrent callers refused the same value share one renewal.
 */
export type AuthSource = {
  accessToken(refused?: string): Promise<string>;
  session(refused?: string): Promise<string>;
};

/** Headers of one request, and the renewable secret they carry (null for static credentials). */
export type Authenticated = { headers: Record<string, string>; secret: string | null };

/** Paging style as data; paging.ts implements each once. */
export type PagingSpec =
  /** Opaque keyset token in the response (`_metadata.next`), sent back as `nextParam`; deep paging safe. */
  | {
      style: "keyset-next";
      pageSize: number;
      limitParam: string;
      nextParam: string;
      /**
       * Dotted path of the token, of a ready-made next URL (preferred when present) and of the total. A list
       * of paths names alternatives (a provider whose envelope goes by two names): the first present wins.
       */
      nextPath: string | string[];
      nextLinkPath?: string;
      totalPath?: string | string[];
      /** Parameters that must not travel with the token (the provider rejects offset + next). */
      dropOnNext?: string[];
      /**
       * A page shorter than the size asked for (an empty one included) is the last, whatever token it
       * carries: for a provider that hands out a token on every page.
       */
      lastOnShort?: boolean;
    }
  /**
   * limit + offset. The last page is the one shorter than pageSize or past total. `overlap`: each next page
   * starts that many records before the end of the previous one, so up to that many records removed ahead of
   * the position while a list is read (which shifts the rest towards the start) are not skipped.
   */
  | {
      style: "offset";
      pageSize: number;
      limitParam: string;
      offsetParam: string;
      totalPath?: string;
      overlap?: number;
    }
  /** Page number + page size, numbered from 1 or from 0 (`batch_number`, `pageNumber`). */
  | {
      style: "page-number";
      pageSize: number;
      pageParam: string;
      sizeParam: string;
      firstPage: 0 | 1;
      totalPath?: string;
      /**
       * Dotted path of a boolean saying whether more pages follow (`hasNext`): when a page carries it, it decides
       * (a page shorter than asked, its size clamped silently, is not the last while it says true).
       */
      morePath?: string;
    }
  /** A `links: [{rel, href}]` array carries the next page. */
  | { style: "link-next"; linksPath: string; rel: string; relField?: string; hrefField?: string };

/** Incremental (delta) reads: the filter parameter and the ordering that makes a compound cursor valid. */
export type IncrementalSpec = {
  /** Query parameter receiving the lower bound (`updatedAfter`); null when the provider has none. */
  param: string | null;
  /** Record field whose value is the cursor's time (`updated`). */
  cursorField: string;
  /** Extra parameters that order the list by cursorField (`sort=updated`). */
  sortParams?: Record<string, string>;
  /**
   * The bound in the provider's own format, instead of `param=<since>`: `param` receives `template` with
   * `{since}` replaced (`filter` = `updated_min={since}`). A value the parameter already has (listParams) is
   * kept and joined with `joiner` (default ","), so several filters travel in one parameter.
   */
  filter?: IncrementalFilter;
  /**
   * The order the list comes in. "ascending" (default): the cursor advances page by page. "descending"
   * (newest first, the provider offers nothing else): a page says nothing about what is still unseen, so the
   * cursor moves only when a run completes (to the highest seen) and a run that fails keeps the old one.
   */
  order?: "ascending" | "descending";
  /**
   * The bound (an ISO instant) as the provider wants it written, given the connection's settings: a provider
   * whose times carry no offset reads them in a zone the connection names. Absent: the ISO instant as is.
   */
  formatSince?: (since: string, settings: Record<string, unknown>) => string;
};

/** An incremental bound embedded in one parameter's value (see IncrementalSpec.filter). */
export type IncrementalFilter = { param: string; template: string; joiner?: string };

/**
 * How an entity is listed per parent record. The parent's id goes into a query parameter (`param`), a
 * placeholder of the list path (`pathParam`: `/loop/{loop_id}/participant`), or both. Deeper levels need
 * their ancestors' ids too: `ancestors` maps each further placeholder to the column of the parent's core table
 * holding it, so any depth is reached from the parent's row alone.
 */
export type ParentSpec = {
  entity: string;
  /** Query parameter receiving the parent's id (`personId`). */
  param?: string;
  /** Placeholder of listPath receiving the parent's id (`loop_id` for `{loop_id}`). */
  pathParam?: string;
  /** Placeholder → column of the parent's core table (`{ profile_id: "profile_id" }`). */
  ancestors?: Record<string, string>;
  /**
   * Fields set on every child record from the parent's values (record field → placeholder or param name), for
   * children whose payload doesn't name their parents (a detail record, a participant).
   */
  stamp?: Record<string, string>;
  /**
   * Only parents whose core row has these values are listed (column of the parent's core table → value as
   * text): the provider answers children for some kinds of parent only.
   */
  where?: Record<string, string>;
  /**
   * Which parents a delta lists the children of when the child is versioned by content. "all" (the default):
   * every parent's, since nothing says whose children changed. "changed": only parents written since the last
   * run, for a provider whose parent changes whenever its children do (a loop's `updated` moves with its
   * participants and task counts); the run is then not a complete scan, and its absences delete nothing.
   */
  deltaParents?: "all" | "changed";
};

export type RateLimitSpec = {
  limit: number;
  windowMs: number;
  headers: RateLimitPolicy["headers"];
  retryAfterHeader?: string;
  /** A higher limit granted when a credential is present (e.g. twice the limit with a registered system key). */
  elevated?: { whenCredential: string; limit: number };
  /** Header naming the context a response was counted in (`X-RateLimit-Context`). */
  contextHeader?: string;
  /** The provider's name for the context every request outside `contexts` is counted in (`global`). */
  defaultContext?: string;
  /**
   * Endpoint families the provider counts apart from the default context (e.g. an events endpoint with its own
   * 20 per 10 s). A request matching one is counted there instead of in the default context.
   */
  contexts?: RateContextSpec[];
  /** What the provider counts requests by (default "connection": each connection keeps its own budget). */
  scope?: RateScope;
  /**
   * Reserves kept for webhook and delta calls (default 5% each, and one slot each while idle); a provider with
   * a tiny budget may lend idle reserves whole (`keepIdleSlot: false`).
   */
  reserve?: { webhook: number; delta: number; keepIdleSlot?: boolean };
};

/**
 * Who a provider's limit belongs to. "connection": each connection keeps its own budget (a provider with no
 * credential shared between connections). `{ credential }`: the provider counts per the credential held in that
 * field (e.g. per API key), so every connection holding the same value shares one budget, across accounts too. A
 * credential that rotates (an OAuth access token) is a new budget after each rotation; name the stable identity
 * the provider counts, not a token.
 */
export type RateScope = "connection" | { credential: string };

/** One rate context besides the default: the requests it covers and its limit. */
export type RateContextSpec = {
  /** The provider's name for it, as its context header reports it (`events`). */
  name: string;
  /** Requests whose URL path starts with this prefix (and, when given, use this method) count here. */
  pathPrefix: string;
  method?: string;
  limit: number;
  /** The higher limit when `RateLimitSpec.elevated.whenCredential` is present. */
  elevatedLimit?: number;
};

/** One service of a provider on several hosts: requests under `prefix` of the logical base go to `origin`. */
export type ServiceHost = { prefix: string; origin: string };

export type HeaderReader = { get(name: string): string | null };

export type VerifyInput = {
  /**
   * The URL the delivery was posted to, for a provider that signs nothing and is told apart by a secret the
   * subscription put in its callback URL.
   */
  url?: string;
  rawBody: Uint8Array;
  headers: HeaderReader;
  credentials: Credentials;
  nowSec: number;
};

export type VerifyResult =
  | { ok: true }
  | { ok: false; code: "missing_signature" | "bad_signature" | "stale_timestamp" };

/**
 * How a provider signs its webhooks and names its events, supplied by its connector (the engine keeps only
 * the generic Standard Webhooks scheme). Verification works on the exact raw bytes, before any parsing.
 */
export interface WebhookScheme {
  /** A label for logs and status; not interpreted. */
  name: string;
  verify(input: VerifyInput): Promise<VerifyResult>;
  /** The sender's id for the event, if it gives one; the caller falls back to a hash of the raw body. */
  eventIdOf(body: unknown, headers: HeaderReader): string | null;
  eventTypeOf(body: unknown): string | null;
}

/** What a verified webhook asks the platform to do: fetch (or tombstone) these records of this entity. */
export type WebhookResolution = {
  eventId: string;
  event: string;
  entity: string;
  ids: string[];
  /** Where the provider says the records are; informational, fetches use `recordsUrl` on the connection. */
  uri: string | null;
  /** The records no longer exist: stage tombstones instead of fetching. */
  deleted: boolean;
  /** Provider's event time, ISO; the tombstone's deleted_at. */
  occurredAt: string | null;
  /**
   * Where each record is fetched when the provider has no by-id list: one request per record, answered with
   * the record alone. When present it is used instead of `byIds`; `ids` still names the records.
   */
  records?: RecordFetch[];
  /**
   * The event is a hint to be checked, not a statement: a record named in `records` that answers 404 is
   * staged as a delete (the provider no longer serves it), one that answers is staged as it is. So an
   * unsigned payload can cause a fetch but never, by itself, a write.
   */
  goneIsDelete?: boolean;
};

/** One record's own URL: `path` is relative to the connection's base URL, so it can't leave its origin. */
export type RecordFetch = {
  id: string;
  path: string;
  /** Fields set on the fetched record, as ParentSpec.stamp sets them on listed children. */
  stamp?: Record<string, string>;
  /**
   * Parts a list carries inline but the record's own URL does not: each is fetched right after the record at
   * the record's final path plus `suffix` (after a 301, the survivor's), and set whole under `field`. A part
   * that is gone (404) is left out; any other failure fails the fetch, so the event is retried.
   */
  attach?: { field: string; suffix: string }[];
};

export type WebhookSpec = {
  /** The provider's signature scheme, with the credential holding its secret already bound. */
  verification: WebhookScheme;
  /** Events this provider can be subscribed to, for registration tooling. */
  events: readonly string[];
  /**
   * Maps a parsed payload to the records it names; null when it names nothing we sync (e.g. notes).
   * Throws on a payload that doesn't have the provider's shape.
   */
  resolve(payload: unknown): WebhookResolution | null;
  /**
   * Creates the provider's webhook subscriptions for a connection just authorised (OAuth callback); returns
   * credential fields to keep with the grant (the signing key it chose, the provider's user id, subscription
   * ids). Absent: webhooks are registered some other way.
   */
  subscribe?(ctx: SubscriptionContext): Promise<Credentials>;
  /**
   * Also subscribe when a connection with static credentials (a personal key) is created through the admin
   * API, not only after an OAuth grant: the connector's auth headers authenticate the hook's calls.
   */
  subscribeOnCreate?: boolean;
  /** Removes them when the connection is deleted: best effort, bounded, never thrown. */
  unsubscribe?(ctx: SubscriptionContext): Promise<void>;
};

/**
 * What a subscription hook may do: authenticated, bounded calls on the connection's API (paths relative to
 * its base URL), with its credentials and the URL its webhooks are to be sent to.
 */
export type SubscriptionContext = {
  credentials: Credentials;
  webhookUrl: string;
  call(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: unknown }>;
  /** A fresh random secret (hex), e.g. a signing key. */
  randomSecret(): string;
};

/** Fetch of explicit records by id through the list endpoint (`?id=1,2,3`), so the answer is a normal page. */
export type ByIdsSpec = { param: string; separator: string; max: number };

/**
 * One syncable resource of a provider, declared as data: where it is listed, how a record is validated,
 * how its version is read, and which core rows it becomes.
 */
export interface EntityDef<T = unknown> {
  name: string;
  /**
   * How versions of a record are ordered. `updated` (default): the provider's update time, equal times won
   * by the later fetch. `contentHash`: the provider publishes no update time, so a record is versioned by a
   * hash of its normalized content (unchanged content writes nothing) and every run is a complete scan.
   */
  versioning?: "updated" | "contentHash";
  /**
   * The list endpoint answers only with a parent filter (text messages by `personId`): the engine lists
   * the children of every parent record of `entity`, passing its id as `param`.
   */
  parent?: ParentSpec;
  /**
   * The endpoint answers one record, not a list (a detail under its parent): the page is that record (at
   * collectionKey, or the whole body when ""), with no paging parameters and no next page.
   */
  single?: boolean;
  /**
   * Records the provider deletes together with this one and announces no delete for (e.g. a person's calls,
   * texts and events): the child entity and the column of its core table that holds this record's id.
   */
  cascades?: { entity: string; column: string }[];
  /**
   * Every run lists the entity whole (the provider has no updated-since filter): each run's completion diffs
   * core against what it saw, as an onboarding does.
   */
  completeScans?: boolean;
  /**
   * A record a complete scan did not see is deleted only once its own URL (`path`, `{id}` filled) answers
   * 404: for a list whose positions shift under a paging scan, where a record can slip past unseen.
   */
  confirmAbsence?: { path: string };
  /** Path of the list endpoint, relative to the connection's base URL; `{name}` placeholders per ParentSpec. */
  listPath: string;
  /** Dotted path of the records array in a list response; "" when the response is a bare array. */
  collectionKey: string;
  /**
   * Other names a provider's services (or versions) give the records array, tried in order when `collectionKey`
   * is absent from a list response. A page under none of them still fails.
   */
  collectionKeyAlternatives?: string[];
  /**
   * Where a record's own URL wraps the record (`{"lead": {...}}`); an answer without that key is taken as the
   * record itself.
   */
  recordKey?: string;
  /** Record field holding the provider's id. */
  idField: string;
  incremental: IncrementalSpec;
  /** Fixed parameters on every list call of this entity (e.g. `includeTrash=true`). */
  listParams?: Record<string, string>;
  schema: z.ZodType<T>;
  /** The entity's own core table, whose live rows a full scan is diffed against. */
  coreTable: PgTable;
  /** Every core row a delete of this record soft-deletes: the own table first, then unified tables it feeds. */
  deleteTargets(sourceId: string): DeleteTarget[];
  /**
   * Lenient reads used before validation (staging, cursors): a malformed record must still be staged so the
   * transform stage can route it to failed_records with its reason.
   */
  sourceIdOf(raw: unknown): string | null;
  cursorOf(raw: unknown): Cursor | null;
  /**
   * A listed record readied with the connection's settings before anything reads it (staging, cursors, the
   * transform), e.g. instants added beside provider times that carry no offset. Absent: records as listed.
   */
  prepare?(raw: unknown, settings: Record<string, unknown>): unknown;
  toCore(record: T, source: SourceContext): CoreWrite[];
}

export type RateLimitPolicy = {
  /** The default context's limit; `contexts` carry their own. */
  limit: number;
  windowMs: number;
  headers: {
    limit: string;
    remaining: string;
    window?: string;
    reset?: string;
    /** Unit of the reset header (see RateHeaderNames.resetUnit); seconds when absent. */
    resetUnit?: "seconds" | "ms-until-reset" | "auto";
  };
  /** Name of the context requests matching no entry of `contexts` are counted in ("default" when absent). */
  defaultContext?: string;
  /** Endpoint families counted apart, each with its limit resolved for the connection's credentials. */
  contexts?: { name: string; pathPrefix: string; method?: string; limit: number }[];
  /** Header naming the context a response was counted in. */
  contextHeader?: string;
  /** Who the limit belongs to; absent means "connection". */
  scope?: RateScope;
  /** The priorities' reserves, when not the engine's default (RateReserve in src/core/rate-budget.ts). */
  reserve?: { webhook: number; delta: number; keepIdleSlot?: boolean };
};

export type Page = { records: unknown[]; nextUrl: string | null; total: number | null };

/**
 * How the provider's own count of an entity is read with one cheap request, for the daily reconciliation.
 * A provider without it (or an entity whose `url` is null) is "uncountable": it is repaired by a complete
 * scan instead of a comparison.
 */
export type TotalsSpec = {
  /**
   * URL of the count request for the entity, relative to nothing (absolute); null: no cheap count.
   * `credentials`: the connection's, for a count asked per user whose id the connect step stored there.
   */
  url(args: { baseUrl: string; entity: EntityDef; credentials?: Credentials }): string | null;
  /** The provider's count from the parsed response body; null when the body does not say. */
  of(body: unknown, entity: EntityDef, requestUrl: string): number | null;
};

/**
 * Rows that hang off a connection's grant, in the order they depend on it (the grant's own record first).
 * When the grant is refused the engine sets `stateColumn` to `auth_failed` on the connection's rows of each,
 * and clears it (null) when the connection is re-authorised; the status shows the chain with its counts.
 */
export type AuthDependentSpec = { name: string; table: PgTable; stateColumn: string };

/** Runs a query in the account's tenant scope, answering its rows. */
export type TenantQuery = (query: SQL) => Promise<Record<string, unknown>[]>;

/** A read-only consistency check of a connection's data, run by an admin endpoint. */
export type ConsistencyCheck = {
  description: string;
  run(query: TenantQuery, scope: SourceContext): Promise<{ ok: boolean; [k: string]: unknown }>;
};

/**
 * An operator's action on a connection's data (`POST /admin/.../actions/:name`): its JSON body is checked
 * against `input` (a 400 otherwise) and handed to `run` with the caller's label for audit rows.
 */
export type ConnectorAction = {
  description: string;
  input: z.ZodType;
  run(
    query: TenantQuery,
    scope: SourceContext,
    input: unknown,
    actor: string,
  ): Promise<Record<string, unknown>>;
};

/** A provider as a whole, declared. */
export type ConnectorSpec = {
  provider: string;
  /** The provider's name as people write it, for docs and the engine's provider-name check. */
  displayName?: string;
  defaultBaseUrl: string;
  /**
   * For a provider whose services each have their own host: `defaultBaseUrl` is then a logical base under which
   * each service has a path prefix, and a request on it is sent to the host of its prefix (src/connectors/hosts.ts).
   */
  hosts?: ServiceHost[];
  auth: AuthSpec;
  paging: PagingSpec;
  rateLimit: RateLimitSpec;
  webhooks: WebhookSpec | null;
  byIds: ByIdsSpec | null;
  entities: Record<string, EntityDef>;
  totals?: TotalsSpec;
  /**
   * Repairs a response's text before it is parsed as JSON, for a provider whose bodies break strict parsers
   * (raw control characters in strings): a record is then kept instead of failing its whole page.
   */
  repairBody?: (text: string) => string;
  /**
   * Periodic work besides syncing (a workflow the provider's data drives), by name: each runs per active
   * connection every `intervalMinutes`, claimed by the scheduler's minute tick (src/sync/jobs.ts).
   */
  jobs?: Record<string, ConnectorJob>;
  /** What depends on the connection's grant (AuthDependentSpec), in chain order. */
  authDependents?: AuthDependentSpec[];
  /** Consistency checks an operator can run on a connection (`/admin/.../checks/:name`). */
  checks?: Record<string, ConsistencyCheck>;
  /** Operator actions on a connection's data (ConnectorAction). */
  actions?: Record<string, ConnectorAction>;
};

/** A periodic job a connector declares (ConnectorSpec.jobs). */
export type ConnectorJob = {
  intervalMinutes: number;
  /** One run for one connection. Throwing fails the run (counted, alerted on); items it parks are its own. */
  run(ctx: JobContext): Promise<JobResult>;
};

/**
 * What a job run reports: items it handled, those that failed or were parked, and how many items the job
 * holds parked in all (shown in the connection's status).
 */
export type JobResult = { items: number; itemErrors: number; parked?: number };

/** What a job run may use: its identity, the account's data, and authenticated calls on the connection's API. */
export type JobContext = {
  accountId: string;
  connectionId: string;
  runId: string;
  now(): number;
  /** Runs fn in one transaction limited to the connection's account. */
  tenant<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /**
   * One authenticated call on the connection's API (path relative to its base URL), bounded in time. Network
   * failures answer status 0. Extra headers (an idempotency key) travel as given.
   */
  call(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
};

/** The engine-facing connector: the spec plus the behaviour derived from it. Names no provider. */
export interface Connector {
  provider: string;
  defaultBaseUrl: string;
  spec: ConnectorSpec;
  entities: Record<string, EntityDef>;
  rateLimit(credentials: Credentials): RateLimitPolicy;
  /** Headers that authenticate a request (static credentials only; `authenticate` covers every kind). */
  authHeaders(credentials: Credentials): Record<string, string>;
  /**
   * The auth step of every provider call: headers for a request, asking `source` for tokens or sessions the
   * engine keeps fresh. `refused` is the secret a 401 just refused: the step then returns a renewed one.
   */
  authenticate(credentials: Credentials, source: AuthSource, refused?: string): Promise<Authenticated>;
  /** Whether a 401 can be cured by renewing the secret (OAuth bearer, session): the call is then retried once. */
  renewsOn401: boolean;
  /**
   * The URL as sent: on the host serving its path for a provider on several hosts, with any query-parameter
   * credential added; identity otherwise.
   */
  sendUrl(url: string, credentials: Credentials): string;
  /**
   * URL of the first page of a run (of one parent's children for an entity with `parent`, which then needs
   * `parentId`); later pages come from the previous page's nextUrl.
   */
  firstPageUrl(args: {
    baseUrl: string;
    entity: EntityDef;
    mode: SyncMode;
    since: string | null;
    parentId?: string | null;
    /** Values of the path placeholders and ancestors of a nested entity (ParentSpec). */
    parentParams?: Record<string, string> | null;
    /** The connection's settings, for a bound written in the provider's format (IncrementalSpec.formatSince). */
    settings?: Record<string, unknown>;
  }): string;
  /** The page's records (each through `entity.prepare` with the connection's settings) and the next URL. */
  parsePage(body: unknown, entity: EntityDef, requestUrl: string, settings?: Record<string, unknown>): Page;
  /** The spec's body repair, when it has one (ConnectorSpec.repairBody). */
  repairBody?: (text: string) => string;
  /** URLs (one per chunk of byIds.max) listing exactly these records; null when the provider can't. */
  recordsUrls(args: { baseUrl: string; entity: EntityDef; ids: string[] }): string[] | null;
  /** URL of one cheap request answering the provider's count of the entity; null when there is none. */
  totalUrl(args: { baseUrl: string; entity: EntityDef; credentials?: Credentials }): string | null;
  /** The count in that request's parsed body. */
  totalOf(body: unknown, entity: EntityDef, requestUrl: string): number | null;
  webhooks: WebhookSpec | null;
}

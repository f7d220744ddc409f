import type { PgTable } from "drizzle-orm/pg-core";
import type { z } from "zod";
import type { Cursor } from "../core/cursor";

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
export type AuthSpec =
  /** API key as the HTTP Basic username with an empty password (Follow Up Boss). */
  | { kind: "apiKeyBasic"; keyField: string; extraHeaders?: Record<string, string> }
  /**
   * OAuth access token or a static bearer token (Dotloop, Lofty OAuth). With `oauth`, the token is the
   * connection's OAuth grant, refreshed by the engine ahead of expiry and once on a 401.
   */
  | { kind: "bearer"; tokenField: string; extraHeaders?: Record<string, string>; oauth?: OAuthSpec }
  /** Key in a header with an optional scheme prefix (`Authorization: token <key>`, Lofty). */
  | {
      kind: "header";
      header: string;
      keyField: string;
      prefix?: string;
      extraHeaders?: Record<string, string>;
    }
  /** Key as a query parameter (`api_token`, Open To Close). */
  | { kind: "query"; param: string; keyField: string; extraHeaders?: Record<string, string> }
  /**
   * Session from a login call (SkySlope): the engine obtains the session with `login` and stores it in
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
      };
      extraHeaders?: Record<string, string>;
    };

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
  /** Extra fixed parameters of the authorize URL (Dotloop `redirect_on_deny=true`). */
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
      /** Dotted path of the token, of a ready-made next URL (preferred when present) and of the total. */
      nextPath: string;
      nextLinkPath?: string;
      totalPath?: string;
      /** Parameters that must not travel with the token (the provider rejects offset + next). */
      dropOnNext?: string[];
    }
  /** limit + offset (Lofty, Open To Close). The last page is the one shorter than pageSize or past total. */
  | { style: "offset"; pageSize: number; limitParam: string; offsetParam: string; totalPath?: string }
  /** Page number + page size (Dotloop batch_number from 1, reZEN pageNumber from 0). */
  | {
      style: "page-number";
      pageSize: number;
      pageParam: string;
      sizeParam: string;
      firstPage: 0 | 1;
      totalPath?: string;
    }
  /** A `links: [{rel, href}]` array carries the next page (SkySlope). */
  | { style: "link-next"; linksPath: string; rel: string; relField?: string; hrefField?: string };

/** Incremental (delta) reads: the filter parameter and the ordering that makes a compound cursor valid. */
export type IncrementalSpec = {
  /** Query parameter receiving the lower bound (`updatedAfter`); null when the provider has none. */
  param: string | null;
  /** Record field whose value is the cursor's time (`updated`). */
  cursorField: string;
  /** Extra parameters that order the list ascending by cursorField (`sort=updated`). */
  sortParams?: Record<string, string>;
};

export type RateLimitSpec = {
  limit: number;
  windowMs: number;
  headers: RateLimitPolicy["headers"];
  retryAfterHeader?: string;
  /** A higher limit granted when a credential is present (FUB: 250 instead of 125 with a system key). */
  elevated?: { whenCredential: string; limit: number };
  /** Header naming the context a response was counted in (FUB `X-RateLimit-Context`). */
  contextHeader?: string;
  /** The provider's name for the context every request outside `contexts` is counted in (FUB `global`). */
  defaultContext?: string;
  /**
   * Endpoint families the provider counts apart from the default context (FUB: `GET /v1/events` has its own
   * 20 per 10 s). A request matching one is counted there instead of in the default context.
   */
  contexts?: RateContextSpec[];
  /** What the provider counts requests by (default "connection": each connection keeps its own budget). */
  scope?: RateScope;
};

/**
 * Who a provider's limit belongs to. "connection": each connection keeps its own budget (a provider with no
 * credential shared between connections). `{ credential }`: the provider counts per the credential held in that
 * field (FUB: per API key), so every connection holding the same value shares one budget, across accounts too. A
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

export type WebhookVerification = "fub" | "dotloop" | "standard";

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
};

export type WebhookSpec = {
  verification: WebhookVerification;
  /** Credential holding the verification secret (FUB: the system key). */
  secretField: string;
  /** Events this provider can be subscribed to, for registration tooling. */
  events: readonly string[];
  /**
   * Maps a parsed payload to the records it names; null when it names nothing we sync (e.g. FUB notes).
   * Throws on a payload that doesn't have the provider's shape.
   */
  resolve(payload: unknown): WebhookResolution | null;
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
   * The list endpoint answers only with a parent filter (FUB text messages need `personId`): the engine lists
   * the children of every parent record of `entity`, passing its id as `param`.
   */
  parent?: { entity: string; param: string };
  /**
   * Records the provider deletes together with this one and announces no delete for (FUB: a person's calls,
   * texts and events): the child entity and the column of its core table that holds this record's id.
   */
  cascades?: { entity: string; column: string }[];
  /** Path of the list endpoint, relative to the connection's base URL. */
  listPath: string;
  /** Dotted path of the records array in a list response; "" when the response is a bare array. */
  collectionKey: string;
  /** Record field holding the provider's id. */
  idField: string;
  incremental: IncrementalSpec;
  /** Fixed parameters on every list call of this entity (FUB people: includeTrash=true). */
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
  toCore(record: T, source: SourceContext): CoreWrite[];
}

export type RateLimitPolicy = {
  /** The default context's limit; `contexts` carry their own. */
  limit: number;
  windowMs: number;
  headers: { limit: string; remaining: string; window?: string; reset?: string };
  /** Name of the context requests matching no entry of `contexts` are counted in ("default" when absent). */
  defaultContext?: string;
  /** Endpoint families counted apart, each with its limit resolved for the connection's credentials. */
  contexts?: { name: string; pathPrefix: string; method?: string; limit: number }[];
  /** Header naming the context a response was counted in. */
  contextHeader?: string;
  /** Who the limit belongs to; absent means "connection". */
  scope?: RateScope;
};

export type Page = { records: unknown[]; nextUrl: string | null; total: number | null };

/** A provider as a whole, declared. */
export type ConnectorSpec = {
  provider: string;
  defaultBaseUrl: string;
  auth: AuthSpec;
  paging: PagingSpec;
  rateLimit: RateLimitSpec;
  webhooks: WebhookSpec | null;
  byIds: ByIdsSpec | null;
  entities: Record<string, EntityDef>;
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
  /** The URL with any query-parameter credential added; identity for header-based schemes. */
  authorizeUrl(url: string, credentials: Credentials): string;
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
  }): string;
  parsePage(body: unknown, entity: EntityDef, requestUrl: string): Page;
  /** URLs (one per chunk of byIds.max) listing exactly these records; null when the provider can't. */
  recordsUrls(args: { baseUrl: string; entity: EntityDef; ids: string[] }): string[] | null;
  webhooks: WebhookSpec | null;
}

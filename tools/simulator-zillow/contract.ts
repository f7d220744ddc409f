// The Zillow simulator's contract. SEEDS-DERIVED, not provider-faithful: none of Zillow's agent, team, sync or
// OAuth APIs is public (../shared/PROVIDERS-WAVE2.md §6), so every path, field, paging rule and the webhook
// signature below is this simulator's choice, made from the seeds' own models (ZillowAuth with `zuid` and
// `expires_at`, ZillowAgent, ZillowTeam, ZillowSyncUser, contact_sync_events) and behaviour (OAuth with
// refresh, soft-deleted agents, Zillow Sync webhooks signed with a key derived from the OAuth client id).
// The facts test (test/node/zillow-simulator-facts.test.ts) pins the simulator to this file and the facts file.

export const LABEL = "seeds-derived";

export const PATHS = {
  authorize: "/oauth/authorize",
  token: "/oauth/token",
  revoke: "/oauth/revoke",
  me: "/v1/me",
  agents: "/v1/agents",
  teams: "/v1/teams",
  syncUsers: "/v1/sync-users",
  contactSyncEvents: "/v1/contact-sync-events",
} as const;

/** Lists: `{data: [...], page, pageSize}`, page numbers from 1, a short page is the last. */
export const PAGING = {
  pageParam: "page",
  sizeParam: "pageSize",
  firstPage: 1,
  defaultSize: 50,
  maxSize: 100,
};

/** Deltas: `updatedSince` (inclusive, any ISO-8601 instant), `sort=updatedAt` ascending (ties by id). */
export const DELTA = { param: "updatedSince", sort: "updatedAt" };

/** Fetch by ids: `ids=a,b,c` on any list (at most 100). */
export const BY_IDS = { param: "ids", max: 100 };

/** Times are ISO-8601 with an offset, as the public ZM lender push writes them ("2015-01-22T10:30:00-08:00"). */
export const TIME_OFFSET = "-08:00";

/** Id prefixes: ZUIDs `ZU…` (as ZM's public docs show them); the rest are the simulator's. */
export const ID_PREFIX = { zuid: "ZU", team: "ZT", syncUser: "ZS", event: "ZE", contact: "ZC" } as const;

/**
 * Zillow Sync webhook signature, "keyed with the OAuth client id" in the seeds; the derivation is ours:
 *   key = hex(SHA-256("zillow-sync-webhook:" + client_id)),
 *   X-Zillow-Signature: t=<epoch s>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")>.
 */
export const WEBHOOK = {
  header: "X-Zillow-Signature",
  keyPrefix: "zillow-sync-webhook:",
  algorithm: "SHA-256",
  events: ["agent", "team", "syncUser", "contactSyncEvent"].flatMap((k) =>
    ["created", "updated", "deleted"].map((a) => `${k}.${a}`),
  ),
};

/** OAuth: HTTP Basic client auth at the token endpoint, form body, refresh tokens rotate. */
export const OAUTH = { accessTokenTtlSec: 3600, refreshRotation: true, codeTtlSec: 600 };

/** Not published anywhere: the simulator announces its own limit in X-RateLimit-* headers. */
export const RATE_LIMIT = { limit: 600, windowSec: 60 };

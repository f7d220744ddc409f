import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import { notes, propertyContacts, tasks } from "./children";
import { agents, contacts, teams, users } from "./people";
import { properties } from "./properties";

export const OPENTOCLOSE_BASE_URL = "https://api.opentoclose.com/v1";

/** The credential holding the API token; sent as `?api_token=` and only at call time. */
export const OPENTOCLOSE_TOKEN_FIELD = "apiToken";

/**
 * Page size asked of every list. Properties are capped at 50 (other lists at 100, default 20, all unverified)
 * and clients stop on a short page, so a size above a list's cap would end it after its first page: 50 is under
 * every published cap.
 */
export const OPENTOCLOSE_PAGE_SIZE = 50;

/** Records each page re-reads from the end of the previous one (paging `overlap`). */
export const OPENTOCLOSE_PAGE_OVERLAP = 5;

/**
 * Open To Close, declared. No update times and no incremental filter anywhere: every entity is versioned by
 * content and every run is a complete scan (records.ts). Properties first, so their children list over them.
 * No webhooks are published (customers use Zapier), so there is no webhook scheme.
 */
export const opentoclose = defineConnector({
  provider: "opentoclose",
  displayName: "Open To Close",
  defaultBaseUrl: OPENTOCLOSE_BASE_URL,
  // A header answers 403: the token goes in the query, added by the engine at the last moment.
  auth: { kind: "query", param: "api_token", keyField: OPENTOCLOSE_TOKEN_FIELD },
  // Offsets shift when a property is removed during a scan (nothing orders by a stable key we can filter on):
  // each page re-reads the previous page's last few, so a removal ahead of the position skips no live record.
  paging: {
    style: "offset",
    pageSize: OPENTOCLOSE_PAGE_SIZE,
    limitParam: "limit",
    offsetParam: "offset",
    overlap: OPENTOCLOSE_PAGE_OVERLAP,
  },
  // "About one request per second (429 on exceed)", no rate headers known; each token is its own budget.
  rateLimit: {
    limit: 1,
    windowMs: 1_000,
    retryAfterHeader: "Retry-After",
    headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
    scope: { credential: OPENTOCLOSE_TOKEN_FIELD },
  },
  webhooks: null,
  byIds: null,
  entities: { properties, propertyContacts, notes, tasks, contacts, agents, users, teams } as Record<
    string,
    EntityDef
  >,
});

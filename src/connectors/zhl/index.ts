import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import { loanOfficers, territoryMaps } from "./roster";
import { runTransfers } from "./transfers";

/**
 * No ZHL endpoint is public: this base URL is a placeholder under the reserved `.invalid` domain, so a
 * connection made without its own base URL fails loudly instead of calling a guessed host.
 */
export const ZHL_BASE_URL = "https://api.zhl.invalid/v1";

/** The credential holding the partner API key. */
export const ZHL_KEY_FIELD = "apiKey";

/** Minutes between two runs of the transfer workflow, per connection (the seeds' "every 30 minutes"). */
export const ZHL_TRANSFER_INTERVAL_MINUTES = 30;

/**
 * Zillow Home Loans, declared from the seeds alone (docs/providers/zhl.md): the seeds name OAuth only for the
 * agent side's grant; for the loan-officer roster they say nothing, so a partner API key sent as
 * a static bearer token is the documented choice (nothing to refresh, one budget per key). Loan officers and
 * territory maps are listed whole on every run; the transfer workflow is a periodic job of its own.
 */
export const zhl = defineConnector({
  provider: "zhl",
  displayName: "Zillow Home Loans",
  defaultBaseUrl: ZHL_BASE_URL,
  auth: { kind: "bearer", tokenField: ZHL_KEY_FIELD },
  paging: {
    style: "page-number",
    pageSize: 100,
    pageParam: "page",
    sizeParam: "pageSize",
    firstPage: 1,
    totalPath: "total",
  },
  // Nothing is known of ZHL's limits: a conservative budget, adopting whatever rate headers an answer carries.
  rateLimit: {
    limit: 60,
    windowMs: 60_000,
    retryAfterHeader: "Retry-After",
    headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining", reset: "X-RateLimit-Reset" },
    scope: { credential: ZHL_KEY_FIELD },
  },
  webhooks: null,
  byIds: null,
  entities: { loanOfficers, territoryMaps } as Record<string, EntityDef>,
  jobs: {
    transfers: { intervalMinutes: ZHL_TRANSFER_INTERVAL_MINUTES, run: runTransfers },
  },
});

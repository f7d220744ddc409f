import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import { repairSkyslopeBody } from "./body";
import { listing, transaction } from "./files";
import { accountUsers, offices } from "./people";
import { skyslopeLoginRequest } from "./signature";
import { skyslopeInstant, zoneOf } from "./time";

export const SKYSLOPE_BASE_URL = "https://api.skyslope.com";

/**
 * Requests per minute the connector spends. SkySlope publishes no limit and no rate headers; a 429 (which comes
 * without Retry-After) blocks the budget for the engine's default pause. 60 a minute leaves room for the
 * account's other SkySlope clients while a scan of 10,000 files (50 a page) still takes under 4 minutes.
 */
export const SKYSLOPE_RATE_LIMIT = 60;

/** Sessions are assumed to last this long when the login's `Expiration` can't be read. */
const SESSION_TTL_MS = 30 * 60_000;

/**
 * SkySlope's legacy (Suite) API, declared. No webhooks and no delete signal: deletes are found by absence
 * from complete scans (the onboarding and the daily reconciliation, which scans every entity since none is
 * countable cheaply), and a record seen again lives again.
 */
export const skyslope = defineConnector({
  provider: "skyslope",
  displayName: "SkySlope",
  defaultBaseUrl: SKYSLOPE_BASE_URL,
  auth: {
    kind: "session",
    header: "Session",
    sessionField: "session",
    login: {
      path: "/auth/login",
      method: "POST",
      sessionPath: "Session",
      ttlMs: SESSION_TTL_MS,
      request: skyslopeLoginRequest,
      // `Expiration` carries no offset either: read in the connection's zone like every SkySlope time.
      expiresAt: (answer, { settings }) => {
        const v =
          answer && typeof answer === "object" ? (answer as Record<string, unknown>).Expiration : null;
        const at = skyslopeInstant(v, zoneOf(settings));
        return at ? Date.parse(at) : null;
      },
    },
  },
  paging: { style: "link-next", linksPath: "links", rel: "next" },
  rateLimit: {
    limit: SKYSLOPE_RATE_LIMIT,
    windowMs: 60_000,
    // None are sent; the names are what a limit would most likely be announced in.
    headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
    // Who SkySlope counts by is not published: each connection keeps its own budget.
  },
  webhooks: null,
  byIds: null,
  repairBody: repairSkyslopeBody,
  entities: { offices, account_users: accountUsers, transaction, listing } as Record<string, EntityDef>,
});

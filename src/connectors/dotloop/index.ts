import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import { account, profiles } from "./account";
import { contacts, participants } from "./contacts";
import { documents, folders, taskLists, tasks } from "./loop-files";
import { loops } from "./loops";
import { DOTLOOP_CREDENTIALS, DOTLOOP_OAUTH } from "./oauth";
import { dotloopWebhookScheme } from "./signature";
import { subscribeDotloop, unsubscribeDotloop } from "./subscriptions";
import { DOTLOOP_WEBHOOK_EVENTS, resolveDotloopWebhook } from "./webhooks";

export const DOTLOOP_BASE_URL = "https://api-gateway.dotloop.com/public/v2";

export const DOTLOOP_RATE_LIMIT_HEADERS = {
  limit: "X-RateLimit-Limit",
  remaining: "X-RateLimit-Remaining",
  reset: "X-RateLimit-Reset",
  // Milliseconds left in the window (a public client's test uses 32000), not epoch seconds.
  resetUnit: "ms-until-reset" as const,
};

/**
 * Batch size asked of paged lists. The published cap is 50 or 100 (sources disagree) and a larger size is
 * clamped silently, so asking 100 where the cap is 50 would end the list at its first batch (clients stop on
 * a short batch): 50 is right under either cap, at the price of twice the calls where the cap is 100.
 */
export const DOTLOOP_BATCH_SIZE = 50;

/**
 * Dotloop, declared. Parents first (account, profiles, loops) so children land after the rows they point
 * to when runs go in order. Runs of one sync go side by side, so a child listed before a parent new in the
 * same delta has landed misses that parent's children until the next delta (docs/providers/dotloop.md).
 */
export const dotloop = defineConnector({
  provider: "dotloop",
  displayName: "Dotloop",
  defaultBaseUrl: DOTLOOP_BASE_URL,
  auth: {
    kind: "bearer",
    tokenField: DOTLOOP_CREDENTIALS.accessToken,
    oauth: {
      authorizeUrl: DOTLOOP_OAUTH.authorizeUrl,
      tokenUrl: DOTLOOP_OAUTH.tokenUrl,
      revokeUrl: DOTLOOP_OAUTH.revokeUrl,
      clientAuth: "basic",
      scopes: [...DOTLOOP_OAUTH.scopes],
      authorizeParams: { redirect_on_deny: "true" },
      paramsIn: "query",
    },
  },
  paging: {
    style: "page-number",
    pageSize: DOTLOOP_BATCH_SIZE,
    pageParam: "batch_number",
    sizeParam: "batch_size",
    firstPage: 1,
    // No totalPath: `meta.total` is unreliable (-1 for activities, 0 on a published list of 2 loops).
  },
  // 100 per minute per user, published; counted by the user, so every connection of one Dotloop user shares it.
  rateLimit: {
    limit: 100,
    windowMs: 60_000,
    headers: DOTLOOP_RATE_LIMIT_HEADERS,
    scope: { credential: DOTLOOP_CREDENTIALS.userId },
  },
  webhooks: {
    verification: dotloopWebhookScheme(DOTLOOP_CREDENTIALS.webhookSigningKey),
    events: DOTLOOP_WEBHOOK_EVENTS,
    resolve: resolveDotloopWebhook,
    subscribe: subscribeDotloop,
    unsubscribe: unsubscribeDotloop,
  },
  // No by-id list filter exists: webhook fetches go record by record (webhooks.ts `records`).
  byIds: null,
  entities: {
    account,
    profiles,
    loops,
    participants,
    contacts,
    folders,
    documents,
    taskLists,
    tasks,
  } as Record<string, EntityDef>,
});

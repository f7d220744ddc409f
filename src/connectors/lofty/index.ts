import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import { activities, calls, notes } from "./lead-history";
import { leads } from "./leads";
import { members } from "./members";
import { subscribeLofty, unsubscribeLofty } from "./subscriptions";
import { tasks } from "./tasks";
import { transactions } from "./transactions";
import { LOFTY_CREDENTIALS, LOFTY_WEBHOOK_EVENTS, loftyWebhookScheme, resolveLoftyWebhook } from "./webhooks";

export const LOFTY_BASE_URL = "https://api.lofty.com";

/** Lofty silently caps a page at 25, whatever `limit` asks. */
export const LOFTY_PAGE_SIZE = 25;

/** The paging object is `_metadata` live, `get_metadata` in the docs, `metadata` in v2 envelopes. */
const META = ["_metadata", "get_metadata", "metadata"];

/**
 * Lofty, declared. A personal API key is sent as `Authorization: token <key>` (as `Bearer` Lofty answers
 * 200058); an OAuth grant as `Bearer`. `Content-Type: application/json` goes on every call: some GETs answer
 * 415 and every DELETE 400 without it.
 */
export const lofty = defineConnector({
  provider: "lofty",
  displayName: "Lofty",
  defaultBaseUrl: LOFTY_BASE_URL,
  auth: {
    kind: "bearer",
    tokenField: "accessToken",
    keyAlternative: { header: "Authorization", keyField: LOFTY_CREDENTIALS.apiKey, prefix: "token" },
    oauth: {
      authorizeUrl: "https://lofty.com/page/vendor-auth.html",
      tokenUrl: "https://api.lofty.com/oauth/token",
      clientAuth: "basic",
      scopes: [],
    },
    fixedHeaders: { "Content-Type": "application/json" },
  },
  paging: {
    style: "keyset-next",
    pageSize: LOFTY_PAGE_SIZE,
    limitParam: "limit",
    nextParam: "scrollId",
    nextPath: META.map((m) => `${m}.scrollId`),
    totalPath: META.map((m) => `${m}.total`),
    lastOnShort: true,
  },
  // A bare key gets 10 a minute, registered apps 100 or 500: the budget starts at 10 (100 with an OAuth
  // grant) and adopts what `X-RateLimit-Limit` announces. The reset header's unit is uncertain ("UTC epoch
  // seconds" in text, 21000 in the example), so it is read by magnitude and clamped into the window.
  rateLimit: {
    limit: 10,
    windowMs: 60_000,
    elevated: { whenCredential: "accessToken", limit: 100 },
    headers: {
      limit: "X-RateLimit-Limit",
      remaining: "X-RateLimit-Remaining",
      reset: "X-RateLimit-Reset",
      resetUnit: "auto",
    },
    // At 10 a minute a slot held per idle reserve would cost a fifth of the budget; webhooks arrive 1-5
    // minutes late anyway, so a lone one may wait for the next free slot.
    reserve: { webhook: 0.05, delta: 0.05, keepIdleSlot: false },
  },
  webhooks: {
    verification: loftyWebhookScheme(LOFTY_CREDENTIALS.webhookSecret),
    events: LOFTY_WEBHOOK_EVENTS,
    resolve: resolveLoftyWebhook,
    subscribe: subscribeLofty,
    unsubscribe: unsubscribeLofty,
    subscribeOnCreate: true,
  },
  // No by-id list: a webhook's records are fetched one by one at their own URLs.
  byIds: null,
  entities: { members, leads, transactions, tasks, notes, calls, activities } as Record<string, EntityDef>,
});

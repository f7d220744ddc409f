import { defineConnector } from "../define";
import { firstPageUrl, parsePage } from "../paging";
import type { EntityDef, PagingSpec } from "../types";
import { appointments } from "./appointments";
import { calls } from "./calls";
import { deals } from "./deals";
import { events } from "./events";
import { groups } from "./groups";
import { people } from "./people";
import { fubWebhookScheme } from "./signature";
import { stages } from "./stages";
import { textMessages } from "./text-messages";
import { users } from "./users";
import { FUB_WEBHOOK_EVENTS, resolveFubWebhook } from "./webhooks";

export const FUB_RATE_LIMIT_HEADERS = {
  limit: "X-RateLimit-Limit",
  remaining: "X-RateLimit-Remaining",
  window: "X-RateLimit-Window",
};

const paging: PagingSpec = {
  style: "keyset-next",
  pageSize: 100,
  limitParam: "limit",
  nextParam: "next",
  nextPath: "_metadata.next",
  nextLinkPath: "_metadata.nextLink",
  totalPath: "_metadata.total",
  dropOnNext: ["offset"],
};

/**
 * Follow Up Boss, declared. Reference data first (users, groups, stages) so people and deals land after the
 * rows they point to when runs go in order; nothing depends on that order for correctness.
 */
export const fub = defineConnector({
  provider: "fub",
  displayName: "Follow Up Boss",
  defaultBaseUrl: "https://api.followupboss.com",
  auth: {
    kind: "apiKeyBasic",
    keyField: "apiKey",
    // A registered integration identifies itself; the system key also raises the limit and signs webhooks.
    extraHeaders: { "X-System": "system", "X-System-Key": "systemKey" },
  },
  paging,
  // Published: counted per API key and per context, each a sliding 10 s: `global` 250 with a registered system
  // key (125 without), and `GET /v1/events` apart at 20 (10 without). Every response names its context.
  rateLimit: {
    limit: 125,
    windowMs: 10_000,
    headers: FUB_RATE_LIMIT_HEADERS,
    retryAfterHeader: "Retry-After",
    elevated: { whenCredential: "systemKey", limit: 250 },
    contextHeader: "X-RateLimit-Context",
    defaultContext: "global",
    contexts: [{ name: "events", pathPrefix: "/v1/events", method: "GET", limit: 10, elevatedLimit: 20 }],
    scope: { credential: "apiKey" },
  },
  webhooks: {
    verification: fubWebhookScheme("systemKey"),
    events: FUB_WEBHOOK_EVENTS,
    resolve: resolveFubWebhook,
  },
  byIds: { param: "id", separator: ",", max: 100 },
  // The list with limit=1: its `_metadata.total` is the count. Never for a list that needs a parent filter
  // (texts unfiltered are refused). Runs read trashed people too (to see them move to the trash) and keep
  // those as deleted, so the total to compare with our non-deleted rows is the default one, trash excluded.
  totals: {
    url: ({ baseUrl, entity }) => {
      if (entity.parent) return null;
      const url = new URL(firstPageUrl(paging, { baseUrl, entity, mode: "onboarding", since: null }));
      url.searchParams.set("limit", "1");
      url.searchParams.delete("includeTrash");
      return url.toString();
    },
    of: (body, entity, requestUrl) => parsePage(paging, body, entity, requestUrl).total,
  },
  entities: { users, groups, stages, people, deals, events, calls, textMessages, appointments } as Record<
    string,
    EntityDef
  >,
});

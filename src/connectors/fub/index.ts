import { defineConnector } from "../define";
import type { EntityDef } from "../types";
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

/**
 * Follow Up Boss, declared. Reference data first (users, groups, stages) so people and deals land after the
 * rows they point to when runs go in order; nothing depends on that order for correctness.
 */
export const fub = defineConnector({
  provider: "fub",
  defaultBaseUrl: "https://api.followupboss.com",
  auth: {
    kind: "apiKeyBasic",
    keyField: "apiKey",
    // A registered integration identifies itself; the system key also raises the limit and signs webhooks.
    extraHeaders: { "X-System": "system", "X-System-Key": "systemKey" },
  },
  paging: {
    style: "keyset-next",
    pageSize: 100,
    limitParam: "limit",
    nextParam: "next",
    nextPath: "_metadata.next",
    nextLinkPath: "_metadata.nextLink",
    totalPath: "_metadata.total",
    dropOnNext: ["offset"],
  },
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
  entities: { users, groups, stages, people, deals, events, calls, textMessages, appointments } as Record<
    string,
    EntityDef
  >,
});

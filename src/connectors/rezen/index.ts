import { standardWebhookScheme } from "../../webhooks/standard";
import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import { agents } from "./agents";
import { REZEN_HOSTS, REZEN_LOGICAL_BASE_URL, REZEN_SERVICE_HOSTS } from "./hosts";
import { contributions, downline, equity, frontline, networkCap, networkSize, teamRoster } from "./network";
import { lifecycleGroups, listings, rezenTotals, transactionList, transactions } from "./transactions";
import {
  REZEN_CREDENTIALS,
  REZEN_WEBHOOK_EVENTS,
  resolveRezenWebhook,
  subscribeRezen,
  unsubscribeRezen,
} from "./webhooks";

/**
 * Page size asked of paged lists: clients use 20 (downline) to 100; no maximum is published, and a larger size
 * clamped silently would end a list at its first page (paging stops on a short page), so 20 is safe.
 */
export const REZEN_PAGE_SIZE = 20;

/**
 * No limits are published. Safe defaults, one budget per host: 60 requests a minute each (the busiest clients
 * seen send about one a second); a 429 blocks that host's context until Retry-After.
 */
export const REZEN_RATE_LIMITS = { arrakis: 60, yenta: 60, other: 30, windowMs: 60_000 };

export const rezen = defineConnector({
  provider: "rezen",
  displayName: "reZEN",
  defaultBaseUrl: REZEN_LOGICAL_BASE_URL,
  hosts: REZEN_SERVICE_HOSTS,
  // X-API-KEY only: reZEN answers 403 to `Authorization: Bearer`.
  auth: { kind: "header", header: "X-API-KEY", keyField: REZEN_CREDENTIALS.apiKey },
  paging: {
    style: "page-number",
    pageSize: REZEN_PAGE_SIZE,
    pageParam: "pageNumber",
    sizeParam: "pageSize",
    firstPage: 0,
    // `hasNext` decides where a page carries it: a size clamped silently does not end a list early.
    morePath: "hasNext",
  },
  rateLimit: {
    limit: REZEN_RATE_LIMITS.other,
    windowMs: REZEN_RATE_LIMITS.windowMs,
    headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
    retryAfterHeader: "Retry-After",
    defaultContext: "other",
    contexts: [
      { name: "arrakis", pathPrefix: REZEN_HOSTS.arrakis, limit: REZEN_RATE_LIMITS.arrakis },
      { name: "yenta", pathPrefix: REZEN_HOSTS.yenta, limit: REZEN_RATE_LIMITS.yenta },
    ],
    scope: { credential: REZEN_CREDENTIALS.apiKey },
  },
  webhooks: {
    verification: standardWebhookScheme(REZEN_CREDENTIALS.webhookSecret),
    events: REZEN_WEBHOOK_EVENTS,
    resolve: resolveRezenWebhook,
    subscribe: subscribeRezen,
    unsubscribe: unsubscribeRezen,
    subscribeOnCreate: true,
  },
  byIds: null,
  totals: rezenTotals,
  entities: {
    agents,
    lifecycleGroups,
    transactionList,
    transactions,
    listings,
    networkSize,
    downline,
    frontline,
    networkCap,
    equity,
    contributions,
    teamRoster,
  } as Record<string, EntityDef>,
});

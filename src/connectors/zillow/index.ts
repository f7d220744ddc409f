import { zillowAgents, zillowAuth, zillowSyncUsers } from "../../db/schema/zillow-core";
import { defineConnector } from "../define";
import type { EntityDef } from "../types";
import {
  agentProfilesJob,
  eligibilityAction,
  methodsAction,
  overrideAction,
  resolveAction,
  teamDrift,
  zuidAlignment,
} from "./checks";
import { agents, auth, contactSyncEvents, syncUsers, teams } from "./entities";
import { ZILLOW_API_BASE_URL, ZILLOW_CREDENTIALS, ZILLOW_OAUTH } from "./oauth";
import { zillowWebhookScheme } from "./signature";
import { resolveZillowWebhook, ZILLOW_WEBHOOK_EVENTS } from "./webhooks";

/**
 * Zillow, declared from the seeds (nothing is public: docs/providers/zillow.md). OAuth with refresh; the
 * grant's own record (ZillowAuth), agents, teams, legacy sync users and contact sync events. The token
 * cascade runs through `authDependents`: a refused grant marks its ZillowAuth, agents and sync users, and
 * holds every sync of the connection until it is re-authorised.
 */
export const zillow = defineConnector({
  provider: "zillow",
  displayName: "Zillow",
  defaultBaseUrl: ZILLOW_API_BASE_URL,
  auth: {
    kind: "bearer",
    tokenField: ZILLOW_CREDENTIALS.accessToken,
    oauth: {
      authorizeUrl: ZILLOW_OAUTH.authorizeUrl,
      tokenUrl: ZILLOW_OAUTH.tokenUrl,
      revokeUrl: ZILLOW_OAUTH.revokeUrl,
      clientAuth: "basic",
      scopes: [...ZILLOW_OAUTH.scopes],
    },
  },
  paging: { style: "page-number", pageSize: 100, pageParam: "page", sizeParam: "pageSize", firstPage: 1 },
  // No limit is published; the simulator's choice, adopted from its headers when it announces one.
  rateLimit: {
    limit: 300,
    windowMs: 60_000,
    headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining", reset: "X-RateLimit-Reset" },
  },
  webhooks: {
    verification: zillowWebhookScheme(ZILLOW_CREDENTIALS.clientId),
    events: ZILLOW_WEBHOOK_EVENTS,
    resolve: resolveZillowWebhook,
  },
  byIds: { param: "ids", separator: ",", max: 100 },
  entities: { auth, teams, agents, syncUsers, contactSyncEvents } as Record<string, EntityDef>,
  authDependents: [
    { name: "auth", table: zillowAuth, stateColumn: "auth_state" },
    { name: "agents", table: zillowAgents, stateColumn: "auth_state" },
    { name: "syncUsers", table: zillowSyncUsers, stateColumn: "auth_state" },
  ],
  checks: { zuidAlignment, teamDrift },
  actions: {
    resolve: resolveAction,
    override: overrideAction,
    eligibility: eligibilityAction,
    methods: methodsAction,
  },
  // Agent profiles ("Bishop" in the seeds) hourly; the sync itself is the 15-minute delta.
  jobs: { agentProfiles: agentProfilesJob },
});

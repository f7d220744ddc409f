import { sql } from "drizzle-orm";
import { bigserial, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { coreColumns, tz } from "./columns";

/**
 * Zillow core tables, named as the seeds name the models (ZillowAuth, ZillowAgent, ZillowTeam, ZillowSyncUser,
 * contact sync events). Nothing of Zillow's API is public: the shapes are the seeds' own (docs/providers/zillow.md).
 * Ids are text (ZUIDs look like `ZU…`). `auth_state` is the token cascade's mark: null while the connection's
 * grant is good, `auth_failed` once it was refused; the sync never writes it (rows are upserted with null only
 * while the grant is good, since a refused grant makes no provider call), the cascade sets and clears it.
 */
const live = sql`deleted_at is null`;

/** ZillowAuth: one per OAuth connection (GET /v1/me): the ZUID the grant belongs to and its expiry; never tokens. */
export const zillowAuth = pgTable(
  "zillow_auth",
  {
    ...coreColumns("text"),
    zuid: text("zuid"),
    expiresAt: tz("expires_at"),
    authState: text("auth_state"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zillow_auth_zuid_idx").on(t.accountId, t.zuid).where(live),
  ],
);

/** ZillowAgent: an agent profile, belonging to a ZillowAuth (`auth_zuid`), a team and a contact (by email). */
export const zillowAgents = pgTable(
  "zillow_agents",
  {
    ...coreColumns("text"),
    zuid: text("zuid"),
    authZuid: text("auth_zuid"),
    teamId: text("team_id"),
    name: text("name"),
    email: text("email"),
    status: text("status"),
    /** The legacy `zillow_profile_id`: one of the four eligibility paths. */
    legacyProfileId: text("legacy_profile_id"),
    authState: text("auth_state"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zillow_agents_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("zillow_agents_zuid_idx").on(t.accountId, t.zuid).where(live),
    index("zillow_agents_team_idx").on(t.accountId, t.connectionId, t.teamId).where(live),
  ],
);

/** ZillowTeam: a team with an optional parent (the hierarchy inference walks). */
export const zillowTeams = pgTable(
  "zillow_teams",
  {
    ...coreColumns("text"),
    name: text("name"),
    parentTeamId: text("parent_team_id"),
    leadZuid: text("lead_zuid"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zillow_teams_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
  ],
);

/** ZillowSyncUser: the legacy sync's per-agent tracking (its own team id, status, last sync). */
export const zillowSyncUsers = pgTable(
  "zillow_sync_users",
  {
    ...coreColumns("text"),
    agentZuid: text("agent_zuid"),
    syncTeamId: text("sync_team_id"),
    status: text("status"),
    lastSyncedAt: tz("last_synced_at"),
    authState: text("auth_state"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zillow_sync_users_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("zillow_sync_users_agent_idx").on(t.accountId, t.agentZuid).where(live),
  ],
);

/** contact_sync_events: lead, contact and activity sync events; each feeds the unified contacts and activities. */
export const zillowContactSyncEvents = pgTable(
  "zillow_contact_sync_events",
  {
    ...coreColumns("text"),
    agentZuid: text("agent_zuid"),
    contactId: text("contact_id"),
    eventType: text("event_type"),
    occurredAt: tz("occurred_at"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zillow_contact_sync_events_updated_idx").on(t.accountId, t.connectionId, t.sourceUpdatedAt),
    index("zillow_contact_sync_events_contact_idx").on(t.accountId, t.connectionId, t.contactId),
  ],
);

/**
 * An agent's current resolution (CONNECTED 3 > INFERRED 2 > UNMATCHED 1) and any manual override; kept apart
 * from zillow_agents so a sync's upsert never overwrites it and a resolution never makes a rescan "changed".
 */
export const zillowAgentResolutions = pgTable(
  "zillow_agent_resolutions",
  {
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    agentId: text("agent_id").notNull(),
    method: text("method").notNull(),
    priority: integer("priority").notNull(),
    overrideMethod: text("override_method"),
    overrideBy: text("override_by"),
    resolvedAt: tz("resolved_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.agentId] })],
);

/** zillow_connection_logs: the resolution audit trail, one row per change of method (overrides included). */
export const zillowConnectionLogs = pgTable(
  "zillow_connection_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    agentId: text("agent_id").notNull(),
    fromMethod: text("from_method"),
    toMethod: text("to_method").notNull(),
    /** connected, inferred, unmatched, override, override_cleared. */
    reason: text("reason").notNull(),
    actor: text("actor").notNull(),
    at: tz("at").notNull().defaultNow(),
  },
  (t) => [index("zillow_connection_logs_agent_idx").on(t.accountId, t.connectionId, t.agentId, t.at)],
);

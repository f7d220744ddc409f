import { z } from "zod";
import {
  zillowAgents,
  zillowAuth,
  zillowContactSyncEvents,
  zillowSyncUsers,
  zillowTeams,
} from "../../db/schema/zillow-core";
import { instantOrNull, text, zillowEntity, zillowId, zillowRef, zillowTimestamp } from "./records";
import { eventDeleteTargets, eventToUnified } from "./unified";

const stamps = {
  id: zillowId,
  createdAt: zillowTimestamp.nullish(),
  updatedAt: zillowTimestamp.nullish(),
  deleted: z.boolean().nullish(),
};

/** GET /v1/me: the grant's own ZillowAuth (its ZUID and when the grant expires). One record, no update time. */
export const zillowAuthSchema = z.looseObject({
  ...stamps,
  zuid: zillowId,
  expiresAt: zillowTimestamp.nullish(),
});
export const auth = zillowEntity({
  name: "auth",
  listPath: "/v1/me",
  single: true,
  versioning: "contentHash",
  schema: zillowAuthSchema,
  coreTable: zillowAuth,
  columns: (a) => ({ zuid: a.zuid, expires_at: instantOrNull(a.expiresAt), auth_state: null }),
});

export const zillowAgentSchema = z.looseObject({
  ...stamps,
  zuid: zillowId,
  authZuid: zillowRef,
  teamId: zillowRef,
  name: text,
  email: text,
  status: text,
  zillowProfileId: text,
});
export const agents = zillowEntity({
  name: "agents",
  listPath: "/v1/agents",
  schema: zillowAgentSchema,
  coreTable: zillowAgents,
  columns: (a) => ({
    zuid: a.zuid,
    auth_zuid: a.authZuid ?? null,
    team_id: a.teamId ?? null,
    name: a.name ?? null,
    email: a.email ?? null,
    status: a.status ?? null,
    legacy_profile_id: a.zillowProfileId ?? null,
    auth_state: null,
  }),
});

export const zillowTeamSchema = z.looseObject({
  ...stamps,
  name: text,
  parentTeamId: zillowRef,
  leadZuid: zillowRef,
});
export const teams = zillowEntity({
  name: "teams",
  listPath: "/v1/teams",
  schema: zillowTeamSchema,
  coreTable: zillowTeams,
  columns: (t) => ({
    name: t.name ?? null,
    parent_team_id: t.parentTeamId ?? null,
    lead_zuid: t.leadZuid ?? null,
  }),
});

export const zillowSyncUserSchema = z.looseObject({
  ...stamps,
  agentZuid: zillowRef,
  syncTeamId: zillowRef,
  status: text,
  lastSyncedAt: zillowTimestamp.nullish(),
});
export const syncUsers = zillowEntity({
  name: "syncUsers",
  listPath: "/v1/sync-users",
  schema: zillowSyncUserSchema,
  coreTable: zillowSyncUsers,
  columns: (u) => ({
    agent_zuid: u.agentZuid ?? null,
    sync_team_id: u.syncTeamId ?? null,
    status: u.status ?? null,
    last_synced_at: instantOrNull(u.lastSyncedAt),
    auth_state: null,
  }),
});

export const zillowContactSyncEventSchema = z.looseObject({
  ...stamps,
  agentZuid: zillowRef,
  eventType: z.string().min(1),
  occurredAt: zillowTimestamp,
  contact: z.looseObject({
    id: zillowId,
    firstName: text,
    lastName: text,
    email: text,
    phone: text,
  }),
});
export const contactSyncEvents = zillowEntity({
  name: "contactSyncEvents",
  listPath: "/v1/contact-sync-events",
  schema: zillowContactSyncEventSchema,
  coreTable: zillowContactSyncEvents,
  columns: (e) => ({
    agent_zuid: e.agentZuid ?? null,
    contact_id: e.contact.id,
    event_type: e.eventType,
    occurred_at: instantOrNull(e.occurredAt),
  }),
  more: (e, source) => eventToUnified(e, source),
  alsoDelete: eventDeleteTargets,
});

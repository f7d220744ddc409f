import { z } from "zod";
import { loftyActivities, loftyCalls, loftyNotes } from "../../db/schema";
import { idText, loftyEntity, loftyId, loftyNumber, loftyRef, loftyTime, numberOf, text } from "./records";
import { instantOf } from "./time";
import { activityDelete, toActivity } from "./unified";

// A lead's notes, calls and activities: Lofty lists them per lead only (calls answer 404 without `leadId`).
// The lead id is stamped into each record from the request, since not every body carries it.

const perLead = { entity: "leads", param: "leadId", stamp: { leadId: "leadId" } };

/** Notes: `yyyy-MM-dd HH:mm:ss` times in UTC. */
export const loftyNoteSchema = z.looseObject({
  id: loftyId,
  leadId: loftyRef,
  content: text,
  creatorId: loftyRef,
  createTime: loftyTime,
  updateTime: loftyTime,
});

export const notes = loftyEntity({
  name: "notes",
  listPath: "/v1.0/notes",
  collectionKey: "notes",
  idField: "id",
  parent: perLead,
  schema: loftyNoteSchema,
  coreTable: loftyNotes,
  created: (n) => n.createTime,
  updated: (n) => (instantOf(n.updateTime) ? n.updateTime : n.createTime),
  columns: (n) => ({
    lead_id: idText(n.leadId),
    occurred_at: instantOf(n.createTime),
    content: n.content ?? null,
  }),
  more: (n, source) => [
    toActivity(
      {
        kind: "note",
        id: idText(n.id) ?? "",
        created: n.createTime,
        updated: instantOf(n.updateTime) ? n.updateTime : n.createTime,
        byContent: false,
        type: "note",
        occurredAt: instantOf(n.createTime),
        leadId: idText(n.leadId),
        userId: idText(n.creatorId),
        summary: n.content ?? null,
      },
      source,
    ),
  ],
  alsoDelete: (id) => [activityDelete("note")(id)],
});

/** Calls: `{get_metadata | _metadata, calls}`; times as `2026-04-22 10:15:00` (UTC). */
export const loftyCallSchema = z.looseObject({
  id: loftyId,
  leadId: loftyRef,
  userId: loftyRef,
  direction: text,
  duration: loftyNumber,
  outcome: text,
  createTime: loftyTime,
  updateTime: loftyTime,
});

export const calls = loftyEntity({
  name: "calls",
  listPath: "/v1.0/calls",
  collectionKey: "calls",
  idField: "id",
  parent: perLead,
  schema: loftyCallSchema,
  coreTable: loftyCalls,
  created: (c) => c.createTime,
  updated: (c) => (instantOf(c.updateTime) ? c.updateTime : c.createTime),
  columns: (c) => ({
    lead_id: idText(c.leadId),
    occurred_at: instantOf(c.createTime),
    direction: c.direction ?? null,
    duration_seconds: numberOf(c.duration),
    outcome: c.outcome ?? null,
  }),
  more: (c, source) => [
    toActivity(
      {
        kind: "call",
        id: idText(c.id) ?? "",
        created: c.createTime,
        updated: instantOf(c.updateTime) ? c.updateTime : c.createTime,
        byContent: false,
        type: "call",
        occurredAt: instantOf(c.createTime),
        leadId: idText(c.leadId),
        userId: idText(c.userId),
        summary: c.outcome ?? null,
        direction: c.direction ?? null,
        durationSeconds: numberOf(c.duration),
      },
      source,
    ),
  ],
  alsoDelete: (id) => [activityDelete("call")(id)],
});

/** Activities: a bare JSON list per lead, `created` in epoch milliseconds; they never change once written. */
export const loftyActivitySchema = z.looseObject({
  id: loftyId,
  leadId: loftyRef,
  type: text,
  content: text,
  created: loftyTime,
});

export const activities = loftyEntity({
  name: "activities",
  listPath: "/v1.0/leads/{leadId}/activities",
  collectionKey: "",
  idField: "id",
  parent: { entity: "leads", pathParam: "leadId", stamp: { leadId: "leadId" } },
  schema: loftyActivitySchema,
  coreTable: loftyActivities,
  created: (a) => a.created,
  updated: (a) => a.created,
  columns: (a) => ({
    lead_id: idText(a.leadId),
    occurred_at: instantOf(a.created),
    type: a.type ?? null,
    content: a.content ?? null,
  }),
  more: (a, source) => [
    toActivity(
      {
        kind: "activity",
        id: idText(a.id) ?? "",
        created: a.created,
        updated: a.created,
        byContent: false,
        type: a.type ?? "activity",
        occurredAt: instantOf(a.created),
        leadId: idText(a.leadId),
        userId: null,
        summary: a.content ?? null,
      },
      source,
    ),
  ],
  alsoDelete: (id) => [activityDelete("activity")(id)],
});

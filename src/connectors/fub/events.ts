import { z } from "zod";
import { activities, fubEvents } from "../../db/schema";
import { fubBase, fubEntity, fubRef, fubTimestamp, instantOrNull } from "./records";
import { activitySourceId, fubEventToActivity } from "./unified";

export const fubEventSchema = z.looseObject({
  ...fubBase,
  personId: fubRef,
  type: z.string().nullish(),
  source: z.string().nullish(),
  message: z.string().nullish(),
  description: z.string().nullish(),
  occurred: fubTimestamp.nullish(),
  property: z.record(z.string(), z.unknown()).nullish(),
});

export type FubEvent = z.infer<typeof fubEventSchema>;

export const events = fubEntity({
  name: "events",
  schema: fubEventSchema,
  coreTable: fubEvents,
  columns: (e) => ({
    person_id: e.personId ?? null,
    type: e.type ?? null,
    source: e.source ?? null,
    message: e.message ?? null,
    description: e.description ?? null,
    occurred_at: instantOrNull(e.occurred),
    property: e.property ?? null,
  }),
  unified: fubEventToActivity,
  unifiedDelete: (sourceId) => ({ table: activities, sourceId: activitySourceId("event", sourceId) }),
});

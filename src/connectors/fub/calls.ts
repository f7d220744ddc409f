import { z } from "zod";
import { activities, fubCalls } from "../../db/schema";
import { flag, fubBase, fubEntity, fubFlag, fubRef } from "./records";
import { activitySourceId, fubCallToActivity } from "./unified";

export const fubCallSchema = z.looseObject({
  ...fubBase,
  personId: fubRef,
  userId: fubRef,
  duration: z.number().int().nonnegative().nullish(),
  outcome: z.string().nullish(),
  isIncoming: fubFlag,
  phone: z.string().nullish(),
  fromNumber: z.string().nullish(),
  toNumber: z.string().nullish(),
  note: z.string().nullish(),
  recordingUrl: z.string().nullish(),
});

export type FubCall = z.infer<typeof fubCallSchema>;

export const calls = fubEntity({
  name: "calls",
  schema: fubCallSchema,
  coreTable: fubCalls,
  columns: (c) => ({
    person_id: c.personId ?? null,
    user_id: c.userId ?? null,
    duration_seconds: c.duration ?? null,
    outcome: c.outcome ?? null,
    is_incoming: flag(c.isIncoming),
    phone: c.phone ?? null,
    from_number: c.fromNumber ?? null,
    to_number: c.toNumber ?? null,
    note: c.note ?? null,
    recording_url: c.recordingUrl ?? null,
  }),
  unified: (r, source) => fubCallToActivity({ ...r, isIncoming: flag(r.isIncoming) }, source),
  unifiedDelete: (sourceId) => ({ table: activities, sourceId: activitySourceId("call", sourceId) }),
});

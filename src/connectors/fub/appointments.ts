import { z } from "zod";
import { activities, fubAppointments } from "../../db/schema";
import { fubBase, fubEntity, fubFlag, fubRef, fubTimestamp, instantOrNull } from "./records";
import { activitySourceId, fubAppointmentToActivity } from "./unified";

const invitee = z.looseObject({ personId: fubRef, userId: fubRef, name: z.string().nullish() });

export const fubAppointmentSchema = z.looseObject({
  ...fubBase,
  title: z.string().nullish(),
  description: z.string().nullish(),
  start: fubTimestamp.nullish(),
  end: fubTimestamp.nullish(),
  allDay: fubFlag,
  location: z.string().nullish(),
  invitees: z.array(invitee).nullish(),
});

export type FubAppointment = z.infer<typeof fubAppointmentSchema>;

export const appointments = fubEntity({
  name: "appointments",
  schema: fubAppointmentSchema,
  coreTable: fubAppointments,
  columns: (a) => ({
    title: a.title ?? null,
    description: a.description ?? null,
    start_at: instantOrNull(a.start),
    end_at: instantOrNull(a.end),
    all_day: a.allDay == null ? null : Boolean(a.allDay),
    location: a.location ?? null,
    invitees: a.invitees ?? null,
    person_ids: (a.invitees ?? []).flatMap((i) => (i.personId == null ? [] : [i.personId])),
  }),
  unified: fubAppointmentToActivity,
  unifiedDelete: (sourceId) => ({ table: activities, sourceId: activitySourceId("appointment", sourceId) }),
});

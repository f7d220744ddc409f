import { z } from "zod";
import { activities, fubTextMessages } from "../../db/schema";
import type { EntityDef } from "../types";
import { flag, fubBase, fubEntity, fubFlag, fubRef } from "./records";
import { activitySourceId, fubTextToActivity } from "./unified";

export const fubTextMessageSchema = z.looseObject({
  ...fubBase,
  personId: fubRef,
  userId: fubRef,
  message: z.string().nullish(),
  isIncoming: fubFlag,
  fromNumber: z.string().nullish(),
  toNumber: z.string().nullish(),
  status: z.string().nullish(),
});

export type FubTextMessage = z.infer<typeof fubTextMessageSchema>;

export const textMessages = {
  ...fubEntity({
    name: "textMessages",
    schema: fubTextMessageSchema,
    coreTable: fubTextMessages,
    columns: (t) => ({
      person_id: t.personId ?? null,
      user_id: t.userId ?? null,
      message: t.message ?? null,
      is_incoming: flag(t.isIncoming),
      from_number: t.fromNumber ?? null,
      to_number: t.toNumber ?? null,
      status: t.status ?? null,
    }),
    unified: (r, source) => fubTextToActivity({ ...r, isIncoming: flag(r.isIncoming) }, source),
    unifiedDelete: (sourceId) => ({ table: activities, sourceId: activitySourceId("text", sourceId) }),
  }),
  // FUB answers an unfiltered list with 400: texts are listed person by person.
  parent: { entity: "people", param: "personId" },
} satisfies EntityDef<FubTextMessage>;

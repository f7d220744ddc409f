import { z } from "zod";
import { fubPeople } from "../../db/schema";
import type { EntityDef } from "../types";
import { fubCursorOf, fubIdOf, fubTimestamp } from "./records";
import { fubPersonToContact } from "./unified";

const contactPoint = z.object({
  value: z.string(),
  type: z.string().nullish(),
  isPrimary: z.union([z.boolean(), z.number()]).nullish(),
});

export const fubPersonSchema = z
  .object({
    id: z.number().int().positive(),
    created: fubTimestamp.nullish(),
    updated: fubTimestamp,
    name: z.string().nullish(),
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    stage: z.string().nullish(),
    stageId: z.number().int().nullish(),
    source: z.string().nullish(),
    assignedUserId: z.number().int().nullish(),
    price: z.number().nullish(),
    contacted: z.union([z.boolean(), z.number()]).nullish(),
    lastActivity: fubTimestamp.nullish(),
    tags: z.array(z.string()).nullish(),
    emails: z.array(contactPoint).nullish(),
    phones: z.array(contactPoint).nullish(),
  })
  .passthrough();

export type FubPerson = z.infer<typeof fubPersonSchema>;

export const people: EntityDef<FubPerson> = {
  name: "people",
  listPath: "/v1/people",
  collectionKey: "people",
  schema: fubPersonSchema,
  sourceIdOf: fubIdOf,
  cursorOf: fubCursorOf,
  toCore: (p, source) => [
    {
      table: fubPeople,
      row: {
        account_id: source.accountId,
        connection_id: source.connectionId,
        source_id: p.id,
        source_created_at: p.created ?? null,
        source_updated_at: p.updated,
        raw: p,
        name: p.name ?? null,
        first_name: p.firstName ?? null,
        last_name: p.lastName ?? null,
        stage: p.stage ?? null,
        stage_id: p.stageId ?? null,
        source: p.source ?? null,
        assigned_user_id: p.assignedUserId ?? null,
        price: p.price ?? null,
        contacted: p.contacted == null ? null : Boolean(p.contacted),
        last_activity: p.lastActivity ?? null,
        tags: p.tags ?? null,
        emails: p.emails ?? null,
        phones: p.phones ?? null,
      },
    },
    fubPersonToContact(p, source),
  ],
};

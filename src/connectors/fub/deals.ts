import { z } from "zod";
import { fubDeals, deals as unifiedDeals } from "../../db/schema";
import { fubBase, fubEntity, fubId, fubRef } from "./records";
import { fubDealToDeal } from "./unified";

const party = z.looseObject({ id: fubId, name: z.string().nullish() });

export const fubDealSchema = z.looseObject({
  ...fubBase,
  name: z.string().nullish(),
  stageId: fubRef,
  pipelineId: fubRef,
  status: z.string().nullish(),
  price: z.number().nullish(),
  commissionValue: z.number().nullish(),
  closeDate: z.iso.date().nullish(),
  description: z.string().nullish(),
  people: z.array(party).nullish(),
  users: z.array(party).nullish(),
});

export type FubDeal = z.infer<typeof fubDealSchema>;

export const deals = fubEntity({
  name: "deals",
  schema: fubDealSchema,
  coreTable: fubDeals,
  columns: (d) => ({
    name: d.name ?? null,
    stage_id: d.stageId ?? null,
    pipeline_id: d.pipelineId ?? null,
    status: d.status ?? null,
    price: d.price ?? null,
    commission_value: d.commissionValue ?? null,
    close_date: d.closeDate ?? null,
    description: d.description ?? null,
    person_ids: (d.people ?? []).map((p) => p.id),
    user_ids: (d.users ?? []).map((u) => u.id),
  }),
  unified: fubDealToDeal,
  unifiedDelete: (sourceId) => ({ table: unifiedDeals, sourceId }),
});

import { z } from "zod";
import { fubDeals, deals as unifiedDeals } from "../../db/schema";
import { fubBase, fubEntity, fubId, fubRef, fubTimestamp, instantOrNull, updatedOf } from "./records";
import { fubDealToDeal } from "./unified";

const party = z.looseObject({ id: fubId, name: z.string().nullish() });

/** Amounts come as numbers, and from some clients as numeric strings; either is the same amount. */
const money = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+(?:\.\d+)?$/)
      .transform(Number),
  ])
  .nullish();

/** A calendar date, sent as `YYYY-MM-DD` or as a full ISO timestamp (the date part is the deal's date). */
const dateLike = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:[T ].*)?$/, "not a date")
  .nullish();

const dateOnly = (v: string | null | undefined) => (v ? v.slice(0, 10) : null);

export const fubDealSchema = z.looseObject({
  ...fubBase,
  name: z.string().nullish(),
  stageId: fubRef,
  pipelineId: fubRef,
  stageName: z.string().nullish(),
  pipelineName: z.string().nullish(),
  status: z.string().nullish(),
  price: money,
  commissionValue: money,
  agentCommission: money,
  teamCommission: money,
  closeDate: dateLike,
  projectedCloseDate: dateLike,
  enteredStageAt: fubTimestamp.nullish(),
  description: z.string().nullish(),
  people: z.array(party).nullish(),
  users: z.array(party).nullish(),
});

export type FubDeal = z.infer<typeof fubDealSchema>;

/** FUB's deleted deals keep a status instead of vanishing; lists show them only when asked. */
export const FUB_DEAL_DELETED = "Deleted";

const isDeletedDeal = (d: FubDeal) => d.status === FUB_DEAL_DELETED;

export const deals = fubEntity({
  name: "deals",
  schema: fubDealSchema,
  coreTable: fubDeals,
  // Archived deals are still deals; deleted ones must be seen, or a deal deleted in FUB would stay live here.
  listParams: { includeArchived: "true", includeDeleted: "true" },
  columns: (d) => ({
    name: d.name ?? null,
    stage_id: d.stageId ?? null,
    pipeline_id: d.pipelineId ?? null,
    stage_name: d.stageName ?? null,
    pipeline_name: d.pipelineName ?? null,
    status: d.status ?? null,
    price: d.price ?? null,
    commission_value: d.commissionValue ?? null,
    agent_commission: d.agentCommission ?? null,
    team_commission: d.teamCommission ?? null,
    close_date: dateOnly(d.closeDate),
    projected_close_date: dateOnly(d.projectedCloseDate),
    entered_stage_at: instantOrNull(d.enteredStageAt),
    description: d.description ?? null,
    person_ids: (d.people ?? []).map((p) => p.id),
    user_ids: (d.users ?? []).map((u) => u.id),
  }),
  // A deal in status Deleted is not live, like a person in Trash; a newer version out of it clears deleted_at.
  shared: (d) => (isDeletedDeal(d) ? { deleted_at: updatedOf(d) } : {}),
  unified: (d, source) => {
    const deal = fubDealToDeal(d, source);
    if (isDeletedDeal(d)) deal.row.deleted_at = updatedOf(d);
    return deal;
  },
  unifiedDelete: (sourceId) => ({ table: unifiedDeals, sourceId }),
});

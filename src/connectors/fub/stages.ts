import { z } from "zod";
import { fubStages } from "../../db/schema";
import { fubBase, fubEntity } from "./records";

export const fubStageSchema = z.looseObject({
  ...fubBase,
  name: z.string().nullish(),
  orderWeight: z.number().int().nullish(),
});

export type FubStage = z.infer<typeof fubStageSchema>;

export const stages = fubEntity({
  name: "stages",
  schema: fubStageSchema,
  coreTable: fubStages,
  columns: (s) => ({ name: s.name ?? null, order_weight: s.orderWeight ?? null }),
});

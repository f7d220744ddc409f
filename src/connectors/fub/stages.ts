import { z } from "zod";
import { fubStages } from "../../db/schema";
import { fubEntity, fubUntimedBase } from "./records";

export const fubStageSchema = z.looseObject({
  ...fubUntimedBase,
  name: z.string().nullish(),
  orderWeight: z.number().int().nullish(),
});

export type FubStage = z.infer<typeof fubStageSchema>;

export const stages = fubEntity({
  name: "stages",
  // FUB publishes no timestamps for stages: versions by content, every run a complete scan.
  versioning: "contentHash",
  schema: fubStageSchema,
  coreTable: fubStages,
  columns: (s) => ({ name: s.name ?? null, order_weight: s.orderWeight ?? null }),
});

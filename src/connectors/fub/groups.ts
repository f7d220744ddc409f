import { z } from "zod";
import { fubGroups } from "../../db/schema";
import { fubEntity, fubId, fubUntimedBase } from "./records";

export const fubGroupSchema = z.looseObject({
  ...fubUntimedBase,
  name: z.string().nullish(),
  type: z.string().nullish(),
  users: z.array(z.looseObject({ id: fubId, name: z.string().nullish() })).nullish(),
});

export type FubGroup = z.infer<typeof fubGroupSchema>;

export const groups = fubEntity({
  name: "groups",
  // FUB publishes no timestamps for groups: versions by content, every run a complete scan.
  versioning: "contentHash",
  schema: fubGroupSchema,
  coreTable: fubGroups,
  columns: (g) => ({
    name: g.name ?? null,
    type: g.type ?? null,
    user_ids: (g.users ?? []).map((u) => u.id),
  }),
});

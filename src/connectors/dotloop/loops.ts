import { z } from "zod";
import { dotloopLoopDetails, dotloopLoops } from "../../db/schema";
import type { CoreWrite, SourceContext } from "../types";
import { type LoopDetail, loopDetailSchema, typedDetail } from "./details";
import {
  dotloopEntity,
  dotloopId,
  dotloopRef,
  dotloopTimestamp,
  instantOrNull,
  pathId,
  text,
} from "./records";
import { loopToTransaction, transactionDelete } from "./unified";

/** Dotloop's end state for a loop; it is never deleted. */
export const DOTLOOP_ARCHIVED = "ARCHIVED";

export const dotloopLoopSchema = z.looseObject({
  id: dotloopId,
  // Published lists omit it (a copy artefact of the example); the path names the profile then.
  profileId: dotloopRef,
  ownerProfileId: dotloopRef,
  name: text,
  // Taken as sent: the published single-loop example says "PURCHASED", outside the documented types.
  transactionType: text,
  status: text,
  created: dotloopTimestamp.nullish(),
  updated: dotloopTimestamp.nullish(),
  loopUrl: text,
  totalTaskCount: z.number().int().nullish(),
  completedTaskCount: z.number().int().nullish(),
  /** Present when listed with include_details=true. */
  details: loopDetailSchema.nullish(),
});
export type DotloopLoop = z.infer<typeof dotloopLoopSchema>;

const profileOf = (l: { profileId?: number | null }, source: SourceContext) =>
  l.profileId ?? pathId(source, "profileId");

/**
 * The detail row of a loop (source_id = the loop id), versioned with the loop it came with. Exported for the
 * detail endpoint (`.../loop/{loopId}/detail`), whose answer carries no id: the loop is the path's.
 */
export function loopDetailRow(
  detail: LoopDetail,
  loop: { id: number; profileId?: number | null; created?: string | null; updated?: string | null },
  source: SourceContext,
): CoreWrite {
  return {
    table: dotloopLoopDetails,
    row: {
      account_id: source.accountId,
      connection_id: source.connectionId,
      source_id: loop.id,
      source_created_at: instantOrNull(loop.created),
      source_updated_at: instantOrNull(loop.updated),
      raw: detail,
      deleted_at: null,
      profile_id: profileOf(loop, source),
      sections: detail,
      ...typedDetail(detail),
    },
  };
}

/**
 * Loops of a profile, listed with their details (`include_details=true`): one call per batch yields the loop,
 * its detail row and its transaction, and no per-loop detail call is spent against the 100/min budget.
 */
export const loops = dotloopEntity({
  name: "loops",
  listPath: "/profile/{profileId}/loop",
  // Loops exist for INDIVIDUAL profiles only (another profile answers 403); lists carry their profileId.
  parent: { entity: "profiles", pathParam: "profileId", where: { type: "INDIVIDUAL" } },
  listParams: { include_details: "true" },
  // Ascending by update time (Dotloop accepts `updated:asc`), so the cursor advances page by page; the bound
  // goes in Dotloop's own filter format, inclusive, which the overlap window and versions make harmless.
  incremental: {
    param: null,
    cursorField: "updated",
    sortParams: { sort: "updated:asc" },
    filter: { param: "filter", template: "updated_min={since}" },
  },
  schema: dotloopLoopSchema,
  coreTable: dotloopLoops,
  columns: (l, source) => ({
    profile_id: profileOf(l, source),
    owner_profile_id: l.ownerProfileId ?? null,
    name: l.name ?? null,
    transaction_type: l.transactionType ?? null,
    status: l.status ?? null,
    archived: l.status === DOTLOOP_ARCHIVED,
    loop_url: l.loopUrl ?? null,
    total_task_count: l.totalTaskCount ?? null,
    completed_task_count: l.completedTaskCount ?? null,
  }),
  more: (l, source) => {
    // Lists carry the details inline; a webhook fetch attaches them from `.../detail` (webhooks.ts). Only a
    // loop whose detail is gone comes without: its transaction then has no address, price or dates.
    const detail = l.details ?? null;
    return [
      ...(detail ? [loopDetailRow(detail, l, source)] : []),
      loopToTransaction(l, detail ? typedDetail(detail) : null, source),
    ];
  },
  // Loops are never deleted; a merged loop is retired (LOOP_MERGED, or 301 on its id) with what it fed.
  alsoDelete: (sourceId) => [{ table: dotloopLoopDetails, sourceId }, transactionDelete(sourceId)],
});

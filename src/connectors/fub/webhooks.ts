import { z } from "zod";
import { isoInstant } from "../../core/iso-instant";
import type { WebhookResolution } from "../types";

/** Entities whose changes FUB announces by webhook, keyed by the event-name prefix. */
const EVENT_ENTITIES = [
  "people",
  "deals",
  "calls",
  "textMessages",
  "appointments",
  "events",
  "users",
  "groups",
  "stages",
];
const ACTIONS = ["Created", "Updated", "Deleted"] as const;

/** FUB names stage events in the singular (`stageCreated`), every other family by its plural resource. */
const EVENT_ALIASES: Record<string, string> = { stage: "stages" };

/** Everything a FUB system may subscribe to; `notes`/`tasks` resolve to nothing because we don't sync them. */
export const FUB_WEBHOOK_EVENTS: readonly string[] = [
  ...EVENT_ENTITIES.flatMap((e) => ACTIONS.map((a) => `${e}${a}`)),
  ...ACTIONS.map((a) => `stage${a}`),
  "peopleStageUpdated",
  ...["notes", "tasks"].flatMap((e) => ACTIONS.map((a) => `${e}${a}`)),
];

const payloadSchema = z.looseObject({
  eventId: z.string().min(1),
  eventCreated: z.string().nullish(),
  event: z.string().min(1),
  resourceIds: z.array(z.union([z.number().int(), z.string().regex(/^\d+$/)])),
  uri: z.string().nullish(),
});

const EVENT = /^([a-zA-Z]+?)(StageUpdated|Created|Updated|Deleted)$/;

/**
 * FUB's thin payload `{eventId, eventCreated, event, resourceIds, uri}` → the records to fetch again, or to
 * tombstone for `*Deleted` (a deleted record can no longer be fetched).
 */
export function resolveFubWebhook(payload: unknown): WebhookResolution | null {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `not a Follow Up Boss webhook: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`,
    );
  }
  const p = parsed.data;
  const m = EVENT.exec(p.event);
  const entity = m?.[1] ? (EVENT_ALIASES[m[1]] ?? m[1]) : null;
  if (!m || !entity || !EVENT_ENTITIES.includes(entity)) return null;
  return {
    eventId: p.eventId,
    event: p.event,
    entity,
    ids: [...new Set(p.resourceIds.map(String))],
    uri: p.uri ?? null,
    deleted: m[2] === "Deleted",
    occurredAt: p.eventCreated ? isoInstant(p.eventCreated.replace(/([+-]\d{2}):(\d{2})$/, "$1$2")) : null,
  };
}

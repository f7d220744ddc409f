import { z } from "zod";
import type { WebhookResolution } from "../types";
import { zillowId } from "./records";

/** Sync webhook events (seeds-derived): `<entity>.<created|updated|deleted>`; records are fetched by id. */
const ENTITY_OF: Record<string, string> = {
  agent: "agents",
  team: "teams",
  syncUser: "syncUsers",
  contactSyncEvent: "contactSyncEvents",
};
export const ZILLOW_WEBHOOK_EVENTS = Object.keys(ENTITY_OF).flatMap((k) =>
  ["created", "updated", "deleted"].map((a) => `${k}.${a}`),
);

const payloadSchema = z.looseObject({
  eventId: z.string().min(1).max(200),
  eventType: z.string().min(1).max(100),
  ids: z.array(zillowId).min(1).max(1000),
  occurredAt: z.string().nullish(),
});

/**
 * A verified payload to the records it names. Soft deletes are listed by Zillow with `deleted: true`, so a
 * `*.deleted` event is fetched like any other: the fetched record carries its own delete.
 */
export function resolveZillowWebhook(payload: unknown): WebhookResolution | null {
  const p = payloadSchema.parse(payload);
  const entity = ENTITY_OF[p.eventType.split(".")[0] ?? ""];
  if (!entity) return null;
  return {
    eventId: p.eventId,
    event: p.eventType,
    entity,
    ids: p.ids,
    uri: null,
    deleted: false,
    occurredAt: p.occurredAt ?? null,
  };
}

// What a recorded event asks us to do, decided from its payload alone.

export type WebhookPlan =
  | { kind: "fetch"; entity: string; uri: string; resourceIds: string[] }
  | { kind: "delete"; entity: string; resourceIds: string[]; deletedAt: string }
  | { kind: "ignore"; reason: string };

const FUB_EVENT = /^([a-zA-Z]+?)(StageUpdated|Created|Updated|Deleted)$/;

/**
 * Follow Up Boss sends `{eventId, eventCreated, event, resourceIds, uri}`: created/updated events name records
 * to fetch from `uri`; a deleted record can no longer be fetched, so `*Deleted` becomes tombstones dated by
 * the event's own creation time.
 */
export function planFubEvent(payload: unknown, entities: readonly string[]): WebhookPlan {
  if (!payload || typeof payload !== "object") return { kind: "ignore", reason: "payload is not an object" };
  const p = payload as Record<string, unknown>;
  const match = typeof p.event === "string" ? FUB_EVENT.exec(p.event) : null;
  if (!match) return { kind: "ignore", reason: `unsupported event "${String(p.event)}"` };
  const entity = match[1] ?? "";
  if (!entities.includes(entity)) return { kind: "ignore", reason: `entity "${entity}" is not synced` };
  const resourceIds = Array.isArray(p.resourceIds)
    ? p.resourceIds.filter((x) => typeof x === "number" || typeof x === "string").map(String)
    : [];
  if (match[2] === "Deleted") {
    const deletedAt =
      typeof p.eventCreated === "string" && !Number.isNaN(Date.parse(p.eventCreated)) ? p.eventCreated : null;
    if (!deletedAt) return { kind: "ignore", reason: "delete event without eventCreated" };
    if (resourceIds.length === 0) return { kind: "ignore", reason: "delete event without resourceIds" };
    return { kind: "delete", entity, resourceIds, deletedAt };
  }
  if (typeof p.uri !== "string" || !p.uri) return { kind: "ignore", reason: "event without uri" };
  return { kind: "fetch", entity, uri: p.uri, resourceIds };
}

/** The records of a fetched `uri`: FUB answers one record for `/people/1`, a list for `/people?id=1,2`. */
export function recordsOfResponse(body: unknown, collectionKey: string): unknown[] {
  if (!body || typeof body !== "object") return [];
  const list = (body as Record<string, unknown>)[collectionKey];
  if (Array.isArray(list)) return list;
  return "id" in body ? [body] : [];
}

/** Only the connection's own API origin gets its credentials, whatever a payload says. */
export function sameOrigin(uri: string, baseUrl: string): boolean {
  try {
    return new URL(uri).origin === new URL(baseUrl).origin;
  } catch {
    return false;
  }
}

import { z } from "zod";
import { isoInstant } from "../../core/iso-instant";
import type { WebhookResolution } from "../types";
import { type DotloopPath, dotloopId } from "./records";

/** The 16 published event types, verbatim and complete; nothing else is ever delivered. */
export const DOTLOOP_PROFILE_EVENTS = [
  "LOOP_CREATED",
  "LOOP_UPDATED",
  "LOOP_MERGED",
  "LOOP_PARTICIPANT_CREATED",
  "LOOP_PARTICIPANT_UPDATED",
  "LOOP_PARTICIPANT_DELETED",
] as const;
export const DOTLOOP_USER_EVENTS = [
  "CONTACT_CREATED",
  "CONTACT_UPDATED",
  "CONTACT_DELETED",
  "PROFILE_UPDATED",
  "USER_PROFILE_ACTIVATED",
  "USER_PROFILE_DEACTIVATED",
  "USER_ADDED_TO_PROFILE",
  "USER_REMOVED_FROM_PROFILE",
] as const;
export const DOTLOOP_LIFECYCLE_EVENTS = ["SUBSCRIPTION_REMOVED", "SUBSCRIPTION_DISABLED"] as const;
export const DOTLOOP_WEBHOOK_EVENTS: readonly string[] = [
  ...DOTLOOP_PROFILE_EVENTS,
  ...DOTLOOP_USER_EVENTS,
  ...DOTLOOP_LIFECYCLE_EVENTS,
];

export type DotloopEventType =
  | (typeof DOTLOOP_PROFILE_EVENTS)[number]
  | (typeof DOTLOOP_USER_EVENTS)[number]
  | (typeof DOTLOOP_LIFECYCLE_EVENTS)[number];

/**
 * What a Dotloop event asks for, beyond the engine's resolution: the parents of the records (their fetch URL
 * is under `/profile/{profileId}/loop/{loopId}`), and for LOOP_MERGED the loop it retires. `ids` name the
 * records to fetch (the survivor, for a merge) or, with `deleted`, to tombstone.
 */
export type DotloopWebhookResolution = WebhookResolution & {
  path: DotloopPath;
  /** LOOP_MERGED: `fromId` is retired (it answers 301 from now on), `toId` is fetched. */
  merged: { fromId: string; toId: string } | null;
};

const idLike = z.union([z.number(), z.string()]);
const optId = idLike.nullish();

/**
 * Both published renderings of the body are read (the official one is unpublished): (a) `{eventId, eventType,
 * timestamp (epoch ms), subscriptionExternalId, event: {id, profileId, loopId}}` and (b) `{eventId, createdOn,
 * subscriptionId, profileId, eventType, event: {id, participantId?, fromId?, toId?}}`.
 */
const payloadSchema = z.looseObject({
  eventId: idLike,
  eventType: z.string().min(1),
  timestamp: z.union([z.number(), z.string()]).nullish(),
  createdOn: z.union([z.number(), z.string()]).nullish(),
  profileId: optId,
  subscriptionId: optId,
  event: z.looseObject({
    id: optId,
    profileId: optId,
    loopId: optId,
    participantId: optId,
    fromId: optId,
    toId: optId,
    userId: optId,
  }),
});

/** An id of the payload, exact: a number beyond 2^53 or anything but digits is a malformed payload. */
function exactId(v: unknown, what: string): string {
  const parsed = dotloopId.safeParse(v);
  if (!parsed.success) throw new Error(`not a Dotloop webhook: ${what} is not an id`);
  return String(parsed.data);
}
const maybeId = (v: unknown, what: string) => (v == null ? null : exactId(v, what));

/** Epoch milliseconds (a number, or digits), epoch seconds, or an ISO string → ISO instant. */
function instantOf(v: string | number | null | undefined): string | null {
  if (v == null) return null;
  if (typeof v === "number" || /^\d+$/.test(v)) {
    const n = Number(v);
    const ms = n < 1e11 ? n * 1000 : n;
    return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
  }
  return isoInstant(v);
}

function parse(payload: unknown) {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `not a Dotloop webhook: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`,
    );
  }
  return parsed.data;
}

/**
 * Dotloop's id-only payload → the records to fetch again, or to tombstone for *_DELETED (a deleted contact or
 * participant can no longer be fetched). Null for the subscription lifecycle events (see
 * subscriptionLifecycleOf) and for event types outside the published 16. Throws on a body without the shape.
 */
export function resolveDotloopWebhook(payload: unknown): DotloopWebhookResolution | null {
  const p = parse(payload);
  const e = p.event;
  const type = p.eventType;
  const profileId = maybeId(e.profileId ?? p.profileId, "profileId");
  const base = {
    eventId: String(p.eventId),
    event: type,
    uri: null,
    occurredAt: instantOf(p.timestamp ?? p.createdOn),
    merged: null,
  };
  switch (type) {
    case "LOOP_CREATED":
    case "LOOP_UPDATED": {
      const id = exactId(e.id ?? e.loopId, "event.id");
      return {
        ...base,
        entity: "loops",
        ids: [id],
        deleted: false,
        path: { profileId, loopId: id },
        ...(profileId ? { records: [loopRecord(profileId, id)] } : {}),
      };
    }
    case "LOOP_MERGED": {
      const fromId = exactId(e.fromId, "event.fromId");
      const toId = exactId(e.toId ?? e.id, "event.toId");
      return {
        ...base,
        entity: "loops",
        ids: [toId],
        deleted: false,
        path: { profileId, loopId: toId },
        merged: { fromId, toId },
        // The retired id is fetched: it answers 301 to the survivor, which the engine follows, stages, and
        // records the old id as merged into it.
        ...(profileId ? { records: [loopRecord(profileId, fromId)] } : {}),
      };
    }
    case "LOOP_PARTICIPANT_CREATED":
    case "LOOP_PARTICIPANT_UPDATED":
    case "LOOP_PARTICIPANT_DELETED": {
      // Rendering (b) names the participant in participantId and the loop in id; (a) the participant in id.
      const participant = exactId(e.participantId ?? e.id, "event.participantId");
      const loopId = maybeId(e.loopId ?? (e.participantId != null ? e.id : null), "event.loopId");
      return {
        ...base,
        entity: "participants",
        ids: [participant],
        deleted: type === "LOOP_PARTICIPANT_DELETED",
        path: { profileId, loopId },
        ...(profileId && loopId
          ? {
              records: [
                {
                  id: participant,
                  path: `/profile/${profileId}/loop/${loopId}/participant/${participant}`,
                  stamp: { profileId, loopId },
                },
              ],
            }
          : {}),
      };
    }
    case "CONTACT_CREATED":
    case "CONTACT_UPDATED":
    case "CONTACT_DELETED": {
      const id = exactId(e.id, "event.id");
      return {
        ...base,
        entity: "contacts",
        ids: [id],
        deleted: type === "CONTACT_DELETED",
        path: {},
        records: [{ id, path: `/contact/${id}` }],
      };
    }
    case "PROFILE_UPDATED":
    case "USER_PROFILE_ACTIVATED":
    case "USER_PROFILE_DEACTIVATED":
    case "USER_ADDED_TO_PROFILE":
    case "USER_REMOVED_FROM_PROFILE": {
      // The profile whose record or whose access changed: fetched again (a profile we lost answers 403/404,
      // which the engine treats like any unreadable record); nothing is deleted by these events.
      const id = exactId(e.id ?? e.profileId ?? p.profileId, "event.id");
      return {
        ...base,
        entity: "profiles",
        ids: [id],
        deleted: false,
        path: { profileId: id },
        records: [{ id, path: `/profile/${id}` }],
      };
    }
    default:
      return null;
  }
}

/**
 * A loop at its own URL, asking for its details: the single-loop answer may not honour include_details, and a
 * loop without them has no detail-derived transaction fields until the next listing brings them (loops.ts).
 */
/**
 * A loop at its own URL, with its detail attached: the single-loop endpoint is not documented to honour
 * `include_details` (lists are), and a loop without its detail would leave its transaction without address,
 * price and dates. The detail is fetched at the loop's final path, so a merged loop's survivor brings its own.
 */
function loopRecord(profileId: string, id: string) {
  return {
    id,
    path: `/profile/${profileId}/loop/${id}?include_details=true`,
    attach: [{ field: "details", suffix: "/detail" }],
  };
}

/**
 * SUBSCRIPTION_REMOVED / SUBSCRIPTION_DISABLED: Dotloop stopped delivering (profile access lost, or removed
 * on its side) and does not re-enable it, so the connection's subscription must be created again.
 */
export function subscriptionLifecycleOf(
  payload: unknown,
): { subscriptionId: string | null; state: "removed" | "disabled" } | null {
  const p = parse(payload);
  if (p.eventType !== "SUBSCRIPTION_REMOVED" && p.eventType !== "SUBSCRIPTION_DISABLED") return null;
  const raw = p.event.id ?? p.subscriptionId;
  return {
    subscriptionId: raw == null ? null : String(raw),
    state: p.eventType === "SUBSCRIPTION_REMOVED" ? "removed" : "disabled",
  };
}

import { timingSafeEqual } from "../../core/signatures";
import type { WebhookResolution, WebhookScheme } from "../types";
import { idText } from "./records";

/**
 * Lofty signs nothing. Each connection's subscriptions carry a secret of its own in the callback URL
 * (`?secret=`), compared in constant time; and every payload is a hint: the records it names are fetched by id
 * before anything is written, so a forged delivery that guessed the URL could cause fetches, never a write.
 */
export const SECRET_PARAM = "secret";
export const LOFTY_CREDENTIALS = { apiKey: "apiKey", webhookSecret: "webhookSecret" } as const;

/** Lists we subscribe to: 2 lead info, 3 lead activity, 6 call, 9 note (listIds per the published table). */
export const LOFTY_LISTS = { lead: 2, activity: 3, call: 6, note: 9 } as const;
export const LOFTY_WEBHOOK_EVENTS = Object.values(LOFTY_LISTS).map((l) => `list-${l}`);

export function loftyWebhookScheme(secretField: string = LOFTY_CREDENTIALS.webhookSecret): WebhookScheme {
  return {
    name: "lofty-callback-secret",
    async verify({ url, credentials }) {
      let given: string | null = null;
      try {
        given = url ? new URL(url).searchParams.get(SECRET_PARAM) : null;
      } catch {
        given = null;
      }
      if (!given) return { ok: false, code: "missing_signature" };
      const expected = credentials[secretField];
      if (!expected) return { ok: false, code: "bad_signature" };
      return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, code: "bad_signature" };
    },
    // No event id is published: the body's hash names a delivery, so a redelivered batch is a duplicate.
    eventIdOf: () => null,
    eventTypeOf: (body) => {
      const list = listOf(firstItem(body), body);
      return list === null ? null : `list-${list}`;
    },
  };
}

type Item = Record<string, unknown>;

const isObject = (v: unknown): v is Item => v !== null && typeof v === "object" && !Array.isArray(v);

/** The per-list payloads are not published; a batch is an array, or an object holding one. */
const BATCH_KEYS = ["events", "data", "items", "leads", "list", "payload"];

/** The events of one delivery: a batch split into its items, each knowing its list. */
export function eventsOf(body: unknown): Item[] {
  if (Array.isArray(body)) return body.filter(isObject);
  if (!isObject(body)) return [];
  for (const key of BATCH_KEYS) {
    const v = body[key];
    if (Array.isArray(v)) return v.filter(isObject).map((e) => ({ listId: body.listId, ...e }));
  }
  return [body];
}

function firstItem(body: unknown): Item | null {
  return eventsOf(body)[0] ?? null;
}

function listOf(item: Item | null, body: unknown): number | null {
  const raw = item?.listId ?? (isObject(body) ? body.listId : undefined);
  const n = typeof raw === "string" ? Number(raw) : raw;
  return typeof n === "number" && Number.isInteger(n) ? n : null;
}

/** The lead ids an event names: `leadId`, `leadIds`, or a nested `lead`. Rounded or malformed ids are dropped. */
function leadIdsOf(item: Item): string[] {
  const out: (string | null)[] = [];
  if (item.leadId !== undefined) out.push(idText(item.leadId));
  if (Array.isArray(item.leadIds)) for (const id of item.leadIds) out.push(idText(id));
  if (isObject(item.lead)) out.push(idText(item.lead.leadId ?? item.lead.id));
  return out.filter((id): id is string => id !== null);
}

const PER_LIST: Record<number, { entity: string; path: (leadId: string) => string; byLead: boolean }> = {
  [LOFTY_LISTS.lead]: { entity: "leads", path: (id) => `/v1.0/leads/${id}`, byLead: false },
  [LOFTY_LISTS.activity]: {
    entity: "activities",
    path: (id) => `/v1.0/leads/${id}/activities`,
    byLead: true,
  },
  [LOFTY_LISTS.call]: { entity: "calls", path: (id) => `/v1.0/calls?leadId=${id}`, byLead: true },
  [LOFTY_LISTS.note]: { entity: "notes", path: (id) => `/v1.0/notes?leadId=${id}`, byLead: true },
};

/**
 * A delivery (one list, batched) → fetches: list 2 fetches each named lead at its own URL, and a lead Lofty no
 * longer serves (404: trashed or deleted) is that lead's delete; lists 3, 6 and 9 fetch the named leads'
 * activities, calls or notes (newest first). Whether the event said created, updated or deleted does not
 * matter: the fetch tells. Other lists name nothing we sync.
 */
export function resolveLoftyWebhook(payload: unknown): WebhookResolution | null {
  const events = eventsOf(payload);
  if (events.length === 0) throw new Error("the delivery holds no event");
  const list = listOf(events[0] ?? null, payload);
  const plan = list === null ? undefined : PER_LIST[list];
  if (!plan) return null;
  const ids = [...new Set(events.filter((e) => listOf(e, payload) === list).flatMap((e) => leadIdsOf(e)))];
  return {
    eventId: `list-${list}:${ids.slice(0, 20).join(",")}`,
    event: `list-${list}`,
    entity: plan.entity,
    ids,
    uri: null,
    deleted: false,
    occurredAt: null,
    records: ids.map((id) => ({
      id,
      path: plan.path(id),
      ...(plan.byLead ? { stamp: { leadId: id } } : {}),
    })),
    ...(plan.byLead ? {} : { goneIsDelete: true }),
  };
}

// FUB-style webhook delivery: a thin payload {eventId, eventCreated, event,
// resourceIds, uri}, signed with FUB-Signature (HMAC-SHA256 keyed with the
// system key over the base64 of the raw body), retried on non-2xx at the FUB
// schedule (1, 5, 5, 10, 30 minutes) compressed by the tenant's retry scale.

import { signFub } from "../../src/connectors/fub/signature";
import type { EntityName } from "./data";
import { HOSTILE_WEBHOOK_KINDS, type HostileWebhookKind, hostileWebhookBody } from "./hostile";
import { hash } from "./prng";
import type { SimRuntime } from "./runtime";
import type { Tenant, WebhookRegistration } from "./tenant";

export const RETRY_SCHEDULE_MIN = [1, 5, 5, 10, 30] as const;
export const DELIVERY_TIMEOUT_MS = 10_000;
/** resourceIds per event; a bigger batch is split into several events, like FUB */
export const MAX_IDS_PER_EVENT = 100;

/** Entities whose changes FUB announces with `<entity>Created/Updated/Deleted` (users: a sim extension). */
const PLURAL_EVENT_ENTITIES: readonly EntityName[] = [
  "people",
  "deals",
  "events",
  "calls",
  "textMessages",
  "appointments",
  "users",
];

export const WEBHOOK_EVENTS: readonly string[] = [
  ...PLURAL_EVENT_ENTITIES.flatMap((e) => [`${e}Created`, `${e}Updated`, `${e}Deleted`]),
  "peopleStageUpdated",
  "stageCreated",
  "stageUpdated",
  "stageDeleted",
];

/** The event a change of an entity fires: stages use FUB's singular names, groups fire none. */
export function eventName(entity: EntityName, change: "Created" | "Updated" | "Deleted"): string | null {
  if (entity === "stages") return `stage${change}`;
  if (!PLURAL_EVENT_ENTITIES.includes(entity)) return null;
  return `${entity}${change}`;
}

export interface EmittedEvent {
  event: string;
  entity: EntityName;
  ids: number[];
}

export interface WebhookPayload {
  eventId: string;
  eventCreated: string;
  event: string;
  resourceIds: number[];
  uri: string;
}

export function resourceUri(base: string, entity: EntityName, ids: number[]): string {
  return ids.length === 1 ? `${base}/v1/${entity}/${ids[0]}` : `${base}/v1/${entity}?id=${ids.join(",")}`;
}

function eventId(seed: number, seq: number): string {
  const hex = [hash(seed, 0xe1, seq), hash(seed, 0xe2, seq), hash(seed, 0xe3, seq), hash(seed, 0xe4, seq)]
    .map((n) => n.toString(16).padStart(8, "0"))
    .join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** FUB writes eventCreated with an explicit +00:00 offset. */
function eventCreated(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

interface Job {
  hook: WebhookRegistration;
  payload: { eventId: string; event: string };
  body: string | Uint8Array;
  duplicate: boolean;
  /** a hostile body is sent once to a given url, whatever the registrations */
  url?: string;
}

/** Build the payloads of one mutation batch and deliver them to every matching registration. */
export function dispatch(rt: SimRuntime, tenant: Tenant, events: EmittedEvent[]): WebhookPayload[] {
  const payloads: WebhookPayload[] = [];
  const now = rt.now();
  for (const ev of events) {
    for (let k = 0; k < ev.ids.length; k += MAX_IDS_PER_EVENT) {
      const ids = ev.ids.slice(k, k + MAX_IDS_PER_EVENT);
      payloads.push({
        eventId: eventId(tenant.seed, ++tenant.eventSeq),
        eventCreated: eventCreated(now),
        event: ev.event,
        resourceIds: ids,
        uri: resourceUri(rt.baseUrl(), ev.entity, ids),
      });
    }
  }
  const jobs: Job[] = [];
  for (const payload of payloads) {
    for (const hook of tenant.webhooks.values()) {
      if (hook.status !== "Active" || hook.event !== payload.event) continue;
      jobs.push({ hook, payload, body: JSON.stringify(payload), duplicate: false });
    }
  }
  if (jobs.length === 0) return payloads;
  const faults = tenant.faults.config;
  const rng = tenant.faults.webhookRng(tenant.eventSeq);
  const all: Job[] = [];
  for (const job of jobs) {
    tenant.stats.webhooks.events++;
    all.push(job);
    if (rng.chance(faults.webhookDuplicateRate ?? 0)) {
      tenant.stats.webhooks.duplicates++;
      all.push({ ...job, duplicate: true });
    }
  }
  if (faults.webhookReorder) {
    rng.shuffle(all);
    for (const job of all) rt.setTimer(() => void deliver(rt, tenant, job, 1), rng.int(200));
  } else {
    // Sequential per batch so delivery order is the event order.
    void (async () => {
      for (const job of all) await deliver(rt, tenant, job, 1);
    })();
  }
  return payloads;
}

async function deliver(rt: SimRuntime, tenant: Tenant, job: Job, attempt: number): Promise<void> {
  if (!job.url && !tenant.webhooks.has(job.hook.id)) return; // unregistered meanwhile
  const w = tenant.stats.webhooks;
  w.attempts++;
  let status: number | null = null;
  let error: string | undefined;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), DELIVERY_TIMEOUT_MS);
  try {
    const signature = await signFub(job.body, tenant.systemKey);
    const res = await rt.fetch(job.url ?? job.hook.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "FUB-Signature": signature },
      body: job.body as BodyInit,
      signal: ctrl.signal,
    });
    status = res.status;
    await res.arrayBuffer().catch(() => undefined);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
  tenant.logDelivery({
    eventId: job.payload.eventId,
    event: job.payload.event,
    webhookId: job.hook.id,
    url: job.url ?? job.hook.url,
    attempt,
    status,
    ...(error ? { error } : {}),
    at: new Date(rt.now()).toISOString(),
    ...(job.duplicate ? { duplicate: true } : {}),
  });
  if (status !== null && status >= 200 && status < 300) {
    w.acknowledged++;
    return;
  }
  w.failedAttempts++;
  const delayMin = RETRY_SCHEDULE_MIN[attempt - 1];
  if (delayMin === undefined) {
    w.gaveUp++;
    return;
  }
  rt.setTimer(() => void deliver(rt, tenant, job, attempt + 1), delayMin * 60_000 * tenant.webhookRetryScale);
}

export interface HostileWebhookRequest {
  /** default: every kind */
  kinds?: HostileWebhookKind[];
  /** deliver here instead of to the Active registrations of the (otherwise valid) event */
  url?: string;
  /** the event whose registrations receive the bodies (default peopleUpdated) */
  event?: string;
  /** records the bodies name (default: person 1) */
  resourceIds?: number[];
}

export interface HostileWebhookSent {
  kind: HostileWebhookKind;
  eventId: string;
  event: string;
  uri: string;
  bytes: number;
  /** where it went */
  urls: string[];
}

/**
 * Signed deliveries whose body is hostile, one per kind, each to every Active registration of
 * `event` (or to `url`). Retried like any delivery; the delivery log records them.
 */
export function sendHostileWebhooks(
  rt: SimRuntime,
  tenant: Tenant,
  req: HostileWebhookRequest,
): HostileWebhookSent[] {
  const event = req.event ?? "peopleUpdated";
  const entity = (PLURAL_EVENT_ENTITIES.find((e) => event.startsWith(e)) ??
    (event.startsWith("stage") ? "stages" : "people")) as EntityName;
  const ids = req.resourceIds ?? [1];
  const sent: HostileWebhookSent[] = [];
  const jobs: Job[] = [];
  for (const kind of req.kinds ?? HOSTILE_WEBHOOK_KINDS) {
    const h = hostileWebhookBody(kind, {
      eventId: eventId(tenant.seed, ++tenant.eventSeq),
      eventCreated: eventCreated(rt.now()),
      event,
      resourceIds: ids,
      uri: resourceUri(rt.baseUrl(), entity, ids),
    });
    const targets = req.url
      ? [
          {
            hook: { id: 0, event, url: req.url, status: "Active" as const, system: null, created: "" },
            url: req.url,
          },
        ]
      : [...tenant.webhooks.values()]
          .filter((w) => w.status === "Active" && w.event === event)
          .map((hook) => ({ hook, url: undefined }));
    for (const t of targets) {
      tenant.stats.webhooks.events++;
      jobs.push({
        hook: t.hook,
        payload: { eventId: h.eventId, event: h.event },
        body: h.body,
        duplicate: false,
        ...(t.url ? { url: t.url } : {}),
      });
    }
    sent.push({
      kind,
      eventId: h.eventId,
      event: h.event,
      uri: h.uri,
      bytes: h.body.length,
      urls: targets.map((t) => t.url ?? t.hook.url),
    });
  }
  void (async () => {
    for (const job of jobs) await deliver(rt, tenant, job, 1);
  })();
  return sent;
}

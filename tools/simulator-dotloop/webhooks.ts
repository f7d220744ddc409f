// Dotloop webhook subscriptions and deliveries: the 16 published event types, ids-only
// payloads, at-least-once POSTs with a 5 s timeout and the published retry schedule, signed
// with HMAC-SHA1 keyed by the subscription's signingKey.

import type { SimRuntime } from "../simulator/runtime";
import type { SignatureMode, User } from "./user";

export const PROFILE_EVENTS = [
  "LOOP_CREATED",
  "LOOP_UPDATED",
  "LOOP_MERGED",
  "LOOP_PARTICIPANT_CREATED",
  "LOOP_PARTICIPANT_UPDATED",
  "LOOP_PARTICIPANT_DELETED",
] as const;
export const USER_EVENTS = [
  "CONTACT_CREATED",
  "CONTACT_UPDATED",
  "CONTACT_DELETED",
  "PROFILE_UPDATED",
  "USER_PROFILE_ACTIVATED",
  "USER_PROFILE_DEACTIVATED",
  "USER_ADDED_TO_PROFILE",
  "USER_REMOVED_FROM_PROFILE",
] as const;
export const LIFECYCLE_EVENTS = ["SUBSCRIPTION_REMOVED", "SUBSCRIPTION_DISABLED"] as const;
export const EVENT_TYPES: readonly string[] = [...PROFILE_EVENTS, ...USER_EVENTS, ...LIFECYCLE_EVENTS];

/** Published: 30 s, 1 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, then FAILED. */
export const RETRY_SCHEDULE_SEC = [30, 60, 900, 1800, 3600, 7200, 14400, 28800] as const;
export const DELIVERY_TIMEOUT_MS = 5_000;
/** Published: delivered events are kept 90 days. */
export const EVENT_RETENTION_MS = 90 * 86_400_000;

export interface Subscription {
  id: number;
  clientId: string;
  userId: number;
  targetType: "PROFILE" | "USER";
  targetId: number;
  url: string;
  eventTypes: string[];
  signingKey: string | null;
  externalId: string | null;
  enabled: boolean;
  createdOn: string;
  updatedOn: string;
  events: EventRecord[];
}

export interface EventRecord {
  id: string;
  eventType: string;
  createdOn: string;
  at: number;
  status: "PENDING" | "DELIVERED" | "FAILED";
  attempts: number;
  payload: Record<string, unknown>;
}

/** What a change emits: an event type, the profile it concerns (PROFILE target) and its ids. */
export interface Emitted {
  eventType: string;
  profileId?: number;
  event: Record<string, number>;
}

/** The subscription as the API shows it (the signing key is never echoed: choice). */
export function publicSubscription(s: Subscription): Record<string, unknown> {
  return {
    id: s.id,
    targetType: s.targetType,
    targetId: s.targetId,
    url: s.url,
    eventTypes: s.eventTypes,
    externalId: s.externalId,
    enabled: s.enabled,
    signed: s.signingKey !== null,
    createdOn: s.createdOn,
    updatedOn: s.updatedOn,
  };
}

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The text X-DOTLOOP-SIGNATURE signs under a mode. */
export function signedText(mode: SignatureMode, timestamp: string, rawBody: string): string {
  return mode === "body" ? rawBody : `${timestamp}.${rawBody}`;
}

/** Lower-case hex HMAC-SHA1 of text keyed by the signing key (UTF-8 both). */
export async function signDotloop(signingKey: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(signingKey),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
}

function matches(s: Subscription, user: User, e: Emitted): boolean {
  if (!s.enabled || s.userId !== user.id || !s.eventTypes.includes(e.eventType)) return false;
  if ((PROFILE_EVENTS as readonly string[]).includes(e.eventType)) {
    return s.targetType === "PROFILE" && s.targetId === e.profileId;
  }
  if ((USER_EVENTS as readonly string[]).includes(e.eventType)) {
    return s.targetType === "USER" && s.targetId === user.id;
  }
  return true;
}

interface Job {
  sub: Subscription;
  record: EventRecord;
  body: string;
  duplicate: boolean;
}

export function eventIdOf(user: User, seq: number): string {
  const h = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  const a = h(user.seed ^ 0x5eed);
  const b = h(seq);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${a.slice(1, 4)}-${h(user.id)}${b.slice(0, 4)}`;
}

/**
 * Payload (choice, the official body is unknown): `{eventId, eventType, timestamp (epoch ms),
 * subscriptionId, subscriptionExternalId, targetType, targetId, event: {id, ...ids}}`.
 */
export function payloadOf(
  sub: Subscription,
  eventId: string,
  at: number,
  e: Emitted,
): Record<string, unknown> {
  return {
    eventId,
    eventType: e.eventType,
    timestamp: at,
    subscriptionId: sub.id,
    subscriptionExternalId: sub.externalId,
    targetType: sub.targetType,
    targetId: sub.targetId,
    event: e.event,
  };
}

/** Queue deliveries of the emitted events to every matching subscription (sequential, in order). */
export function dispatch(
  rt: SimRuntime,
  user: User,
  subs: Iterable<Subscription>,
  emitted: Emitted[],
): number {
  const now = rt.now();
  const jobs: Job[] = [];
  const all = [...subs];
  for (const e of emitted) {
    for (const sub of all) {
      if (!matches(sub, user, e)) continue;
      const id = eventIdOf(user, ++user.eventSeq);
      const payload = payloadOf(sub, id, now, e);
      const record: EventRecord = {
        id,
        eventType: e.eventType,
        createdOn: new Date(now).toISOString(),
        at: now,
        status: "PENDING",
        attempts: 0,
        payload,
      };
      sub.events.push(record);
      while (sub.events.length > 0 && (sub.events[0] as EventRecord).at < now - EVENT_RETENTION_MS)
        sub.events.shift();
      jobs.push({ sub, record, body: JSON.stringify(payload), duplicate: false });
    }
  }
  if (jobs.length === 0) return 0;
  const rng = user.faults.webhookRng(user.eventSeq);
  const queue: Job[] = [];
  for (const j of jobs) {
    user.stats.webhooks.events++;
    queue.push(j);
    if (rng.chance(user.faults.config.webhookDuplicateRate ?? 0)) {
      user.stats.webhooks.duplicates++;
      queue.push({ ...j, duplicate: true });
    }
  }
  void (async () => {
    for (const j of queue) await deliver(rt, user, j, 1);
  })();
  return jobs.length;
}

async function deliver(rt: SimRuntime, user: User, job: Job, attempt: number): Promise<void> {
  const w = user.stats.webhooks;
  w.attempts++;
  job.record.attempts++;
  let status: number | null = null;
  let error: string | undefined;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), DELIVERY_TIMEOUT_MS);
  try {
    const dropRate = user.faults.config.webhookDropRate ?? 0;
    if (dropRate > 0 && user.faults.webhookRng(user.eventSeq * 31 + w.attempts).chance(dropRate)) {
      throw new Error("dropped by fault knob");
    }
    // Timestamp header in epoch seconds (choice: the one source that names a unit says seconds).
    const timestamp = String(Math.floor(rt.now() / 1000));
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-DOTLOOP-TIMESTAMP": timestamp,
    };
    if (job.sub.signingKey !== null) {
      headers["X-DOTLOOP-SIGNATURE"] = await signDotloop(
        job.sub.signingKey,
        signedText(user.signatureMode, timestamp, job.body),
      );
    }
    const res = await rt.fetch(job.sub.url, { method: "POST", headers, body: job.body, signal: ctrl.signal });
    status = res.status;
    await res.arrayBuffer().catch(() => undefined);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
  user.logDelivery({
    eventId: job.record.id,
    eventType: job.record.eventType,
    subscriptionId: job.sub.id,
    url: job.sub.url,
    attempt,
    status,
    ...(error ? { error } : {}),
    at: new Date(rt.now()).toISOString(),
    ...(job.duplicate ? { duplicate: true as const } : {}),
  });
  if (status !== null && status >= 200 && status < 300) {
    w.acknowledged++;
    job.record.status = "DELIVERED";
    return;
  }
  w.failedAttempts++;
  const delaySec = RETRY_SCHEDULE_SEC[attempt - 1];
  if (delaySec === undefined) {
    w.failed++;
    job.record.status = "FAILED";
    return;
  }
  rt.setTimer(
    () => {
      // A subscription deleted or disabled meanwhile gets no more attempts (choice).
      if (!job.sub.enabled) return;
      void deliver(rt, user, job, attempt + 1);
    },
    delaySec * 1000 * user.webhookRetryScale,
  );
}

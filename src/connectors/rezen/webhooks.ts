import type { Credentials, SubscriptionContext, WebhookResolution } from "../types";
import { arrakis, yenta } from "./hosts";

/**
 * reZEN publishes no webhook mechanism (the system this replaces had one, partner-configured). Our documented
 * choice: Standard Webhooks (`webhook-id` / `webhook-timestamp` / `webhook-signature`, secret `whsec_…`), a
 * registration `POST arrakis /webhooks {url, events}` answering `{id, secret}`, and payloads
 * `{type, timestamp, data: {id}}` naming a transaction, resolved to a fetch of its detail.
 */
export const REZEN_CREDENTIALS = {
  apiKey: "apiKey",
  webhookSecret: "webhookSecret",
  webhookId: "webhookId",
  /** The key's own agent id, stored on connect: the reconciliation's count is asked per participant. */
  yentaId: "yentaId",
} as const;

export const REZEN_WEBHOOK_EVENTS = [
  "TRANSACTION_CREATED",
  "TRANSACTION_UPDATED",
  "TRANSACTION_TERMINATED",
] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function str(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 ? v : null;
}

/** An event names one transaction: its detail is fetched at its own URL (reZEN has no by-id list). */
export function resolveRezenWebhook(payload: unknown): WebhookResolution | null {
  if (!payload || typeof payload !== "object") throw new Error("payload is not an object");
  const p = payload as { type?: unknown; timestamp?: unknown; data?: unknown };
  const type = str(p.type);
  if (!type) throw new Error("payload has no type");
  if (!type.startsWith("TRANSACTION_")) return null;
  const data = p.data && typeof p.data === "object" ? (p.data as Record<string, unknown>) : null;
  const id = str(data?.id ?? data?.transactionId);
  if (!id || !UUID.test(id)) throw new Error("payload names no transaction id");
  const tid = id.toLowerCase();
  const at = str(p.timestamp);
  return {
    eventId: `${type}:${tid}:${at ?? ""}`,
    event: type,
    entity: "transactions",
    ids: [tid],
    uri: null,
    // reZEN never deletes a transaction: a terminated one is fetched and stored in TERMINATED.
    deleted: false,
    occurredAt: at,
    records: [{ id: tid, path: arrakis(`/transactions/${tid}`) }],
  };
}

/**
 * Runs when a key connection is created: learns the key's agent (its yentaId, kept with the credentials for the
 * reconciliation's per-participant count), then registers this connection's callback, whose answer's secret
 * signs its deliveries.
 */
export async function subscribeRezen(ctx: SubscriptionContext): Promise<Credentials> {
  const me = await ctx.call(yenta("/agents/me"));
  const yentaId =
    me.body && typeof me.body === "object" ? str((me.body as Record<string, unknown>).id) : null;
  if (me.status !== 200 || !yentaId || !UUID.test(yentaId))
    throw new Error(`GET ${yenta("/agents/me")} answered HTTP ${me.status}`);
  const res = await ctx.call(arrakis("/webhooks"), {
    method: "POST",
    body: { url: ctx.webhookUrl, events: REZEN_WEBHOOK_EVENTS },
  });
  const body = res.body && typeof res.body === "object" ? (res.body as Record<string, unknown>) : {};
  const id = str(body.id);
  const secret = str(body.secret);
  if ((res.status !== 200 && res.status !== 201) || !id || !secret)
    throw new Error(`POST ${arrakis("/webhooks")} answered HTTP ${res.status}`);
  return {
    [REZEN_CREDENTIALS.yentaId]: yentaId.toLowerCase(),
    [REZEN_CREDENTIALS.webhookId]: id,
    [REZEN_CREDENTIALS.webhookSecret]: secret,
  };
}

export async function unsubscribeRezen(ctx: SubscriptionContext): Promise<void> {
  const id = ctx.credentials[REZEN_CREDENTIALS.webhookId];
  if (!id || !/^[A-Za-z0-9-]{1,64}$/.test(id)) return;
  const res = await ctx.call(arrakis(`/webhooks/${id}`), { method: "DELETE" });
  if (res.status !== 200 && res.status !== 204 && res.status !== 404)
    throw new Error(`webhook removal answered HTTP ${res.status}`);
}

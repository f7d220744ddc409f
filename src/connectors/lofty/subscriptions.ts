import type { Credentials, SubscriptionContext } from "../types";
import { LOFTY_CREDENTIALS, LOFTY_LISTS, SECRET_PARAM } from "./webhooks";

/** Credential field holding the subscription ids we created (comma-separated), so a delete can remove them. */
export const SUBSCRIPTION_IDS = "subscribeIds";

/** Notifications Lofty may batch per 30 minutes for each subscription (its maximum). */
export const WEBHOOK_LIMIT = 5000;

function subscribeIdOf(body: unknown): string | null {
  const id = body && typeof body === "object" ? (body as { subscribeId?: unknown }).subscribeId : undefined;
  return typeof id === "number" || (typeof id === "string" && /^\d+$/.test(id)) ? String(id) : null;
}

/**
 * One subscription per list we sync (`POST /v1.0/webhook`), all to this connection's callback URL carrying a
 * fresh secret (Lofty signs nothing: the secret in the URL is what tells our deliveries from forged ones).
 * Throws when Lofty refuses, after removing what it had created.
 */
export async function subscribeLofty(ctx: SubscriptionContext): Promise<Credentials> {
  const secret = ctx.randomSecret();
  const url = new URL(ctx.webhookUrl);
  url.searchParams.set(SECRET_PARAM, secret);
  const created: string[] = [];
  for (const listId of Object.values(LOFTY_LISTS)) {
    const res = await ctx.call("/v1.0/webhook", {
      method: "POST",
      body: { listId, callbackUrl: url.toString(), limit: WEBHOOK_LIMIT },
    });
    const id = res.status === 200 || res.status === 201 ? subscribeIdOf(res.body) : null;
    if (!id) {
      await unsubscribeLofty({ ...ctx, credentials: { [SUBSCRIPTION_IDS]: created.join(",") } }).catch(
        () => {},
      );
      throw new Error(`POST /v1.0/webhook (list ${listId}) answered HTTP ${res.status}`);
    }
    created.push(id);
  }
  return { [LOFTY_CREDENTIALS.webhookSecret]: secret, [SUBSCRIPTION_IDS]: created.join(",") };
}

export async function unsubscribeLofty(ctx: SubscriptionContext): Promise<void> {
  const ids = (ctx.credentials[SUBSCRIPTION_IDS] ?? "").split(",").filter((id) => /^\d+$/.test(id));
  const failed: number[] = [];
  for (const id of ids.slice(0, Object.keys(LOFTY_LISTS).length)) {
    const res = await ctx.call(`/v1.0/webhook/${id}`, { method: "DELETE" });
    if (res.status !== 200 && res.status !== 204 && res.status !== 404) failed.push(res.status);
  }
  if (failed.length > 0) throw new Error(`webhook removal answered HTTP ${failed.join(", ")}`);
}

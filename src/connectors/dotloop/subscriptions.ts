import type { Credentials, SubscriptionContext } from "../types";
import { DOTLOOP_CREDENTIALS } from "./oauth";
import { DOTLOOP_LIFECYCLE_EVENTS, DOTLOOP_PROFILE_EVENTS, DOTLOOP_USER_EVENTS } from "./webhooks";

/** Profiles subscribed per connection at most: every one is a call on the user's 100/min budget. */
export const MAX_SUBSCRIBED_PROFILES = 20;

/** Credential field holding the subscription ids we created (comma-separated), so a delete can remove them. */
export const SUBSCRIPTION_IDS = "subscriptionIds";

function dataOf(body: unknown): unknown {
  return body && typeof body === "object" ? (body as { data?: unknown }).data : undefined;
}

function idOf(v: unknown): string | null {
  const id = v && typeof v === "object" ? (v as { id?: unknown }).id : undefined;
  return typeof id === "number" || (typeof id === "string" && /^\d+$/.test(id)) ? String(id) : null;
}

/**
 * Subscriptions of a connection just authorised: one USER subscription (contacts, profiles, lifecycle) and one
 * PROFILE subscription per profile (loops and participants), all signed with one fresh key. Also reads the
 * user id (GET /account), what the rate limit counts by. Throws when Dotloop refuses: the connection would
 * otherwise take no webhooks without anyone knowing.
 */
export async function subscribeDotloop(ctx: SubscriptionContext): Promise<Credentials> {
  const account = await ctx.call("/account");
  const userId = account.status === 200 ? idOf(dataOf(account.body)) : null;
  if (!userId) throw new Error(`GET /account answered HTTP ${account.status} without a user id`);
  const listed = await ctx.call("/profile");
  const profiles = Array.isArray(dataOf(listed.body)) ? (dataOf(listed.body) as unknown[]) : [];
  const profileIds = profiles
    .map(idOf)
    .filter((id): id is string => id !== null)
    .slice(0, MAX_SUBSCRIBED_PROFILES);
  const signingKey = ctx.randomSecret();
  const targets = [
    { targetType: "USER", targetId: Number(userId), events: [...DOTLOOP_USER_EVENTS] },
    ...profileIds.map((id) => ({
      targetType: "PROFILE",
      targetId: Number(id),
      events: [...DOTLOOP_PROFILE_EVENTS],
    })),
  ];
  const created: string[] = [];
  for (const t of targets) {
    const res = await ctx.call("/subscription", {
      method: "POST",
      body: {
        targetType: t.targetType,
        targetId: t.targetId,
        url: ctx.webhookUrl,
        eventTypes: [...t.events, ...DOTLOOP_LIFECYCLE_EVENTS],
        signingKey,
        enabled: true,
      },
    });
    const id = res.status === 201 || res.status === 200 ? idOf(dataOf(res.body)) : null;
    if (!id) {
      await unsubscribeDotloop({ ...ctx, credentials: { [SUBSCRIPTION_IDS]: created.join(",") } });
      throw new Error(`POST /subscription (${t.targetType}) answered HTTP ${res.status}`);
    }
    created.push(id);
  }
  return {
    [DOTLOOP_CREDENTIALS.userId]: userId,
    [DOTLOOP_CREDENTIALS.webhookSigningKey]: signingKey,
    [SUBSCRIPTION_IDS]: created.join(","),
  };
}

/** Removes the subscriptions a connection holds: one bounded call each, failures left to the caller's log. */
export async function unsubscribeDotloop(ctx: SubscriptionContext): Promise<void> {
  const ids = (ctx.credentials[SUBSCRIPTION_IDS] ?? "").split(",").filter((id) => /^\d+$/.test(id));
  const failed: number[] = [];
  for (const id of ids.slice(0, MAX_SUBSCRIBED_PROFILES + 1)) {
    const res = await ctx.call(`/subscription/${id}`, { method: "DELETE" });
    if (res.status !== 204 && res.status !== 200 && res.status !== 404) failed.push(res.status);
  }
  if (failed.length > 0) throw new Error(`subscription removal answered HTTP ${failed.join(", ")}`);
}

import type { Connector, Credentials, SubscriptionContext } from "../connectors/types";
import { randomToken } from "../core/crypto";

/** Each call of a subscription hook: bounded, so a slow provider can't hold the callback or a delete. */
const CALL_TIMEOUT_MS = 10_000;
/** Calls one hook may make; past this it fails (a provider listing hundreds of targets is subscribed elsewhere). */
const MAX_CALLS = 30;

/**
 * The context a connector's subscribe/unsubscribe hook runs with: authenticated JSON calls on the connection's
 * API base URL (bearer access token), each bounded in time and in number.
 */
export function subscriptionContext(args: {
  fetch: typeof fetch;
  /** The URL as sent (the service's host for a provider on several hosts): Connector.sendUrl. */
  sendUrl?: (url: string) => string;
  baseUrl: string;
  accessToken: string;
  credentials: Credentials;
  webhookUrl: string;
  /** The connector's own auth headers (a static key), sent instead of the bearer token when given. */
  headers?: Record<string, string>;
}): SubscriptionContext {
  let calls = 0;
  const base = args.baseUrl.endsWith("/") ? args.baseUrl : `${args.baseUrl}/`;
  return {
    credentials: args.credentials,
    webhookUrl: args.webhookUrl,
    randomSecret: () => randomToken(32),
    async call(path, init = {}) {
      if (++calls > MAX_CALLS) throw new Error(`more than ${MAX_CALLS} subscription calls`);
      const url = new URL(path.replace(/^\//, ""), base);
      if (url.origin !== new URL(base).origin) throw new Error("a subscription call leaves the API origin");
      const response = await args.fetch(args.sendUrl ? args.sendUrl(url.toString()) : url.toString(), {
        method: init.method ?? "GET",
        headers: {
          Authorization: `Bearer ${args.accessToken}`,
          Accept: "application/json",
          ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...(args.headers ?? {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        redirect: "manual",
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const text = await response.text().catch(() => "");
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      return { status: response.status, body };
    },
  };
}

export type Unsubscription =
  | { status: "removed" }
  | { status: "not_applicable" }
  | { status: "failed"; reason: string };

/** Runs a connector's unsubscribe hook: best effort, never thrown; the reason names no secret. */
export async function unsubscribeWebhooks(
  connector: Connector,
  ctx: SubscriptionContext | null,
): Promise<Unsubscription> {
  const hook = connector.webhooks?.unsubscribe;
  if (!hook || !ctx) return { status: "not_applicable" };
  try {
    await hook(ctx);
    return { status: "removed" };
  } catch (error) {
    return { status: "failed", reason: error instanceof Error ? error.message.slice(0, 200) : "error" };
  }
}

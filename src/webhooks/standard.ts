import type { Credentials, WebhookScheme } from "../connectors/types";
import { verifyStandardWebhook } from "../core/signatures";

export const SIGNATURE_TOLERANCE_SEC = 300;

function field(body: unknown, key: string): string | null {
  if (!body || typeof body !== "object") return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : null;
}

/** Secrets during rotation: credentials.webhookSecret may hold several, separated by spaces or commas. */
export function standardSecrets(credentials: Credentials, secretField = "webhookSecret"): string[] {
  return (credentials[secretField] ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Standard Webhooks (standardwebhooks.com): providers without a scheme of their own, and our simulator. */
export function standardWebhookScheme(secretField = "webhookSecret"): WebhookScheme {
  return {
    name: "standard",
    async verify({ rawBody, headers, credentials, nowSec }) {
      const secrets = standardSecrets(credentials, secretField);
      const id = headers.get("webhook-id");
      const timestamp = headers.get("webhook-timestamp");
      const signature = headers.get("webhook-signature");
      if (secrets.length === 0 || !id || !timestamp || !signature)
        return { ok: false, code: "missing_signature" };
      const result = await verifyStandardWebhook({
        secrets,
        id,
        timestamp,
        signature,
        rawBody,
        nowSec,
        toleranceSec: SIGNATURE_TOLERANCE_SEC,
      });
      if (result.ok) return { ok: true };
      return { ok: false, code: result.reason === "missing_headers" ? "missing_signature" : result.reason };
    },
    // webhook-id is signed and stays the same across the sender's retries: exactly what dedupe needs.
    eventIdOf: (_body, headers) => headers.get("webhook-id"),
    eventTypeOf: (body) => field(body, "type") ?? field(body, "event") ?? field(body, "eventType"),
  };
}

import { signStandardWebhook } from "../core/signatures";

/**
 * Standard Webhooks headers for a body (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (seconds)
 * and `webhook-signature` = `v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`. The secret is the
 * `whsec_<base64>` form (or bare base64), as the receiver's verifier expects.
 */
export async function standardWebhookHeaders(
  secret: string,
  id: string,
  timestampSec: number,
  body: string,
): Promise<Record<string, string>> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": await signStandardWebhook(secret, id, timestampSec, body),
  };
}

// Which scheme verifies a provider's webhooks. A connector declares its own (`webhooks.verification`); the
// registry may name schemes of providers whose connector is not written yet. Only the generic Standard
// Webhooks scheme lives in the engine. A provider with neither has no webhook endpoint (404).

import { connectorFor, knownProviders, webhookOnlySchemes } from "../connectors/registry";
import type { WebhookScheme } from "../connectors/types";

export type { HeaderReader, VerifyInput, VerifyResult, WebhookScheme } from "../connectors/types";
export { SIGNATURE_TOLERANCE_SEC, standardSecrets, standardWebhookScheme } from "./standard";

export function webhookSchemeFor(provider: string): WebhookScheme | null {
  if (knownProviders().includes(provider)) return connectorFor(provider).webhooks?.verification ?? null;
  const schemes = webhookOnlySchemes();
  return Object.hasOwn(schemes, provider) ? (schemes[provider] ?? null) : null;
}

// How each provider signs its webhooks and names its events. Keyed by provider so a connector needs no
// webhook code of its own; a provider missing here has no webhook endpoint (404).

import { connectorFor, knownProviders } from "../connectors/registry";
import type { Credentials } from "../connectors/types";
import { verifyDotloop, verifyFub, verifyStandardWebhook } from "../core/signatures";

export const SIGNATURE_TOLERANCE_SEC = 300;

export type HeaderReader = { get(name: string): string | null };

export type VerifyInput = {
  rawBody: Uint8Array;
  headers: HeaderReader;
  credentials: Credentials;
  nowSec: number;
};

export type VerifyResult =
  | { ok: true }
  | { ok: false; code: "missing_signature" | "bad_signature" | "stale_timestamp" };

export interface WebhookScheme {
  name: "fub" | "dotloop" | "standard";
  verify(input: VerifyInput): Promise<VerifyResult>;
  /** The sender's id for the event, if it gives one; the caller falls back to a hash of the raw body. */
  eventIdOf(body: unknown, headers: HeaderReader): string | null;
  eventTypeOf(body: unknown): string | null;
}

function field(body: unknown, key: string): string | null {
  if (!body || typeof body !== "object") return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : null;
}

/** Follow Up Boss: FUB-Signature keyed with the connection's system key (credentials.systemKey). */
const fub = (secretField = "systemKey"): WebhookScheme => ({
  name: "fub",
  async verify({ rawBody, headers, credentials }) {
    const header = headers.get("FUB-Signature");
    const key = credentials[secretField];
    if (!header || !key) return { ok: false, code: "missing_signature" };
    return (await verifyFub(rawBody, header, key)) ? { ok: true } : { ok: false, code: "bad_signature" };
  },
  eventIdOf: (body) => field(body, "eventId"),
  eventTypeOf: (body) => field(body, "event"),
});

/** Accepts epoch seconds or milliseconds: Dotloop's unit is not documented. */
function timestampSec(raw: string): number | null {
  if (!/^\d{1,16}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return n > 1e12 ? Math.floor(n / 1000) : n;
}

/**
 * Dotloop: X-DOTLOOP-SIGNATURE, hex HMAC-SHA1 of the raw body with the subscription's signing key
 * (credentials.webhookSigningKey). The timestamp is NOT part of the signed text (our reading of the public
 * docs, see src/core/signatures.ts), so it proves nothing by itself; we still require it and reject it
 * outside ±5 minutes, and event-id dedupe stops a replay inside that window from having a second effect.
 */
const dotloop = (secretField = "webhookSigningKey"): WebhookScheme => ({
  name: "dotloop",
  async verify({ rawBody, headers, credentials, nowSec }) {
    const header = headers.get("X-DOTLOOP-SIGNATURE");
    const stamp = headers.get("X-DOTLOOP-TIMESTAMP");
    const key = credentials[secretField];
    if (!header || !stamp || !key) return { ok: false, code: "missing_signature" };
    const ts = timestampSec(stamp);
    if (ts === null || Math.abs(nowSec - ts) > SIGNATURE_TOLERANCE_SEC)
      return { ok: false, code: "stale_timestamp" };
    return (await verifyDotloop(rawBody, header, key)) ? { ok: true } : { ok: false, code: "bad_signature" };
  },
  eventIdOf: (body) => field(body, "eventId"),
  eventTypeOf: (body) => field(body, "eventType"),
});

/** Secrets during rotation: credentials.webhookSecret may hold several, separated by spaces or commas. */
export function standardSecrets(credentials: Credentials, secretField = "webhookSecret"): string[] {
  return (credentials[secretField] ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Standard Webhooks (standardwebhooks.com): providers without a scheme of their own, and our simulator. */
const standard = (secretField = "webhookSecret"): WebhookScheme => ({
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
});

const byVerification = { fub, dotloop, standard } as const;

/** Providers we take webhooks from that have no connector (yet): Dotloop's own scheme, the rest Standard Webhooks. */
const withoutConnector: Record<string, WebhookScheme> = {
  dotloop: dotloop(),
  lofty: standard(),
  skyslope: standard(),
  rezen: standard(),
  opentoclose: standard(),
  simulator: standard(),
};

/** A connector's own declaration wins (scheme and the credential holding the secret); null: no endpoint. */
export function webhookSchemeFor(provider: string): WebhookScheme | null {
  if (knownProviders().includes(provider)) {
    const spec = connectorFor(provider).webhooks;
    return spec ? byVerification[spec.verification](spec.secretField) : null;
  }
  return Object.hasOwn(withoutConnector, provider) ? (withoutConnector[provider] ?? null) : null;
}

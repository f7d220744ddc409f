import { sha256Hex } from "../../core/crypto";
import { concatBytes, toBytes, utf8 } from "../../core/encoding";
import { hmacHex, timingSafeEqual } from "../../core/signatures";
import type { WebhookScheme } from "../types";

// The seeds sign Zillow Sync webhooks "using the client id" (metric `zillowSync.webhook.signature.usingClientId`)
// and say nothing more. The derivation is the simulator's choice, documented in docs/providers/zillow.md:
//   key       = hex(SHA-256("zillow-sync-webhook:" + OAuth client id))
//   header    X-Zillow-Signature: t=<epoch seconds>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")>
// The timestamp is signed and must be within ±5 minutes.

export const SIGNATURE_HEADER = "X-Zillow-Signature";
export const SIGNATURE_TOLERANCE_SEC = 300;

export async function zillowWebhookKey(clientId: string): Promise<string> {
  return sha256Hex(`zillow-sync-webhook:${clientId}`);
}

export async function signZillow(clientId: string, timestamp: number, rawBody: string | Uint8Array) {
  const key = await zillowWebhookKey(clientId);
  const v1 = await hmacHex("SHA-256", key, concatBytes(utf8(`${timestamp}.`), toBytes(rawBody)));
  return `t=${timestamp},v1=${v1}`;
}

function parseHeader(value: string): { t: number; v1: string } | null {
  const parts = new Map(
    value.split(",").map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = parts.get("t");
  const v1 = parts.get("v1");
  if (!t || !v1 || !/^\d{1,12}$/.test(t)) return null;
  return { t: Number(t), v1: v1.toLowerCase() };
}

function field(body: unknown, key: string): string | null {
  if (!body || typeof body !== "object") return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 ? v : null;
}

/** The scheme, with the credential holding the OAuth client id bound (the connect flow stores it). */
export function zillowWebhookScheme(clientIdField = "clientId"): WebhookScheme {
  return {
    name: "zillow",
    async verify({ rawBody, headers, credentials, nowSec }) {
      const header = headers.get(SIGNATURE_HEADER);
      const clientId = credentials[clientIdField];
      if (!header || !clientId) return { ok: false, code: "missing_signature" };
      const parsed = parseHeader(header);
      if (!parsed) return { ok: false, code: "bad_signature" };
      if (Math.abs(nowSec - parsed.t) > SIGNATURE_TOLERANCE_SEC)
        return { ok: false, code: "stale_timestamp" };
      const expected = await signZillow(clientId, parsed.t, rawBody);
      return timingSafeEqual(expected, `t=${parsed.t},v1=${parsed.v1}`)
        ? { ok: true }
        : { ok: false, code: "bad_signature" };
    },
    eventIdOf: (body) => field(body, "eventId"),
    eventTypeOf: (body) => field(body, "eventType"),
  };
}

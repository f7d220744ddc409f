import { toBase64, toBytes } from "../../core/encoding";
import { hmacHex, timingSafeEqual } from "../../core/signatures";
import type { WebhookScheme } from "../types";

/**
 * `FUB-Signature`: hex HMAC-SHA256 keyed with the system key, computed over the base64 encoding of the body
 * (not the body itself).
 */
export async function signFub(rawBody: string | Uint8Array, systemKey: string): Promise<string> {
  return hmacHex("SHA-256", systemKey, toBase64(toBytes(rawBody)));
}

export async function verifyFub(
  rawBody: Uint8Array,
  header: string | null,
  systemKey: string,
): Promise<boolean> {
  if (!header) return false;
  const expected = await signFub(rawBody, systemKey);
  return timingSafeEqual(expected, header.trim().toLowerCase());
}

function field(body: unknown, key: string): string | null {
  if (!body || typeof body !== "object") return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : null;
}

/** The connection's system key (credentials[secretField]) signs every delivery; the body names its event. */
export function fubWebhookScheme(secretField = "systemKey"): WebhookScheme {
  return {
    name: "fub",
    async verify({ rawBody, headers, credentials }) {
      const header = headers.get("FUB-Signature");
      const key = credentials[secretField];
      if (!header || !key) return { ok: false, code: "missing_signature" };
      return (await verifyFub(rawBody, header, key)) ? { ok: true } : { ok: false, code: "bad_signature" };
    },
    eventIdOf: (body) => field(body, "eventId"),
    eventTypeOf: (body) => field(body, "event"),
  };
}

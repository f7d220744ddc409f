import { concatBytes, toBytes, utf8 } from "../../core/encoding";
import { hmacHex, timingSafeEqual } from "../../core/signatures";
import type { WebhookScheme } from "../types";

// `X-DOTLOOP-SIGNATURE` is a hex HMAC-SHA1 keyed with the subscription's signing key. What text it signs is
// not certain from the public sources: the raw body alone (what the client libraries verify, and our default)
// or `{X-DOTLOOP-TIMESTAMP}.{raw body}` (one published reading). The choice is a per-connection setting,
// `signedText` in the credentials, so a connection can switch without a release.

export const SIGNATURE_TOLERANCE_SEC = 300;

export type SignedTextMode = "body" | "timestamp.body";

/** The exact bytes signed under a mode; the body is kept as received (never re-serialized). */
export function signedText(
  mode: SignedTextMode,
  timestamp: string,
  rawBody: string | Uint8Array,
): Uint8Array {
  return mode === "body" ? toBytes(rawBody) : concatBytes(utf8(`${timestamp}.`), toBytes(rawBody));
}

export async function signDotloop(signingKey: string, text: string | Uint8Array): Promise<string> {
  return hmacHex("SHA-1", signingKey, text);
}

export async function verifyDotloopSignature(args: {
  rawBody: Uint8Array;
  signature: string | null;
  timestamp: string;
  signingKey: string;
  mode: SignedTextMode;
}): Promise<boolean> {
  if (!args.signature) return false;
  const expected = await signDotloop(args.signingKey, signedText(args.mode, args.timestamp, args.rawBody));
  return timingSafeEqual(expected, args.signature.trim().toLowerCase());
}

/** Epoch seconds, or milliseconds (the published unit is seconds; a sender in milliseconds still passes). */
function timestampSec(raw: string): number | null {
  if (!/^\d{1,16}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return n > 1e12 ? Math.floor(n / 1000) : n;
}

function field(body: unknown, key: string): string | null {
  if (!body || typeof body !== "object") return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : null;
}

/**
 * The webhook scheme: signature and timestamp required, the timestamp within ±5 minutes (under the default
 * mode it is not signed, so event-id dedupe is what stops a replay inside that window from acting twice).
 * `credentials[modeField]` = "timestamp.body" selects the other signed text.
 */
export function dotloopWebhookScheme(
  secretField = "webhookSigningKey",
  modeField = "signedText",
): WebhookScheme {
  return {
    name: "dotloop",
    async verify({ rawBody, headers, credentials, nowSec }) {
      const signature = headers.get("X-DOTLOOP-SIGNATURE");
      const stamp = headers.get("X-DOTLOOP-TIMESTAMP");
      const key = credentials[secretField];
      if (!signature || !stamp || !key) return { ok: false, code: "missing_signature" };
      const ts = timestampSec(stamp);
      if (ts === null || Math.abs(nowSec - ts) > SIGNATURE_TOLERANCE_SEC)
        return { ok: false, code: "stale_timestamp" };
      const mode: SignedTextMode = credentials[modeField] === "timestamp.body" ? "timestamp.body" : "body";
      const ok = await verifyDotloopSignature({
        rawBody,
        signature,
        timestamp: stamp.trim(),
        signingKey: key,
        mode,
      });
      return ok ? { ok: true } : { ok: false, code: "bad_signature" };
    },
    eventIdOf: (body) => field(body, "eventId"),
    eventTypeOf: (body) => field(body, "eventType"),
  };
}

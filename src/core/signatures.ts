// Signature primitives, and the generic Standard Webhooks scheme; a provider's own scheme lives in its
// connector. Each verifier works on the exact raw request bytes: re-serialized JSON would not match.

import { concatBytes, fromBase64, toBase64, toBytes, toHex, utf8 } from "./encoding";

export type HmacAlgorithm = "SHA-256" | "SHA-1";

async function hmacBytes(
  algorithm: HmacAlgorithm,
  key: string | Uint8Array,
  data: string | Uint8Array,
): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    toBytes(key) as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: algorithm },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", cryptoKey, toBytes(data) as Uint8Array<ArrayBuffer>);
  return new Uint8Array(sig);
}

export async function hmacHex(
  algorithm: HmacAlgorithm,
  key: string | Uint8Array,
  data: string | Uint8Array,
): Promise<string> {
  return toHex(await hmacBytes(algorithm, key, data));
}

export async function hmacBase64(
  algorithm: HmacAlgorithm,
  key: string | Uint8Array,
  data: string | Uint8Array,
): Promise<string> {
  return toBase64(await hmacBytes(algorithm, key, data));
}

/**
 * Compares without returning early so the time taken does not reveal how many
 * leading characters of a guessed signature were right. A length mismatch still
 * walks the longer input.
 */
export function timingSafeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = toBytes(a);
  const y = toBytes(b);
  const length = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < length; i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

const WHSEC_PREFIX = "whsec_";

function standardWebhookKey(secret: string): Uint8Array {
  const encoded = secret.startsWith(WHSEC_PREFIX) ? secret.slice(WHSEC_PREFIX.length) : secret;
  return fromBase64(encoded);
}

function standardWebhookContent(id: string, timestamp: string, rawBody: string | Uint8Array): Uint8Array {
  // Concatenated as bytes so a non-UTF-8 body is signed exactly as received.
  return concatBytes(utf8(`${id}.${timestamp}.`), toBytes(rawBody));
}

/** Standard Webhooks (standardwebhooks.com) `webhook-signature` value for one secret. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestampSec: number,
  rawBody: string | Uint8Array,
): Promise<string> {
  const mac = await hmacBytes(
    "SHA-256",
    standardWebhookKey(secret),
    standardWebhookContent(id, String(timestampSec), rawBody),
  );
  return `v1,${toBase64(mac)}`;
}

export type StandardWebhookResult =
  | { ok: true }
  | { ok: false; reason: "missing_headers" | "stale_timestamp" | "bad_signature" };

export async function verifyStandardWebhook(opts: {
  secrets: string[];
  id: string | null;
  timestamp: string | null;
  signature: string | null;
  rawBody: Uint8Array;
  nowSec: number;
  toleranceSec?: number;
}): Promise<StandardWebhookResult> {
  const { id, timestamp, signature } = opts;
  if (!id || !timestamp || !signature) return { ok: false, reason: "missing_headers" };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: "stale_timestamp" };
  const tolerance = opts.toleranceSec ?? 300;
  // Both directions: a far-future timestamp would otherwise extend the replay window.
  if (Math.abs(opts.nowSec - Number(timestamp)) > tolerance) return { ok: false, reason: "stale_timestamp" };

  const offered = signature
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3));
  if (offered.length === 0) return { ok: false, reason: "bad_signature" };

  const content = standardWebhookContent(id, timestamp, opts.rawBody);
  let matched = false;
  // Several secrets during rotation; several signatures when the sender is rotating too.
  for (const secret of opts.secrets) {
    let key: Uint8Array;
    try {
      key = standardWebhookKey(secret);
    } catch {
      continue;
    }
    const expected = toBase64(await hmacBytes("SHA-256", key, content));
    for (const candidate of offered) {
      if (timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: "bad_signature" };
}

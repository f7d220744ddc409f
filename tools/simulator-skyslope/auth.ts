// SkySlope's legacy login, checked as published: `POST /auth/login` with `Timestamp: <ISO UTC>` and
// `Authorization: SS <accessKey>:<base64 HMAC-SHA256(accessSecret, "<clientId>:<clientSecret>:<Timestamp>")>`,
// body `{clientID, clientSecret}` (key case not significant); 200 `{Session, Expiration}`. Web Crypto only.

export interface AuthConfig {
  /** Partner keys: accessKey -> accessSecret. */
  partners: Record<string, string>;
  /** Customer keys: clientId -> clientSecret. */
  clients: Record<string, string>;
  /** Accepted distance between the Timestamp header and the server clock (the real one is not published). */
  skewSec: number;
  /** Session lifetime, announced in `Expiration`. */
  sessionTtlSec: number;
}

export const DEFAULT_AUTH: AuthConfig = {
  partners: { "sim-access-key": "sim-access-secret" },
  clients: { "sim-client-id": "sim-client-secret" },
  skewSec: 300,
  sessionTtlSec: 3600,
};

function b64(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

export async function expectedSignature(secret: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return b64(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
}

/** Body keys as SkySlope's samples vary them (`clientID`, `ClientId`, `clientId`). */
function bodyField(body: unknown, name: string): string | null {
  if (!body || typeof body !== "object") return null;
  for (const [k, v] of Object.entries(body))
    if (k.toLowerCase() === name.toLowerCase() && typeof v === "string") return v;
  return null;
}

export type LoginCheck =
  | { ok: true; clientId: string }
  | { ok: false; reason: "no_signature" | "unknown_key" | "bad_client" | "skew" | "bad_signature" };

export async function checkLogin(
  cfg: AuthConfig,
  headers: Headers,
  body: unknown,
  nowMs: number,
): Promise<LoginCheck> {
  const auth = headers.get("authorization") ?? "";
  const m = /^ss\s+([^:\s]+):(\S+)$/i.exec(auth);
  const timestamp = headers.get("timestamp");
  if (!m || !timestamp) return { ok: false, reason: "no_signature" };
  const [, accessKey = "", signature = ""] = m;
  const secret = cfg.partners[accessKey];
  if (secret === undefined) return { ok: false, reason: "unknown_key" };
  const clientId = bodyField(body, "clientId");
  const clientSecret = bodyField(body, "clientSecret");
  if (!clientId || !clientSecret || cfg.clients[clientId] !== clientSecret)
    return { ok: false, reason: "bad_client" };
  const at = Date.parse(timestamp);
  if (!Number.isFinite(at) || Math.abs(at - nowMs) > cfg.skewSec * 1000) return { ok: false, reason: "skew" };
  const expected = await expectedSignature(secret, `${clientId}:${clientSecret}:${timestamp}`);
  if (expected !== signature) return { ok: false, reason: "bad_signature" };
  return { ok: true, clientId };
}

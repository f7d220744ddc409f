import { hmacBase64 } from "../../core/signatures";
import type { Credentials, LoginArgs } from "../types";

/** Credential fields of a SkySlope connection (the legacy API's partner keys and the customer's client keys). */
export const SKYSLOPE_CREDENTIALS = {
  accessKey: "accessKey",
  accessSecret: "accessSecret",
  clientId: "clientId",
  clientSecret: "clientSecret",
} as const;

function field(c: Credentials, name: string): string {
  const v = c[name];
  // Names the field, never a value.
  if (typeof v !== "string" || v === "") throw new Error(`connection credentials lack "${name}"`);
  return v;
}

/** `2020-10-13T18:38:42Z`: the form SkySlope's own sample sends (UTC, whole seconds). */
export function loginTimestamp(nowMs: number): string {
  return `${new Date(Math.floor(nowMs / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * The login signature as SkySlope publishes it: base64 (standard, padded) of HMAC-SHA256 keyed by the access
 * secret over `<clientId>:<clientSecret>:<Timestamp>`, the Timestamp header's exact text.
 */
export function skyslopeSignature(
  accessSecret: string,
  clientId: string,
  clientSecret: string,
  timestamp: string,
): Promise<string> {
  return hmacBase64("SHA-256", accessSecret, `${clientId}:${clientSecret}:${timestamp}`);
}

/**
 * The signed login request: `Timestamp` and `Authorization: SS <accessKey>:<signature>` headers, the client
 * keys in the body. The signature is a secret of its own (it logs in for a while): it goes only in the header.
 */
export async function skyslopeLoginRequest(
  args: LoginArgs,
): Promise<{ headers: Record<string, string>; body: Record<string, string> }> {
  const c = args.credentials;
  const clientId = field(c, SKYSLOPE_CREDENTIALS.clientId);
  const clientSecret = field(c, SKYSLOPE_CREDENTIALS.clientSecret);
  const timestamp = loginTimestamp(args.now);
  const signature = await skyslopeSignature(
    field(c, SKYSLOPE_CREDENTIALS.accessSecret),
    clientId,
    clientSecret,
    timestamp,
  );
  return {
    headers: {
      Timestamp: timestamp,
      Authorization: `SS ${field(c, SKYSLOPE_CREDENTIALS.accessKey)}:${signature}`,
    },
    body: { clientID: clientId, clientSecret },
  };
}

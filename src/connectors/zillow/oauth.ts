/**
 * Zillow's OAuth 2 authorization-code grant, seeds-derived: the seeds keep OAuth tokens per account
 * (ZillowAuth: `zuid`, `oauth_token`, `expires_at`) and refresh them, but publish no endpoint. These paths are
 * the simulator's choice; a deployment points the origin elsewhere (OAUTH_ZILLOW_AUTH_BASE_URL).
 */
export const ZILLOW_AUTH_ORIGIN = "https://auth.zillow.com";
export const ZILLOW_API_BASE_URL = "https://api.zillow.com";

export const ZILLOW_OAUTH = {
  authorizeUrl: `${ZILLOW_AUTH_ORIGIN}/oauth/authorize`,
  tokenUrl: `${ZILLOW_AUTH_ORIGIN}/oauth/token`,
  revokeUrl: `${ZILLOW_AUTH_ORIGIN}/oauth/revoke`,
  scopes: ["agents:read", "teams:read", "sync:read"],
} as const;

/** Credential fields of a Zillow connection (names only; values are encrypted at rest). */
export const ZILLOW_CREDENTIALS = {
  accessToken: "accessToken",
  /** Stored by the connect flow; the webhook signing key is derived from it (signature.ts). */
  clientId: "clientId",
} as const;

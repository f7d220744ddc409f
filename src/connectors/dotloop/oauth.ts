/**
 * Dotloop's OAuth 2 authorization-code endpoints, as data for the connect flow. Real hosts by default; a
 * deployment (or the simulator) replaces the origin by configuration, the paths stay.
 */
export const DOTLOOP_AUTH_ORIGIN = "https://auth.dotloop.com";

export const DOTLOOP_OAUTH = {
  /** `GET ?response_type=code&client_id&redirect_uri&state[&redirect_on_deny=true]`. */
  authorizePath: "/oauth/authorize",
  authorizeUrl: `${DOTLOOP_AUTH_ORIGIN}/oauth/authorize`,
  /** `POST`, parameters in the query string: `grant_type=authorization_code&code&redirect_uri&state` or
   * `grant_type=refresh_token&refresh_token`; answers `{access_token, token_type, refresh_token, expires_in, scope}`. */
  tokenPath: "/oauth/token",
  tokenUrl: `${DOTLOOP_AUTH_ORIGIN}/oauth/token`,
  /** `POST ?token=`: ends the grant. */
  revokePath: "/oauth/token/revoke",
  revokeUrl: `${DOTLOOP_AUTH_ORIGIN}/oauth/token/revoke`,
  /** The client authenticates with `Authorization: Basic base64(client_id:client_secret)`. */
  clientAuth: "basic",
  /** Token parameters travel in the query string, as the public client sends them (a form body is the fallback). */
  paramsIn: "query",
  contentType: "application/x-www-form-urlencoded",
  /** Asks Dotloop to redirect back with `error=access_denied` instead of stopping on its own page. */
  redirectOnDeny: true,
  scopes: ["account:read", "profile:*", "loop:*", "contact:*", "template:read"],
  /** "Usually 12 hours"; `expires_in` of the token answer is what counts. */
  typicalAccessTtlSec: 43_200,
} as const;

/** `Authorization: Basic …` for the token and revoke calls. Secrets stay out of logs and errors. */
export function dotloopClientAuthHeader(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${clientId}:${clientSecret}`)}`;
}

/** The authorize URL a user is sent to; `state` is the caller's signed, expiring state. */
export function dotloopAuthorizeUrl(args: {
  clientId: string;
  redirectUri: string;
  state: string;
  authOrigin?: string;
}): string {
  const url = new URL(DOTLOOP_OAUTH.authorizePath, args.authOrigin ?? DOTLOOP_AUTH_ORIGIN);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", args.clientId);
  url.searchParams.set("redirect_uri", args.redirectUri);
  url.searchParams.set("state", args.state);
  if (DOTLOOP_OAUTH.redirectOnDeny) url.searchParams.set("redirect_on_deny", "true");
  return url.toString();
}

/** Credentials fields a Dotloop connection holds (names only; values are encrypted at rest). */
export const DOTLOOP_CREDENTIALS = {
  accessToken: "accessToken",
  refreshToken: "refreshToken",
  /** The Dotloop user id (GET /account `id`): what the rate limit counts by, stable across token refreshes. */
  userId: "userId",
  /** The subscription signing key we generate when the connection is authorised. */
  webhookSigningKey: "webhookSigningKey",
} as const;

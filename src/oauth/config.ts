import type { Connector, OAuthSpec } from "../connectors/types";
import { AppError } from "../core/errors";

/** Environment variables as strings (per-provider names are built, so they are looked up by name). */
export type Vars = Record<string, string | undefined>;

/** A provider's OAuth client and endpoints in this environment. */
export type OAuthClient = {
  provider: string;
  spec: OAuthSpec;
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string | null;
  /** Base URL of the API for connections this flow creates; null: the connector's default. */
  apiBaseUrl: string | null;
};

const envName = (provider: string, what: string) =>
  `OAUTH_${provider.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${what}`;

/** The declared URL with its origin replaced by the environment's (a simulator locally), path kept. */
function rebase(url: string, base: string | undefined): string {
  if (!base) return url;
  const declared = new URL(url);
  const target = new URL(base);
  const prefix = target.pathname.replace(/\/$/, "");
  return `${target.origin}${prefix}${declared.pathname}${declared.search}`;
}

/**
 * The OAuth client of a provider: its declaration plus OAUTH_<PROVIDER>_CLIENT_ID / _CLIENT_SECRET, and the
 * optional OAUTH_<PROVIDER>_AUTH_BASE_URL (origin of the authorize/token/revoke URLs) and _API_BASE_URL.
 */
export function oauthClient(connector: Connector, vars: Vars): OAuthClient {
  const auth = connector.spec.auth;
  if (auth.kind !== "bearer" || !auth.oauth) {
    throw new AppError(
      400,
      "oauth_unsupported",
      `${connector.provider} connections are not authorised with OAuth`,
    );
  }
  const clientId = vars[envName(connector.provider, "CLIENT_ID")];
  const clientSecret = vars[envName(connector.provider, "CLIENT_SECRET")];
  if (!clientId || !clientSecret) {
    throw new AppError(
      503,
      "oauth_not_configured",
      `OAuth for ${connector.provider} is not configured (${envName(connector.provider, "CLIENT_ID")} and _CLIENT_SECRET)`,
    );
  }
  const authBase = vars[envName(connector.provider, "AUTH_BASE_URL")];
  const spec = auth.oauth;
  return {
    provider: connector.provider,
    spec,
    clientId,
    clientSecret,
    authorizeUrl: rebase(spec.authorizeUrl, authBase),
    tokenUrl: rebase(spec.tokenUrl, authBase),
    revokeUrl: spec.revokeUrl ? rebase(spec.revokeUrl, authBase) : null,
    apiBaseUrl: vars[envName(connector.provider, "API_BASE_URL")] || null,
  };
}

/** HTTP Basic client authentication, as the token and revoke endpoints take it. */
export function basicClientAuth(client: Pick<OAuthClient, "clientId" | "clientSecret">): string {
  return `Basic ${btoa(`${client.clientId}:${client.clientSecret}`)}`;
}

import { AppError } from "../core/errors";
import { standardWebhookScheme } from "../webhooks/standard";
import { dotloop } from "./dotloop";
import { fub } from "./fub";
import { lofty } from "./lofty";
import { opentoclose } from "./opentoclose";
import { rezen } from "./rezen";
import { skyslope } from "./skyslope";
import type { Connector, WebhookScheme } from "./types";
import { zhl } from "./zhl";
import { zillow } from "./zillow";

// The one place that lists providers by name.

const connectors: Record<string, Connector> = {
  fub,
  dotloop,
  skyslope,
  lofty,
  opentoclose,
  rezen,
  zhl,
  zillow,
};

/**
 * Providers we take webhooks from before their connector exists: their own scheme where they have one, the
 * rest Standard Webhooks. An entry leaves this list when its connector joins `connectors`.
 */
const webhookOnly: Record<string, WebhookScheme> = {
  simulator: standardWebhookScheme(),
};

export function connectorFor(provider: string): Connector {
  const connector = connectors[provider];
  if (!connector) throw new AppError(404, "unknown_provider", `unknown provider "${provider}"`);
  return connector;
}

export function knownProviders(): string[] {
  return Object.keys(connectors);
}

/**
 * Adds a connector defined outside this file (a test's own provider), returning what removes it again: the
 * engine then treats it as any registered provider.
 */
export function registerConnector(connector: Connector): () => void {
  if (connectors[connector.provider])
    throw new Error(`provider "${connector.provider}" is already registered`);
  connectors[connector.provider] = connector;
  return () => {
    delete connectors[connector.provider];
  };
}

export function webhookOnlySchemes(): Record<string, WebhookScheme> {
  return webhookOnly;
}

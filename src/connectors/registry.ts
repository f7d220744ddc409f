import { AppError } from "../core/errors";
import { fub } from "./fub";
import type { Connector } from "./types";

const connectors: Record<string, Connector> = { fub };

export function connectorFor(provider: string): Connector {
  const connector = connectors[provider];
  if (!connector) throw new AppError(404, "unknown_provider", `unknown provider "${provider}"`);
  return connector;
}

export function knownProviders(): string[] {
  return Object.keys(connectors);
}

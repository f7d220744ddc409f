import { and, eq } from "drizzle-orm";
import { connectorFor } from "../connectors/registry";
import type { Connector, Credentials } from "../connectors/types";
import { credentialAad, decryptSecret, encryptSecret, type Keyring } from "../core/crypto";
import { AppError } from "../core/errors";
import type { Db } from "../db/client";
import { connections } from "../db/schema";
import { inTenant } from "./tenant";

export type LoadedConnection = {
  id: string;
  accountId: string;
  provider: string;
  baseUrl: string;
  status: string;
  settings: Record<string, unknown>;
  credentials: Credentials;
  connector: Connector;
};

export async function loadConnection(
  db: Db,
  keyring: Keyring,
  accountId: string,
  connectionId: string,
): Promise<LoadedConnection> {
  const found = await inTenant(db, accountId, (t) =>
    t
      .select()
      .from(connections)
      .where(and(eq(connections.id, connectionId), eq(connections.accountId, accountId)))
      .limit(1),
  );
  const row = found[0];
  if (!row) throw new AppError(404, "connection_not_found", `connection "${connectionId}" not found`);
  const connector = connectorFor(row.provider);
  const credentials = JSON.parse(
    await decryptSecret(keyring, row.credentialsEnc, credentialAad(accountId, connectionId)),
  ) as Credentials;
  return {
    id: row.id,
    accountId: row.accountId,
    provider: row.provider,
    baseUrl: row.baseUrl ?? connector.defaultBaseUrl,
    status: row.status,
    settings: (row.settings ?? {}) as Record<string, unknown>,
    credentials,
    connector,
  };
}

export async function encryptCredentials(
  keyring: Keyring,
  accountId: string,
  connectionId: string,
  credentials: Credentials,
): Promise<string> {
  return encryptSecret(keyring, JSON.stringify(credentials), credentialAad(accountId, connectionId));
}

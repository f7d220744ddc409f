import { and, eq } from "drizzle-orm";
import { connectorFor, knownProviders } from "../connectors/registry";
import type { Db } from "../db/client";
import { connections } from "../db/schema";
import { markAuthDependents } from "./auth-dependents";
import { withTenant } from "./tenant";

/** The encrypted credentials of one connection, read and swapped as a whole blob. */
export type CredentialStore = {
  load(accountId: string, connectionId: string): Promise<{ blob: string; status: string } | null>;
  /** Compare-and-set: false when the blob changed since it was read (e.g. re-authorized meanwhile). */
  swap(accountId: string, connectionId: string, oldBlob: string, newBlob: string): Promise<boolean>;
  setStatus(accountId: string, connectionId: string, status: string): Promise<void>;
};

export function pgCredentialStore(db: Db): CredentialStore {
  const where = (accountId: string, connectionId: string) =>
    and(eq(connections.id, connectionId), eq(connections.accountId, accountId));
  return {
    load: (accountId, connectionId) =>
      withTenant(db, accountId, async (tx) => {
        const found = await tx
          .select({ blob: connections.credentialsEnc, status: connections.status })
          .from(connections)
          .where(where(accountId, connectionId))
          .limit(1);
        return found[0] ?? null;
      }),
    swap: (accountId, connectionId, oldBlob, newBlob) =>
      withTenant(db, accountId, async (tx) => {
        const updated = await tx
          .update(connections)
          .set({ credentialsEnc: newBlob })
          .where(and(where(accountId, connectionId), eq(connections.credentialsEnc, oldBlob)))
          .returning({ id: connections.id });
        return updated.length === 1;
      }),
    setStatus: async (accountId, connectionId, status) => {
      await withTenant(db, accountId, async (tx) => {
        const updated = await tx
          .update(connections)
          .set({ status })
          .where(where(accountId, connectionId))
          .returning({ provider: connections.provider });
        // A refused grant marks what depends on it in the same transaction (the token cascade).
        const provider = updated[0]?.provider;
        if (status === "auth_failed" && provider && knownProviders().includes(provider)) {
          await markAuthDependents(
            async (q) => (await tx.execute(q)).rows as Record<string, unknown>[],
            connectorFor(provider),
            { accountId, connectionId },
            true,
          );
        }
      });
    },
  };
}

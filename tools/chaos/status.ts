import type { AdminClient } from "../lib/admin-client";

export type EntityRun = {
  entity: string;
  status: string;
  runId?: string | null;
  errorMessage?: string | null;
};

/** The entity's sync state from the admin status document, wherever the status shape nests it. */
export async function entityRun(
  admin: AdminClient,
  accountId: string,
  entity: string,
): Promise<EntityRun | null> {
  const doc = await admin.status<unknown>(accountId);
  let found: EntityRun | null = null;
  const walk = (x: unknown) => {
    if (found || x === null || typeof x !== "object") return;
    if (Array.isArray(x)) {
      for (const item of x) walk(item);
      return;
    }
    const o = x as Record<string, unknown>;
    if (o.entity === entity && typeof o.status === "string") {
      found = o as unknown as EntityRun;
      return;
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(doc);
  return found;
}

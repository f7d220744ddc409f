import type { LoadedConnection } from "../src/accounts/connections";
import { fillPath } from "../src/connectors/paging";
import type { EntityDef } from "../src/connectors/types";
import { breakerConfigFrom } from "./breaker-store";
import type { ProviderAuth } from "./provider-auth";
import { callProvider, DEFAULT_REQUEST_TIMEOUT_MS } from "./provider-call";
import { fetchRecord } from "./record-fetch";

export type AbsenceCheckDeps = {
  sql: SqlStorage;
  fetch: typeof fetch;
  auth?: ProviderAuth;
  now: () => number;
};

/**
 * Records a complete scan checked at most in one completion: each is a budgeted request, and a scan missing
 * more than this is parked for an operator by the delete guard anyway.
 */
export const MAX_ABSENCE_CHECKS = 200;

/**
 * For an entity declaring `confirmAbsence`: asks the provider for each record a complete scan did not see, at
 * the record's own URL, and answers the ids it no longer serves (404). A record that answers was only moved
 * out of the scan's way (a list whose positions shift while it is paged) and is not deleted. A fetch that
 * cannot be made now (budget, breaker, an error) throws, so the completion is retried later as a whole.
 */
export function absenceChecker(
  deps: AbsenceCheckDeps,
  connection: LoadedConnection,
  entity: EntityDef,
): ((ids: string[]) => Promise<Set<string>>) | undefined {
  const check = entity.confirmAbsence;
  if (!check) return undefined;
  return async (ids) => {
    if (ids.length > MAX_ABSENCE_CHECKS)
      throw new Error(`${ids.length} absent records exceed the ${MAX_ABSENCE_CHECKS} checked per completion`);
    const call = (url: string, init: RequestInit) =>
      callProvider(
        { sql: deps.sql, fetch: deps.fetch, now: deps.now, ...(deps.auth ? { auth: deps.auth } : {}) },
        {
          connection,
          priority: "delta",
          breaker: breakerConfigFrom(connection.settings),
          timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
        },
        url,
        init,
      );
    const gone = new Set<string>();
    for (const id of ids) {
      const got = await fetchRecord(call, connection.baseUrl, entity, {
        id,
        path: fillPath(check.path, { id }),
      });
      if (got.kind === "gone") gone.add(id);
      else if (got.kind === "error") throw new Error(`absence check of ${entity.name} ${id}: ${got.error}`);
    }
    return gone;
  };
}

import { loadConnection } from "../accounts/connections";
import { inTenant } from "../accounts/tenant";
import { connectorFor } from "../connectors/registry";
import type { JobContext } from "../connectors/types";
import { parseKeyring } from "../core/crypto";
import { parseJsonExact } from "../core/exact-json";
import type { Db } from "../db/client";
import type { DueJob, JobRunner } from "./jobs";

/** Time one job call may take before it answers status 0 (a network failure, retried by the job's own rules). */
export const JOB_CALL_TIMEOUT_MS = 20_000;

/**
 * The Worker's job runner: loads the connection (credentials decrypted in memory only), and gives the job
 * authenticated, time-bounded calls on the connection's base URL and tenant-scoped transactions.
 *
 * Calls carry the connector's static auth headers (an API key or token); a connector whose auth must be
 * renewed (OAuth refresh, sessions) is served by its account object's sync, not here.
 */
export function workerJobRunner(db: Db, credentialsKey: string, fetchFn: typeof fetch = fetch): JobRunner {
  return async (due: DueJob) => {
    const keyring = await parseKeyring(credentialsKey);
    const conn = await loadConnection(db, keyring, due.accountId, due.connectionId);
    const job = connectorFor(due.provider).spec.jobs?.[due.job];
    if (!job) throw new Error(`no job "${due.job}" declared`);
    const base = conn.baseUrl.replace(/\/+$/, "");
    const ctx: JobContext = {
      accountId: due.accountId,
      connectionId: due.connectionId,
      runId: due.runId,
      now: Date.now,
      tenant: (fn) => inTenant(db, due.accountId, fn),
      async call(path, init = {}) {
        const url = conn.connector.sendUrl(`${base}${path}`, conn.credentials);
        const headers: Record<string, string> = {
          Accept: "application/json",
          ...conn.connector.authHeaders(conn.credentials),
          ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...init.headers,
        };
        try {
          const res = await fetchFn(url, {
            method: init.method ?? "GET",
            headers,
            ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
            signal: AbortSignal.timeout(JOB_CALL_TIMEOUT_MS),
          });
          const text = await res.text();
          let body: unknown = null;
          try {
            body = text ? parseJsonExact(text) : null;
          } catch {
            body = null;
          }
          return { status: res.status, body, headers: res.headers };
        } catch {
          return { status: 0, body: null, headers: new Headers() };
        }
      },
    };
    return job.run(ctx);
  };
}

import { inTenant } from "../accounts/tenant";
import { connectorFor } from "../connectors/registry";
import type { JobContext } from "../connectors/types";
import type { Db } from "../db/client";
import type { DueJob, JobCallAnswer, JobCallRequest, JobRunner } from "./jobs";

/**
 * The Worker's job runner: tenant-scoped transactions on the Worker's own connection, and provider calls made
 * by the account's object (`send`), so a job's requests pass the connection's breaker, auth renewal and rate
 * budget like every other request of the connection, and its credentials never leave the object.
 */
export function workerJobRunner(db: Db, send: (req: JobCallRequest) => Promise<JobCallAnswer>): JobRunner {
  return async (due: DueJob) => {
    const job = connectorFor(due.provider).spec.jobs?.[due.job];
    if (!job) throw new Error(`no job "${due.job}" declared`);
    const ctx: JobContext = {
      accountId: due.accountId,
      connectionId: due.connectionId,
      runId: due.runId,
      now: Date.now,
      tenant: (fn) => inTenant(db, due.accountId, fn),
      async call(path, init = {}) {
        const answer = await send({
          accountId: due.accountId,
          connectionId: due.connectionId,
          path,
          ...(init.method ? { method: init.method } : {}),
          ...(init.body !== undefined ? { body: init.body } : {}),
          ...(init.headers ? { headers: init.headers } : {}),
        }).catch(() => ({ status: 0, body: null, headers: {} }) as JobCallAnswer);
        return { status: answer.status, body: answer.body, headers: new Headers(answer.headers) };
      },
    };
    return job.run(ctx);
  };
}

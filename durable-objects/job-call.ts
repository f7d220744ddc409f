import type { LoadedConnection } from "../src/accounts/connections";
import type { JobCallAnswer, JobCallRequest } from "../src/sync/jobs";
import { callProvider, type ProviderCallDeps, readJson } from "./provider-call";
import type { SyncSettings } from "./settings";

const nothing = (extra: Partial<JobCallAnswer>): JobCallAnswer => ({
  status: 0,
  body: null,
  headers: {},
  ...extra,
});

/**
 * A periodic job's call on its connection's API, through the same gate as every other provider request of the
 * connection (breaker, auth with renewal, the shared rate budget at delta priority, timeout). A held call is
 * answered at once with what held it: the job decides whether the item waits for its next run.
 */
export async function jobCall(
  deps: ProviderCallDeps,
  connection: LoadedConnection,
  settings: SyncSettings,
  req: JobCallRequest,
): Promise<JobCallAnswer> {
  const base = connection.baseUrl.replace(/\/+$/, "");
  const url = `${base}${req.path.startsWith("/") ? req.path : `/${req.path}`}`;
  const result = await callProvider(
    deps,
    { connection, priority: "delta", breaker: settings.breaker, timeoutMs: settings.requestTimeoutMs },
    url,
    {
      method: req.method ?? "GET",
      headers: { ...(req.body !== undefined ? { "Content-Type": "application/json" } : {}), ...req.headers },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
    },
  );
  switch (result.kind) {
    case "ok": {
      const headers = Object.fromEntries(result.response.headers);
      const status = result.response.status;
      const read = await readJson(result.response);
      return read.ok
        ? { status, body: read.body, headers }
        : { status, body: null, headers, error: read.error };
    }
    case "rejected":
      return { status: result.status, body: result.body ?? null, headers: {} };
    case "failure":
      return nothing({ status: result.status ?? 0, error: result.error });
    case "parked":
      return nothing({ held: result.reason });
  }
}

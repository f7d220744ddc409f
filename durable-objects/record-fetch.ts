import { recordsOfOne } from "../src/connectors/paging";
import type { EntityDef, RecordFetch } from "../src/connectors/types";
import { sameOrigin } from "../src/core/same-origin";
import type { ProviderCallResult } from "./provider-call";
import { readJson } from "./provider-call";

/**
 * Moves followed for one record (a merge of a merge): past this the fetch fails and the event's bounded
 * attempts (then parking) take over.
 */
export const MAX_RECORD_MOVES = 3;

export type RecordFetchOutcome =
  /** The record (or its survivor) as the provider serves it; `movedFrom` when a 301 led there. */
  | { kind: "found"; records: unknown[]; movedFrom: string | null }
  /** 404: gone between the event and the fetch; its own delete event (or the next delta) settles it. */
  | { kind: "gone" }
  | { kind: "error"; error: string; retryAt?: number }
  /** A redirect we must not follow (another origin, no Location): retrying can't help. */
  | { kind: "refused"; note: string };

/** A permanent move: the provider merged the record into the one the Location names. */
const isMove = (status: number) => status === 301 || status === 308;

/**
 * Fetches one record at its own URL, each request through `call` (the connection's gate: breaker and
 * budget). Redirects are not left to the runtime: a 301 is followed here, on the connection's own origin only,
 * each hop a budgeted request, and reported so the caller can retire the old id.
 */
export async function fetchRecord(
  call: (url: string, init: RequestInit) => Promise<ProviderCallResult>,
  baseUrl: string,
  entity: EntityDef,
  target: RecordFetch,
): Promise<RecordFetchOutcome> {
  let url: string;
  try {
    url = new URL(target.path.replace(/^\//, ""), baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
  } catch {
    return { kind: "refused", note: "the record's path is not a URL" };
  }
  let movedFrom: string | null = null;
  for (let moves = 0; ; moves++) {
    const result = await call(url, { redirect: "manual" });
    if (result.kind === "parked")
      return { kind: "error", error: `parked: ${result.reason}`, retryAt: result.retryAt };
    if (result.kind === "failure") return { kind: "error", error: result.error };
    if (result.kind === "rejected") {
      if (result.status === 404) return { kind: "gone" };
      return { kind: "error", error: `provider rejected the fetch with HTTP ${result.status}` };
    }
    const { response } = result;
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get("Location");
      await response.body?.cancel().catch(() => {});
      if (!isMove(response.status))
        return { kind: "error", error: `unexpected redirect HTTP ${response.status}` };
      if (!location) return { kind: "refused", note: `HTTP ${response.status} without a Location` };
      const next = new URL(location, url).toString();
      // The request carries the connection's credentials: they never follow a redirect elsewhere.
      if (!sameOrigin(next, baseUrl))
        return { kind: "refused", note: "a redirect leaves the connection's API origin" };
      if (moves >= MAX_RECORD_MOVES)
        return { kind: "error", error: `more than ${MAX_RECORD_MOVES} redirects` };
      movedFrom = target.id;
      url = next;
      continue;
    }
    const read = await readJson(response);
    if (!read.ok) return { kind: "error", error: read.error };
    let records: unknown[];
    try {
      records = recordsOfOne(read.body, entity);
    } catch (error) {
      return { kind: "error", error: error instanceof Error ? error.message : String(error) };
    }
    for (const part of target.attach ?? []) {
      const got = await fetchPart(call, url, part.suffix, entity);
      if (got.kind === "error") return got;
      if (got.kind === "gone") continue;
      for (const record of records) {
        if (record && typeof record === "object") (record as Record<string, unknown>)[part.field] = got.value;
      }
    }
    return { kind: "found", records, movedFrom };
  }
}

/** One attached part at the record's path plus `suffix` (no query: the part's own URL), unwrapped like a record. */
async function fetchPart(
  call: (url: string, init: RequestInit) => Promise<ProviderCallResult>,
  recordUrl: string,
  suffix: string,
  entity: EntityDef,
): Promise<
  { kind: "found"; value: unknown } | { kind: "gone" } | { kind: "error"; error: string; retryAt?: number }
> {
  const url = new URL(recordUrl);
  url.pathname = `${url.pathname.replace(/\/$/, "")}${suffix}`;
  url.search = "";
  const result = await call(url.toString(), { redirect: "manual" });
  if (result.kind === "parked")
    return { kind: "error", error: `parked: ${result.reason}`, retryAt: result.retryAt };
  if (result.kind === "failure") return { kind: "error", error: result.error };
  if (result.kind === "rejected") {
    if (result.status === 404) return { kind: "gone" };
    return { kind: "error", error: `provider rejected the fetch of a part with HTTP ${result.status}` };
  }
  if (result.response.status >= 300) {
    await result.response.body?.cancel().catch(() => {});
    return { kind: "error", error: `unexpected HTTP ${result.response.status} for a part` };
  }
  const read = await readJson(result.response);
  if (!read.ok) return { kind: "error", error: read.error };
  try {
    return { kind: "found", value: recordsOfOne(read.body, entity)[0] ?? null };
  } catch (error) {
    return { kind: "error", error: error instanceof Error ? error.message : String(error) };
  }
}

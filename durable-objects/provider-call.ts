import type { LoadedConnection } from "../src/accounts/connections";
import { parseRetryAfter } from "../src/core/backoff";
import { type BreakerConfig, classifyOutcome } from "../src/core/breaker";
import { parseJsonExact } from "../src/core/exact-json";
import { logger } from "../src/core/log";
import type { Priority } from "../src/core/rate-budget";
import { requestPath } from "../src/core/rate-contexts";
import { safeErrorMessage } from "../src/core/safe-error";
import { breakerStore } from "./breaker-store";
import { budgetGateFor, type SharedBudgets } from "./budget-gate";
import { type Acquired, budgetHeaders, budgetStore } from "./budget-store";

const log = logger("provider");

export type ProviderCallDeps = {
  sql: SqlStorage;
  fetch: typeof fetch;
  now: () => number;
  /** Where budgets shared by a credential live; the Worker's RATE_BUDGET objects unless a test says otherwise. */
  sharedBudgets?: SharedBudgets;
};

export type ProviderCallOptions = {
  connection: LoadedConnection;
  priority: Priority;
  breaker: BreakerConfig;
  timeoutMs: number;
};

export type ParkReason = "breaker_open" | "rate_limited" | "no_budget";

export type ProviderCallResult =
  /** A 2xx: the caller owns the body. */
  | { kind: "ok"; response: Response }
  /** A 4xx other than 429: our request is wrong; says nothing about the provider's health. */
  | { kind: "rejected"; status: number }
  /** 5xx, 408, timeout, connection error: counted by the breaker, retried by the caller's backoff. */
  | { kind: "failure"; error: string }
  /** Not called (or refused with 429): try again at retryAt, via the alarm, never by sleeping. */
  | { kind: "parked"; reason: ParkReason; retryAt: number };

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The one gate every provider request of a connection goes through, whoever makes it (webhook fetches,
 * delta, backfill): breaker, then rate budget, then the request with a timeout, then the verdicts. It never
 * retries; retrying is the caller's single layer of backoff.
 */
export async function callProvider(
  deps: ProviderCallDeps,
  opts: ProviderCallOptions,
  url: string,
  init: RequestInit = {},
): Promise<ProviderCallResult> {
  const { sql } = deps;
  const id = opts.connection.id;
  const decision = breakerStore.allow(sql, id, opts.breaker, deps.now());
  if (!decision.allowed) {
    return {
      kind: "parked",
      reason: "breaker_open",
      retryAt: decision.retryAtMs ?? deps.now() + opts.breaker.openMs,
    };
  }
  const policy = opts.connection.connector.rateLimit(opts.connection.credentials);
  // Each request is granted by the budget of the rate context the provider counts it in.
  const context = budgetStore.contextOf(
    policy,
    init.method ?? "GET",
    requestPath(url, opts.connection.baseUrl),
  );
  // The connection's own budget, or the one every holder of its credential shares (one call each way).
  const gate = await budgetGateFor(deps, opts.connection, policy);
  let budget: Acquired;
  try {
    budget = await gate.acquire(opts.priority, policy, context);
  } catch (error) {
    // Our own budget object failed, not the provider: nothing was sent, the caller's bounded retry takes it.
    breakerStore.releaseProbe(sql, id);
    return { kind: "failure", error: `rate budget unavailable: ${safeErrorMessage(error)}` };
  }
  if (!budget.granted) {
    breakerStore.releaseProbe(sql, id);
    return { kind: "parked", reason: "no_budget", retryAt: budget.retryAt };
  }

  const { connector, credentials } = opts.connection;
  // Query-parameter credentials are added here, at the last moment, so no stored URL ever carries them.
  const target = connector.authorizeUrl?.(url, credentials) ?? url;
  let response: Response;
  try {
    response = await deps.fetch(target, {
      ...init,
      headers: {
        Accept: "application/json",
        ...opts.connection.connector.authHeaders(opts.connection.credentials),
        ...(init.headers as Record<string, string> | undefined),
      },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (error) {
    breakerStore.failure(sql, id, opts.breaker, deps.now());
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      kind: "failure",
      error: timedOut
        ? `request timed out after ${opts.timeoutMs} ms`
        : `fetch failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }

  const now = deps.now();
  const outcome = classifyOutcome({ status: response.status });
  const rateLimited = outcome === "rate_limited";
  // On a 429, Retry-After says when to come back; its "Remaining: 0" would otherwise block a whole window.
  const retryAfterMs = rateLimited ? parseRetryAfter(response.headers.get("Retry-After"), now) : null;
  let retryAt: number | null = null;
  try {
    const settled = await gate.settle({
      headers: budgetHeaders(policy, response.headers, rateLimited),
      context,
      rateLimited: rateLimited ? { retryAfterMs } : null,
    });
    retryAt = settled.retryAt;
  } catch (error) {
    // The answer is here and stays valid; only what it taught the budget is lost (the next response teaches it).
    log.warn("rate budget feedback lost", { connectionId: id, error: safeErrorMessage(error) });
  }
  if (outcome === "success") {
    breakerStore.success(sql, id, opts.breaker, now);
    return { kind: "ok", response };
  }
  await response.body?.cancel().catch(() => {});
  if (rateLimited) {
    breakerStore.releaseProbe(sql, id);
    return {
      kind: "parked",
      reason: "rate_limited",
      retryAt: retryAt ?? now + (retryAfterMs ?? policy.windowMs),
    };
  }
  if (outcome === "failure") {
    breakerStore.failure(sql, id, opts.breaker, now);
    return { kind: "failure", error: `HTTP ${response.status}` };
  }
  breakerStore.releaseProbe(sql, id);
  return { kind: "rejected", status: response.status };
}

/** Reads the response body within the request's timeout; a cut or garbled body is a failed attempt. */
/** A provider's JSON body; numbers a double can't hold stay exact (src/core/exact-json.ts). */
export async function readJson(
  response: Response,
): Promise<{ ok: true; body: unknown } | { ok: false; error: string }> {
  try {
    return { ok: true, body: parseJsonExact(await response.text()) };
  } catch (error) {
    return {
      ok: false,
      error: `unreadable response: ${safeErrorMessage(error)}`,
    };
  }
}

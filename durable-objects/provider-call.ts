import type { LoadedConnection } from "../src/accounts/connections";
import type { Authenticated, AuthSource } from "../src/connectors/types";
import { parseRetryAfter } from "../src/core/backoff";
import { type BreakerConfig, classifyOutcome } from "../src/core/breaker";
import { parseJsonExact } from "../src/core/exact-json";
import { logger } from "../src/core/log";
import type { Priority } from "../src/core/rate-budget";
import { requestPath } from "../src/core/rate-contexts";
import { withRateLimitSettings } from "../src/core/rate-settings";
import { safeErrorMessage } from "../src/core/safe-error";
import { breakerStore } from "./breaker-store";
import { budgetGateFor, type SharedBudgets } from "./budget-gate";
import { type Acquired, budgetHeaders, budgetStore } from "./budget-store";
import type { ProviderAuth } from "./provider-auth";
import { TokenError } from "./tokens";

const log = logger("provider");

export type ProviderCallDeps = {
  sql: SqlStorage;
  fetch: typeof fetch;
  now: () => number;
  /** Where budgets shared by a credential live; the Worker's RATE_BUDGET objects unless a test says otherwise. */
  sharedBudgets?: SharedBudgets;
  /**
   * Tokens and sessions of connections whose auth step needs them (OAuth bearer, session login); absent, only
   * connections with static credentials can be called.
   */
  auth?: ProviderAuth;
};

export type ProviderCallOptions = {
  connection: LoadedConnection;
  priority: Priority;
  breaker: BreakerConfig;
  timeoutMs: number;
};

/**
 * Why nothing was sent: the breaker is open, the provider said 429, no budget left, the connection's grant or
 * login was refused (`auth_failed`, until re-authorised), or its token/session could not be renewed just now.
 */
export type ParkReason = "breaker_open" | "rate_limited" | "no_budget" | "auth_failed" | "auth_unavailable";

export type ProviderCallResult =
  /** A 2xx: the caller owns the body. */
  | { kind: "ok"; response: Response }
  /**
   * A 4xx other than 429: our request is wrong; says nothing about the provider's health. `body`: the refusal's
   * JSON when short (a provider error code), else null.
   */
  | { kind: "rejected"; status: number; body?: unknown }
  /**
   * 5xx, 408, timeout, connection error: counted by the breaker, retried by the caller's backoff. `status`: the
   * provider's, when it answered.
   */
  | { kind: "failure"; error: string; status?: number }
  /** Not called (or refused with 429): try again at retryAt, via the alarm, never by sleeping. */
  | { kind: "parked"; reason: ParkReason; retryAt: number };

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long a connection whose auth is refused waits before its calls are looked at again. */
const AUTH_FAILED_PARK_MS = 60 * 60_000;

const noSource: AuthSource = {
  accessToken: () => Promise.reject(new Error("this caller cannot renew OAuth tokens")),
  session: () => Promise.reject(new Error("this caller cannot log in")),
};

type Attempt =
  | { kind: "sent"; response: Response; secret: string | null; settle: Settle }
  | ProviderCallResult;

/**
 * The one gate every provider request of a connection goes through, whoever makes it (webhook fetches,
 * delta, backfill): breaker, then the auth step, then rate budget, then the request with a timeout, then the
 * verdicts. A 401 on a renewable secret (OAuth token, session) renews it once and sends the request once more;
 * otherwise it never retries: retrying is the caller's single layer of backoff.
 */
export async function callProvider(
  deps: ProviderCallDeps,
  opts: ProviderCallOptions,
  url: string,
  init: RequestInit = {},
): Promise<ProviderCallResult> {
  const { sql } = deps;
  const { connection } = opts;
  const id = connection.id;
  if (connection.status === "auth_failed") {
    return { kind: "parked", reason: "auth_failed", retryAt: deps.now() + AUTH_FAILED_PARK_MS };
  }
  const decision = breakerStore.allow(sql, id, opts.breaker, deps.now());
  if (!decision.allowed) {
    return {
      kind: "parked",
      reason: "breaker_open",
      retryAt: decision.retryAtMs ?? deps.now() + opts.breaker.openMs,
    };
  }
  const source = deps.auth?.(connection) ?? noSource;
  let attempt = await attemptOnce(deps, opts, url, init, source, undefined);
  if (
    attempt.kind === "sent" &&
    attempt.response.status === 401 &&
    attempt.secret !== null &&
    connection.connector.renewsOn401
  ) {
    await attempt.response.body?.cancel().catch(() => {});
    // The provider refused a token or session we thought valid (revoked, expired early): renew it once.
    attempt = await attemptOnce(deps, opts, url, init, source, attempt.secret);
  }
  if (attempt.kind !== "sent") return attempt;
  return verdict(deps, opts, attempt.response, attempt.settle);
}

/** Authenticates, takes a budget slot and sends; the response's rate headers are settled by `verdict`. */
async function attemptOnce(
  deps: ProviderCallDeps,
  opts: ProviderCallOptions,
  url: string,
  init: RequestInit,
  source: AuthSource,
  refused: string | undefined,
): Promise<Attempt> {
  const { sql } = deps;
  const { connection } = opts;
  const id = connection.id;
  const { connector, credentials } = connection;
  // Before a budget slot is taken: a token refresh or login is not a request of the provider's API.
  let auth: Authenticated;
  try {
    auth = await connector.authenticate(credentials, source, refused);
  } catch (error) {
    breakerStore.releaseProbe(sql, id);
    if (error instanceof TokenError && error.code === "auth_failed") {
      return {
        kind: "parked",
        reason: "auth_failed",
        retryAt: error.retryAt ?? deps.now() + AUTH_FAILED_PARK_MS,
      };
    }
    if (error instanceof TokenError && error.code === "refresh_unavailable") {
      return {
        kind: "parked",
        reason: "auth_unavailable",
        retryAt: error.retryAt ?? deps.now() + opts.breaker.openMs,
      };
    }
    return { kind: "failure", error: `authentication failed: ${safeErrorMessage(error)}` };
  }

  const policy = withRateLimitSettings(connector.rateLimit(credentials), connection.settings);
  // Each request is granted by the budget of the rate context the provider counts it in.
  const context = budgetStore.contextOf(policy, init.method ?? "GET", requestPath(url, connection.baseUrl));
  // The connection's own budget, or the one every holder of its credential shares (one call each way).
  const gate = await budgetGateFor(deps, connection, policy);
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

  // The service's own host and any query-parameter credential come in here, at the last moment, so no stored
  // URL ever carries a credential and paging, budgets and origin checks all see the connection's base URL.
  const target = connector.sendUrl?.(url, credentials) ?? url;
  let response: Response;
  try {
    response = await deps.fetch(target, {
      ...init,
      headers: {
        Accept: "application/json",
        ...auth.headers,
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
  const settle = await settleBudget(gate, policy, context, response, deps.now(), id);
  return { kind: "sent", response, secret: auth.secret, settle };
}

type Settle = { retryAt: number | null; retryAfterMs: number | null; windowMs: number };

/** Teaches the budget what the response's rate headers say (every response, the refused 401 included). */
async function settleBudget(
  gate: Awaited<ReturnType<typeof budgetGateFor>>,
  policy: ReturnType<LoadedConnection["connector"]["rateLimit"]>,
  context: string,
  response: Response,
  now: number,
  id: string,
): Promise<Settle> {
  const rateLimited = classifyOutcome({ status: response.status }) === "rate_limited";
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
  return { retryAt, retryAfterMs, windowMs: policy.windowMs };
}

async function verdict(
  deps: ProviderCallDeps,
  opts: ProviderCallOptions,
  response: Response,
  settle: Settle,
): Promise<ProviderCallResult> {
  const { sql } = deps;
  const id = opts.connection.id;
  const now = deps.now();
  const outcome = classifyOutcome({ status: response.status });
  if (outcome === "success") {
    breakerStore.success(sql, id, opts.breaker, now);
    return { kind: "ok", response };
  }
  if (outcome !== "rate_limited" && outcome !== "failure") {
    breakerStore.releaseProbe(sql, id);
    return { kind: "rejected", status: response.status, body: await refusalBody(response) };
  }
  await response.body?.cancel().catch(() => {});
  if (outcome === "rate_limited") {
    breakerStore.releaseProbe(sql, id);
    return {
      kind: "parked",
      reason: "rate_limited",
      retryAt: settle.retryAt ?? now + (settle.retryAfterMs ?? settle.windowMs),
    };
  }
  breakerStore.failure(sql, id, opts.breaker, now);
  return { kind: "failure", error: `HTTP ${response.status}`, status: response.status };
}

/** Bytes of a refusal's body kept for its caller (a provider's error code); the rest is not read. */
const REFUSAL_BODY_BYTES = 16_384;

/**
 * A 4xx refusal's body, parsed when it is JSON, for callers that act on the provider's error code; bounded, and
 * null when it is longer, unreadable or not JSON.
 */
async function refusalBody(response: Response): Promise<unknown> {
  const reader = response.body?.getReader();
  if (!reader) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > REFUSAL_BODY_BYTES) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    const text = new TextDecoder().decode(bytes);
    return text ? parseJsonExact(text) : null;
  } catch {
    return null;
  }
}

/** Reads the response body within the request's timeout; a cut or garbled body is a failed attempt. */
/** A provider's JSON body; numbers a double can't hold stay exact (src/core/exact-json.ts). */
export async function readJson(
  response: Response,
  repair?: (text: string) => string,
): Promise<{ ok: true; body: unknown } | { ok: false; error: string }> {
  try {
    const text = await response.text();
    return { ok: true, body: parseJsonExact(repair ? repair(text) : text) };
  } catch (error) {
    return {
      ok: false,
      error: `unreadable response: ${safeErrorMessage(error)}`,
    };
  }
}

// A provider may count requests in several rate contexts (endpoint families), each with its own sliding
// window: spending one context's quota must not be charged to another, and a context exhausted must not stop
// requests counted elsewhere. So the budget keeps one sliding-window log per context, each with the same
// priorities and reserves, and routes every request (and every response's feedback) to its context.

import {
  type BudgetSnapshot,
  budgetSnapshot,
  type HeaderReader,
  initialRateBudgetState,
  observeRateHeaders,
  onRateLimited,
  type Priority,
  type RateBudgetConfig,
  type RateBudgetState,
  type RateHeaderNames,
  takeToken,
} from "./rate-budget";

/** One endpoint family counted apart from the default context. */
export type RateContextRule = { name: string; pathPrefix: string; method?: string; limit: number };

export type RateContextsConfig = RateBudgetConfig & {
  /** Context of every request no rule matches; `limit` is its limit. */
  defaultContext: string;
  contexts: RateContextRule[];
  /** Header naming the context a response was counted in. */
  contextHeader?: string;
  headers?: RateHeaderNames;
};

/** One sliding-window log per context name; a context never used yet has no entry. */
export type RateContextsState = { contexts: Record<string, RateBudgetState> };

export const DEFAULT_CONTEXT = "default";

export type ContextSnapshot = BudgetSnapshot & { context: string };

export function initialRateContextsState(): RateContextsState {
  return { contexts: {} };
}

export function contextNames(cfg: Pick<RateContextsConfig, "defaultContext" | "contexts">): string[] {
  return [cfg.defaultContext, ...cfg.contexts.map((c) => c.name)];
}

/** The single-window configuration of one context (unknown names get the default's). */
export function contextConfig(cfg: RateContextsConfig, name: string): RateBudgetConfig {
  const rule = cfg.contexts.find((c) => c.name === name);
  return { limit: rule?.limit ?? cfg.limit, windowMs: cfg.windowMs, reserve: cfg.reserve };
}

/**
 * The path of `url` below `baseUrl`'s own path, so a base URL with a path (a gateway, a proxy mount) doesn't
 * hide the provider's paths from the context rules. A URL that can't be parsed is returned as is.
 */
export function requestPath(url: string, baseUrl?: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return url;
  }
  if (!baseUrl) return path;
  let base: string;
  try {
    base = new URL(baseUrl).pathname.replace(/\/+$/, "");
  } catch {
    return path;
  }
  if (base === "" || !(path === base || path.startsWith(`${base}/`))) return path;
  return path.slice(base.length) || "/";
}

/** Whole path segments only: `/v1/events` covers `/v1/events` and `/v1/events/12`, not `/v1/eventsLog`. */
function under(path: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, "");
  return p === "" || path === p || path.startsWith(`${p}/`);
}

/** The context a request is counted in: the first rule its method and path match, else the default. */
export function rateContextFor(
  cfg: Pick<RateContextsConfig, "defaultContext" | "contexts">,
  method: string,
  path: string,
): string {
  const m = method.toUpperCase();
  for (const rule of cfg.contexts) {
    if (rule.method !== undefined && rule.method.toUpperCase() !== m) continue;
    if (under(path, rule.pathPrefix)) return rule.name;
  }
  return cfg.defaultContext;
}

/**
 * The context a response's feedback belongs to: the one the response names, when it names one we know;
 * otherwise the one the request was counted in by our rules.
 */
export function responseContext(cfg: RateContextsConfig, matched: string, headers: HeaderReader): string {
  if (!cfg.contextHeader) return matched;
  const named = headers.get(cfg.contextHeader)?.trim().toLowerCase();
  if (!named) return matched;
  return contextNames(cfg).find((n) => n.toLowerCase() === named) ?? matched;
}

function stateOf(s: RateContextsState, name: string): RateBudgetState {
  return s.contexts[name] ?? initialRateBudgetState();
}

function withContext(s: RateContextsState, name: string, state: RateBudgetState): RateContextsState {
  return { contexts: { ...s.contexts, [name]: state } };
}

export type ContextTakeResult =
  | { granted: true; state: RateContextsState }
  | { granted: false; state: RateContextsState; waitMs: number };

/** A grant from one context's window; the others are untouched. */
export function takeContextToken(
  s: RateContextsState,
  cfg: RateContextsConfig,
  context: string,
  now: number,
  priority: Priority,
): ContextTakeResult {
  const r = takeToken(stateOf(s, context), contextConfig(cfg, context), now, priority);
  const state = withContext(s, context, r.state);
  return r.granted ? { granted: true, state } : { granted: false, state, waitMs: r.waitMs };
}

/** Learns from a response's rate headers, in the context it was counted in. Returns that context too. */
export function observeContextHeaders(
  s: RateContextsState,
  cfg: RateContextsConfig,
  matched: string,
  now: number,
  headers: HeaderReader,
): { state: RateContextsState; context: string } {
  const context = responseContext(cfg, matched, headers);
  const next = observeRateHeaders(
    stateOf(s, context),
    contextConfig(cfg, context),
    now,
    headers,
    cfg.headers,
  );
  return { state: withContext(s, context, next), context };
}

/** A 429 in one context: that context waits until Retry-After (or a full window); the others go on. */
export function onContextRateLimited(
  s: RateContextsState,
  cfg: RateContextsConfig,
  context: string,
  now: number,
  retryAfterMs: number | null,
): RateContextsState {
  return withContext(
    s,
    context,
    onRateLimited(stateOf(s, context), now, retryAfterMs, contextConfig(cfg, context)),
  );
}

/** Every declared context's limit and use, the default first. */
export function contextSnapshots(
  s: RateContextsState,
  cfg: RateContextsConfig,
  now: number,
): ContextSnapshot[] {
  return contextNames(cfg).map((context) => ({
    context,
    ...budgetSnapshot(stateOf(s, context), contextConfig(cfg, context), now),
  }));
}

/** Keeps only the declared contexts' logs (a context the provider no longer has is dropped). */
export function pruneContexts(s: RateContextsState, cfg: RateContextsConfig): RateContextsState {
  const names = new Set(contextNames(cfg));
  return { contexts: Object.fromEntries(Object.entries(s.contexts).filter(([n]) => names.has(n))) };
}

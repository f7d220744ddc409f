import { DEFAULT_CONTEXT } from "../core/rate-contexts";
import { authenticate, authHeaders, authorizeUrl, renewsOn401 } from "./auth";
import { routeToHost } from "./hosts";
import { firstPageUrl, parsePage } from "./paging";
import type { Connector, ConnectorSpec, Credentials, RateLimitPolicy, RateLimitSpec } from "./types";

/** Context names must be unique (the default's included): responses name their context to route feedback. */
function checkRateContexts(r: RateLimitSpec, provider: string): void {
  const names = [r.defaultContext ?? DEFAULT_CONTEXT, ...(r.contexts ?? []).map((x) => x.name)];
  const seen = new Set<string>();
  for (const name of names) {
    const key = name.toLowerCase();
    if (seen.has(key)) throw new Error(`${provider}: rate context "${name}" is declared twice`);
    seen.add(key);
  }
}

/** The rate-limit policy for these credentials: every context's limit, raised where the credential is present. */
function rateLimitPolicy(r: RateLimitSpec, c: Credentials): RateLimitPolicy {
  const elevated = r.elevated !== undefined && Boolean(c[r.elevated.whenCredential]);
  const policy: RateLimitPolicy = {
    limit: elevated && r.elevated ? r.elevated.limit : r.limit,
    windowMs: r.windowMs,
    headers: r.headers,
  };
  if (r.defaultContext) policy.defaultContext = r.defaultContext;
  if (r.contextHeader) policy.contextHeader = r.contextHeader;
  if (r.scope && r.scope !== "connection") policy.scope = r.scope;
  if (r.reserve) policy.reserve = r.reserve;
  if (r.contexts?.length) {
    policy.contexts = r.contexts.map((x) => ({
      name: x.name,
      pathPrefix: x.pathPrefix,
      ...(x.method ? { method: x.method } : {}),
      limit: elevated && x.elevatedLimit !== undefined ? x.elevatedLimit : x.limit,
    }));
  }
  return policy;
}

/** Builds the engine-facing connector from a declaration: every behaviour comes from the spec's data. */
export function defineConnector(spec: ConnectorSpec): Connector {
  checkRateContexts(spec.rateLimit, spec.provider);
  return {
    provider: spec.provider,
    defaultBaseUrl: spec.defaultBaseUrl,
    spec,
    entities: spec.entities,
    webhooks: spec.webhooks,
    rateLimit: (c: Credentials) => rateLimitPolicy(spec.rateLimit, c),
    authHeaders: (c) => authHeaders(spec.auth, c),
    authenticate: (c, source, refused) => authenticate(spec.auth, c, source, refused),
    renewsOn401: renewsOn401(spec.auth),
    sendUrl: (url, c) => authorizeUrl(spec.auth, routeToHost(spec.hosts, spec.defaultBaseUrl, url), c),
    firstPageUrl: (args) => firstPageUrl(spec.paging, args),
    parsePage: (body, entity, requestUrl, settings) => {
      const page = parsePage(spec.paging, body, entity, requestUrl);
      const prepare = entity.prepare;
      if (!prepare) return page;
      return { ...page, records: page.records.map((r) => prepare(r, settings ?? {})) };
    },
    ...(spec.repairBody ? { repairBody: spec.repairBody } : {}),
    totalUrl: (args) => spec.totals?.url(args) ?? null,
    totalOf: (body, entity, requestUrl) => spec.totals?.of(body, entity, requestUrl) ?? null,
    recordsUrls: ({ baseUrl, entity, ids }) => {
      const by = spec.byIds;
      if (!by) return null;
      const urls: string[] = [];
      for (let i = 0; i < ids.length; i += by.max) {
        const chunk = ids.slice(i, i + by.max);
        const url = new URL(
          entity.listPath.replace(/^\//, ""),
          baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`,
        );
        for (const [k, v] of Object.entries(entity.listParams ?? {})) url.searchParams.set(k, v);
        url.searchParams.set(by.param, chunk.join(by.separator));
        // One page holds the whole chunk; without a limit a keyset or offset API would page at its default size.
        if (spec.paging.style === "keyset-next" || spec.paging.style === "offset")
          url.searchParams.set(spec.paging.limitParam, String(chunk.length));
        urls.push(url.toString());
      }
      return urls;
    },
  };
}

/** Lenient field read for records not yet validated. */
export function fieldOf(raw: unknown, key: string): unknown {
  return raw && typeof raw === "object" ? (raw as Record<string, unknown>)[key] : undefined;
}

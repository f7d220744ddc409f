import { authHeaders, authorizeUrl } from "./auth";
import { firstPageUrl, parsePage } from "./paging";
import type { Connector, ConnectorSpec, Credentials, RateLimitPolicy } from "./types";

/** Builds the engine-facing connector from a declaration: every behaviour comes from the spec's data. */
export function defineConnector(spec: ConnectorSpec): Connector {
  return {
    provider: spec.provider,
    defaultBaseUrl: spec.defaultBaseUrl,
    spec,
    entities: spec.entities,
    webhooks: spec.webhooks,
    rateLimit: (c: Credentials): RateLimitPolicy => {
      const r = spec.rateLimit;
      const elevated = r.elevated && c[r.elevated.whenCredential] ? r.elevated.limit : null;
      return { limit: elevated ?? r.limit, windowMs: r.windowMs, headers: r.headers };
    },
    authHeaders: (c) => authHeaders(spec.auth, c),
    authorizeUrl: (url, c) => authorizeUrl(spec.auth, url, c),
    firstPageUrl: (args) => firstPageUrl(spec.paging, args),
    parsePage: (body, entity, requestUrl) => parsePage(spec.paging, body, entity, requestUrl),
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
        // One page holds the whole chunk; without a limit FUB-style APIs would page at their default size.
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

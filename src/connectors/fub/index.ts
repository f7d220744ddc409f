import type { Connector, Credentials, EntityDef, Page } from "../types";
import { people } from "./people";

export const FUB_RATE_LIMIT_HEADERS = {
  limit: "X-RateLimit-Limit",
  remaining: "X-RateLimit-Remaining",
  window: "X-RateLimit-Window",
};

const PAGE_SIZE = 100;

function metadataOf(body: unknown): { next?: unknown; nextLink?: unknown; total?: unknown } {
  const meta = body && typeof body === "object" ? (body as Record<string, unknown>)._metadata : undefined;
  return meta && typeof meta === "object" ? meta : {};
}

/** Follow Up Boss: Basic auth with the API key, keyset paging through `_metadata.next`. */
export const fub: Connector = {
  provider: "fub",
  defaultBaseUrl: "https://api.followupboss.com",
  entities: { people } as Record<string, EntityDef>,
  // Published (secondary source): 250 per 10 s with a registered system key, 125 without.
  rateLimit: (c: Credentials) => ({
    limit: c.systemKey ? 250 : 125,
    windowMs: 10_000,
    headers: FUB_RATE_LIMIT_HEADERS,
  }),
  authHeaders: (c: Credentials) => {
    const headers: Record<string, string> = { Authorization: `Basic ${btoa(`${c.apiKey ?? ""}:`)}` };
    if (c.system) headers["X-System"] = c.system;
    if (c.systemKey) headers["X-System-Key"] = c.systemKey;
    return headers;
  },
  firstPageUrl: ({ baseUrl, entity, since }) => {
    const url = new URL(entity.listPath, baseUrl);
    url.searchParams.set("limit", String(PAGE_SIZE));
    // Ascending by update time so the compound (updated, id) cursor only ever moves forward.
    url.searchParams.set("sort", "updated");
    if (since) url.searchParams.set("updatedAfter", since);
    return url.toString();
  },
  parsePage: (body, entity, requestUrl): Page => {
    const list =
      body && typeof body === "object" ? (body as Record<string, unknown>)[entity.collectionKey] : null;
    if (!Array.isArray(list)) throw new Error(`response has no "${entity.collectionKey}" array`);
    const meta = metadataOf(body);
    let nextUrl: string | null = null;
    if (typeof meta.nextLink === "string" && meta.nextLink) nextUrl = meta.nextLink;
    else if (typeof meta.next === "string" && meta.next) {
      const url = new URL(requestUrl);
      url.searchParams.set("next", meta.next);
      url.searchParams.delete("offset");
      nextUrl = url.toString();
    }
    return { records: list, nextUrl, total: typeof meta.total === "number" ? meta.total : null };
  },
};

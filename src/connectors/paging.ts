import { sameOrigin } from "../core/same-origin";
import type { EntityDef, Page, PagingSpec, SyncMode } from "./types";

/** Reads `a.b.c` from a parsed JSON body; undefined when any step is missing. */
export function valueAt(body: unknown, path: string): unknown {
  let cur: unknown = body;
  for (const key of path.split(".")) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The value at the first of `paths` present in the body (alternative names of one field). */
export function firstValueAt(body: unknown, paths: string | string[]): unknown {
  for (const path of typeof paths === "string" ? [paths] : paths) {
    const v = valueAt(body, path);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

function numberAt(body: unknown, path: string | string[] | undefined): number | null {
  if (!path) return null;
  const v = firstValueAt(body, path);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The value at collectionKey, else at the first of its declared alternatives present. */
function collectionAt(body: unknown, entity: EntityDef): unknown {
  const list = valueAt(body, entity.collectionKey);
  if (list !== undefined) return list;
  for (const key of entity.collectionKeyAlternatives ?? []) {
    const v = valueAt(body, key);
    if (v !== undefined) return v;
  }
  return undefined;
}

function recordsOf(body: unknown, entity: EntityDef): unknown[] {
  const list = entity.collectionKey === "" ? body : collectionAt(body, entity);
  if (!Array.isArray(list)) {
    throw new Error(
      entity.collectionKey === ""
        ? "response is not an array"
        : `response has no "${entity.collectionKey}" array`,
    );
  }
  return list;
}

/** The values a nested entity's path and parent parameter take for one parent (see ParentSpec). */
export function parentValues(
  entity: EntityDef,
  parentId: string,
  ancestors: Record<string, string> | null | undefined,
): Record<string, string> {
  const values: Record<string, string> = { ...(ancestors ?? {}) };
  if (entity.parent?.pathParam) values[entity.parent.pathParam] = parentId;
  if (entity.parent?.param) values[entity.parent.param] = parentId;
  return values;
}

/**
 * The parent values a child list URL itself names: its path matched against the entity's listPath (under the
 * base URL's path) and its parent query parameter. Null when the URL is not a list of this entity. After a
 * redirect (a parent merged into another) this is the survivor's, which the run's parent cursor doesn't know.
 */
export function listPathValues(
  entity: EntityDef,
  url: string,
  baseUrl: string,
): Record<string, string> | null {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(baseUrl);
  } catch {
    return null;
  }
  if (target.origin !== base.origin) return null;
  const prefix = base.pathname.replace(/\/$/, "");
  if (!target.pathname.startsWith(`${prefix}/`)) return null;
  const names: string[] = [];
  const pattern = entity.listPath
    .split(/(\{[A-Za-z0-9_]+\})/)
    .map((part) => {
      const name = /^\{([A-Za-z0-9_]+)\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      names.push(name);
      return "([^/]+)";
    })
    .join("");
  const match = new RegExp(`^${pattern}/?$`).exec(target.pathname.slice(prefix.length));
  if (!match) return null;
  const values: Record<string, string> = {};
  try {
    names.forEach((name, i) => {
      values[name] = decodeURIComponent(match[i + 1] ?? "");
    });
  } catch {
    return null;
  }
  const param = entity.parent?.param;
  const byParam = param ? target.searchParams.get(param) : null;
  if (param && byParam) values[param] = byParam;
  return values;
}

/** The list path with its `{name}` placeholders filled; a placeholder without a value is an error, never sent. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined || v === "") throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(v);
  });
}

/** The incremental bound as the provider spells it: `param=since`, or a value embedded in one parameter. */
function setIncremental(url: URL, entity: EntityDef, since: string): void {
  const { filter, param } = entity.incremental;
  if (filter) {
    const value = filter.template.split("{since}").join(since);
    const existing = url.searchParams.get(filter.param);
    url.searchParams.set(filter.param, existing ? `${existing}${filter.joiner ?? ","}${value}` : value);
  } else if (param) url.searchParams.set(param, since);
}

/**
 * Query parameters of the first page, before auth: paging start, entity params, incremental bound and, for an
 * entity listed per parent, the parent filter and path.
 */
export function firstPageUrl(
  paging: PagingSpec,
  args: {
    baseUrl: string;
    entity: EntityDef;
    mode: SyncMode;
    since: string | null;
    parentId?: string | null;
    parentParams?: Record<string, string> | null;
    settings?: Record<string, unknown>;
  },
): string {
  const { entity, since } = args;
  let values: Record<string, string> = {};
  if (entity.parent) {
    // Without its parent filter such a list is refused (or, worse, answered for every parent at once).
    if (args.parentId == null) throw new Error(`${entity.name} is listed per ${entity.parent.entity}`);
    values = parentValues(entity, args.parentId, args.parentParams);
  }
  const url = new URL(
    fillPath(entity.listPath, values).replace(/^\//, ""),
    args.baseUrl.endsWith("/") ? args.baseUrl : `${args.baseUrl}/`,
  );
  for (const [k, v] of Object.entries(entity.listParams ?? {})) url.searchParams.set(k, v);
  // Ordered by the cursor field in every mode, so an onboarding run leaves a cursor a delta run can start from.
  for (const [k, v] of Object.entries(entity.incremental.sortParams ?? {})) url.searchParams.set(k, v);
  if (since) {
    const format = entity.incremental.formatSince;
    setIncremental(url, entity, format ? format(since, args.settings ?? {}) : since);
  }
  if (entity.parent?.param && args.parentId != null) url.searchParams.set(entity.parent.param, args.parentId);
  // One record answers a detail: there is nothing to page.
  if (entity.single) return url.toString();
  switch (paging.style) {
    case "keyset-next":
      url.searchParams.set(paging.limitParam, String(paging.pageSize));
      break;
    case "offset":
      url.searchParams.set(paging.limitParam, String(paging.pageSize));
      url.searchParams.set(paging.offsetParam, "0");
      break;
    case "page-number":
      url.searchParams.set(paging.sizeParam, String(paging.pageSize));
      url.searchParams.set(paging.pageParam, String(paging.firstPage));
      break;
    case "link-next":
      break;
  }
  return url.toString();
}

/**
 * The record of a single-record response (a detail, a record's own URL): the object at collectionKey, or the
 * whole body when that holds no object. An array there is taken as it is.
 */
export function recordsOfOne(body: unknown, entity: EntityDef): unknown[] {
  const wrapped = entity.recordKey ? valueAt(body, entity.recordKey) : undefined;
  if (wrapped && typeof wrapped === "object" && !Array.isArray(wrapped)) return [wrapped];
  const at = entity.collectionKey === "" ? body : valueAt(body, entity.collectionKey);
  if (Array.isArray(at)) return at;
  if (at && typeof at === "object") return [at];
  if (body && typeof body === "object" && !Array.isArray(body)) return [body];
  throw new Error("response is not a record");
}

function intParam(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  const n = raw === null ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

/**
 * Records of a list response and the URL of the page after it (null on the last page). The next URL always
 * derives from the request URL or a link the provider gave, so filters and sort carry over unchanged.
 */
export function parsePage(paging: PagingSpec, body: unknown, entity: EntityDef, requestUrl: string): Page {
  if (entity.single) return { records: recordsOfOne(body, entity), nextUrl: null, total: null };
  const records = recordsOf(body, entity);
  switch (paging.style) {
    case "keyset-next": {
      const total = numberAt(body, paging.totalPath);
      const link = paging.nextLinkPath ? valueAt(body, paging.nextLinkPath) : undefined;
      const token = firstValueAt(body, paging.nextPath);
      let nextUrl: string | null = null;
      // Declared for a provider that hands out a token on every page: a short (or empty) page is the last.
      if (
        paging.lastOnShort &&
        records.length < intParam(new URL(requestUrl), paging.limitParam, paging.pageSize)
      )
        return { records, nextUrl, total };
      // A ready-made link is taken only on the origin we called: credentials never follow a link elsewhere,
      // and a connection reached through a proxy or an egress gateway stays on it.
      if (typeof link === "string" && link !== "" && sameOrigin(link, requestUrl)) nextUrl = link;
      else if (typeof token === "string" && token !== "") {
        const url = new URL(requestUrl);
        for (const p of paging.dropOnNext ?? []) url.searchParams.delete(p);
        url.searchParams.set(paging.nextParam, token);
        nextUrl = url.toString();
      }
      return { records, nextUrl, total };
    }
    case "offset": {
      const total = numberAt(body, paging.totalPath);
      const url = new URL(requestUrl);
      const limit = intParam(url, paging.limitParam, paging.pageSize);
      const offset = intParam(url, paging.offsetParam, 0);
      const reached = offset + records.length;
      const more = records.length > 0 && records.length >= limit && (total === null || reached < total);
      if (!more) return { records, nextUrl: null, total };
      // Re-reading the tail of this page costs nothing in versions (unchanged records write nothing); always
      // at least one record forward, so a large overlap can never loop.
      const back = Math.min(Math.max(0, paging.overlap ?? 0), records.length - 1);
      url.searchParams.set(paging.offsetParam, String(reached - back));
      return { records, nextUrl: url.toString(), total };
    }
    case "page-number": {
      const total = numberAt(body, paging.totalPath);
      const url = new URL(requestUrl);
      const size = intParam(url, paging.sizeParam, paging.pageSize);
      const page = intParam(url, paging.pageParam, paging.firstPage);
      const seen = (page - paging.firstPage) * size + records.length;
      const flag = paging.morePath ? valueAt(body, paging.morePath) : undefined;
      const more =
        typeof flag === "boolean"
          ? flag && records.length > 0
          : records.length > 0 && records.length >= size && (total === null || seen < total);
      if (!more) return { records, nextUrl: null, total };
      url.searchParams.set(paging.pageParam, String(page + 1));
      return { records, nextUrl: url.toString(), total };
    }
    case "link-next": {
      const links = valueAt(body, paging.linksPath);
      const relField = paging.relField ?? "rel";
      const hrefField = paging.hrefField ?? "href";
      let nextUrl: string | null = null;
      if (Array.isArray(links)) {
        for (const l of links) {
          const rel = valueAt(l, relField);
          const href = valueAt(l, hrefField);
          if (rel === paging.rel && typeof href === "string" && href !== "") {
            // Relative hrefs resolve against the page that carried them. A link to another origin is not
            // followed: credentials never leave the connection's host (or the proxy it is reached through). It
            // fails the page rather than ending the list, since a scan taken as complete would delete the rest.
            const next = new URL(href, requestUrl).toString();
            if (!sameOrigin(next, requestUrl)) throw new Error("next link leaves the connection's origin");
            nextUrl = next;
            break;
          }
        }
      }
      return { records, nextUrl, total: null };
    }
  }
}

import { describe, expect, it } from "vitest";
import { authHeaders, authorizeUrl } from "../../src/connectors/auth";
import { defineConnector } from "../../src/connectors/define";
import { firstPageUrl, parsePage } from "../../src/connectors/paging";
import type { EntityDef, PagingSpec } from "../../src/connectors/types";
import { fubPeople } from "../../src/db/schema";

// Every paging style runs against a tiny fake provider holding N records, and must visit each exactly once.
const N = 23;
const ids = Array.from({ length: N }, (_, i) => i + 1);
const rec = (id: number) => ({ id, updated: `2024-01-01T00:00:${String(id).padStart(2, "0")}Z` });

function entity(collectionKey: string): EntityDef {
  return {
    name: "things",
    listPath: "/api/things",
    collectionKey,
    idField: "id",
    incremental: { param: "updatedAfter", cursorField: "updated", sortParams: { sort: "updated" } },
    schema: undefined as never,
    coreTable: fubPeople,
    deleteTargets: () => [],
    sourceIdOf: (r) => String((r as { id: number }).id),
    cursorOf: () => null,
    toCore: () => [],
  };
}

/** Follows nextUrl from the first page to the end, the way the sync runner does. */
function crawl(paging: PagingSpec, e: EntityDef, serve: (url: URL) => unknown, since: string | null = null) {
  const seen: number[] = [];
  const urls: string[] = [];
  let url: string | null = firstPageUrl(paging, {
    baseUrl: "https://api.example.com",
    entity: e,
    mode: "delta",
    since,
  });
  for (let guard = 0; url && guard < 100; guard++) {
    urls.push(url);
    const page = parsePage(paging, serve(new URL(url)), e, url);
    seen.push(...page.records.map((r) => (r as { id: number }).id));
    url = page.nextUrl;
  }
  return { seen, urls };
}

describe("paging styles", () => {
  it("keyset-next follows _metadata.next, keeps filters and drops offset", () => {
    const paging: PagingSpec = {
      style: "keyset-next",
      pageSize: 5,
      limitParam: "limit",
      nextParam: "next",
      nextPath: "_metadata.next",
      totalPath: "_metadata.total",
      dropOnNext: ["offset"],
    };
    const { seen, urls } = crawl(
      paging,
      entity("things"),
      (u) => {
        expect(u.searchParams.get("offset")).toBeNull();
        const after = Number(u.searchParams.get("next") ?? "0");
        const limit = Number(u.searchParams.get("limit"));
        const page = ids.filter((id) => id > after).slice(0, limit);
        const last = page.at(-1);
        const more = last !== undefined && last < N;
        return { _metadata: { total: N, next: more ? String(last) : null }, things: page.map(rec) };
      },
      "2023-12-31T00:00:00.000Z",
    );
    expect(seen).toEqual(ids);
    expect(urls).toHaveLength(5);
    for (const u of urls) {
      const p = new URL(u).searchParams;
      expect(p.get("updatedAfter")).toBe("2023-12-31T00:00:00.000Z");
      expect(p.get("sort")).toBe("updated");
    }
  });

  it("keyset-next prefers a ready-made nextLink when the provider gives one", () => {
    const paging: PagingSpec = {
      style: "keyset-next",
      pageSize: 2,
      limitParam: "limit",
      nextParam: "next",
      nextPath: "_metadata.next",
      nextLinkPath: "_metadata.nextLink",
    };
    const page = parsePage(
      paging,
      {
        _metadata: { next: "tok", nextLink: "https://api.example.com/api/things?next=tok&limit=2" },
        things: [],
      },
      entity("things"),
      "https://api.example.com/api/things?limit=2",
    );
    expect(page.nextUrl).toBe("https://api.example.com/api/things?next=tok&limit=2");
  });

  it("keyset-next ignores a nextLink on another origin and builds the next page from the token", () => {
    const paging: PagingSpec = {
      style: "keyset-next",
      pageSize: 2,
      limitParam: "limit",
      nextParam: "next",
      nextPath: "_metadata.next",
      nextLinkPath: "_metadata.nextLink",
    };
    const page = parsePage(
      paging,
      {
        _metadata: { next: "tok", nextLink: "https://elsewhere.example.net/api/things?next=tok" },
        things: [],
      },
      entity("things"),
      "https://proxy.example.com/api/things?limit=2&sort=updated",
    );
    expect(page.nextUrl).toBe("https://proxy.example.com/api/things?limit=2&sort=updated&next=tok");
  });

  it("offset pages by limit+offset and stops at total or a short page", () => {
    const paging: PagingSpec = {
      style: "offset",
      pageSize: 5,
      limitParam: "limit",
      offsetParam: "offset",
      totalPath: "meta.total",
    };
    const serve = (withTotal: boolean) => (u: URL) => {
      const offset = Number(u.searchParams.get("offset"));
      const limit = Number(u.searchParams.get("limit"));
      return {
        ...(withTotal ? { meta: { total: N } } : {}),
        leads: ids.slice(offset, offset + limit).map(rec),
      };
    };
    expect(crawl(paging, entity("leads"), serve(true)).seen).toEqual(ids);
    expect(crawl(paging, entity("leads"), serve(false)).seen).toEqual(ids);
    // Exactly divisible without a total: one extra, empty page ends the run.
    const even = crawl(paging, entity("leads"), (u) => {
      const offset = Number(u.searchParams.get("offset"));
      return {
        leads: ids
          .slice(0, 20)
          .slice(offset, offset + 5)
          .map(rec),
      };
    });
    expect(even.seen).toEqual(ids.slice(0, 20));
    expect(even.urls).toHaveLength(5);
  });

  it("offset reads a bare array when the entity has no collection key", () => {
    const paging: PagingSpec = { style: "offset", pageSize: 10, limitParam: "limit", offsetParam: "offset" };
    const { seen } = crawl(paging, entity(""), (u) => {
      const offset = Number(u.searchParams.get("offset"));
      return ids.slice(offset, offset + 10).map(rec);
    });
    expect(seen).toEqual(ids);
  });

  for (const firstPage of [0, 1] as const) {
    it(`page-number counts pages from ${firstPage}`, () => {
      const paging: PagingSpec = {
        style: "page-number",
        pageSize: 4,
        pageParam: "batch_number",
        sizeParam: "batch_size",
        firstPage,
        totalPath: "meta.total",
      };
      const { seen, urls } = crawl(paging, entity("data"), (u) => {
        const page = Number(u.searchParams.get("batch_number")) - firstPage;
        const size = Number(u.searchParams.get("batch_size"));
        return { meta: { total: N }, data: ids.slice(page * size, page * size + size).map(rec) };
      });
      expect(seen).toEqual(ids);
      expect(urls.map((u) => new URL(u).searchParams.get("batch_number"))).toEqual(
        Array.from({ length: 6 }, (_, i) => String(i + firstPage)),
      );
    });
  }

  it("link-next follows links[rel=next], relative hrefs included", () => {
    const paging: PagingSpec = { style: "link-next", linksPath: "links", rel: "next" };
    const { seen } = crawl(paging, entity("value"), (u) => {
      const start = Number(u.searchParams.get("start") ?? "0");
      const slice = ids.slice(start, start + 7);
      const links = [{ rel: "self", href: u.toString() }];
      if (start + 7 < N) links.push({ rel: "next", href: `/api/things?start=${start + 7}` });
      return { value: slice.map(rec), links };
    });
    expect(seen).toEqual(ids);
  });

  it("link-next refuses a next link on another origin: the page fails instead of ending the list", () => {
    const paging: PagingSpec = { style: "link-next", linksPath: "links", rel: "next" };
    const body = (href: string) => ({ value: [rec(1)], links: [{ rel: "next", href }] });
    const from = "https://api.example.com/api/things?pageNumber=1";
    expect(
      parsePage(paging, body("https://api.example.com/api/things?pageNumber=2"), entity("value"), from),
    ).toMatchObject({ nextUrl: "https://api.example.com/api/things?pageNumber=2" });
    // A scan taken as complete there would delete every record it never reached.
    expect(() =>
      parsePage(paging, body("https://elsewhere.example.net/api/things?pageNumber=2"), entity("value"), from),
    ).toThrow(/origin/);
    expect(() =>
      parsePage(paging, body("http://api.example.com/api/things?pageNumber=2"), entity("value"), from),
    ).toThrow(/origin/);
  });

  it("a response without the records array is an error, not an empty page", () => {
    const paging: PagingSpec = { style: "offset", pageSize: 5, limitParam: "limit", offsetParam: "offset" };
    expect(() => parsePage(paging, { errorMessage: "nope" }, entity("leads"), "https://x.test/a")).toThrow(
      /leads/,
    );
  });
});

describe("declared auth", () => {
  const creds = { apiKey: "k1", token: "t1", systemKey: "sk", session: "s1" };
  it("builds each scheme's headers or query parameter from credential fields", () => {
    expect(
      authHeaders(
        { kind: "apiKeyBasic", keyField: "apiKey", extraHeaders: { "X-System-Key": "systemKey" } },
        creds,
      ),
    ).toEqual({
      Authorization: `Basic ${btoa("k1:")}`,
      "X-System-Key": "sk",
    });
    expect(authHeaders({ kind: "bearer", tokenField: "token" }, creds)).toEqual({
      Authorization: "Bearer t1",
    });
    expect(
      authHeaders({ kind: "header", header: "Authorization", keyField: "apiKey", prefix: "token" }, creds),
    ).toEqual({
      Authorization: "token k1",
    });
    expect(
      authHeaders(
        {
          kind: "session",
          header: "Session",
          sessionField: "session",
          login: { path: "/auth/login", method: "POST" },
        },
        creds,
      ),
    ).toEqual({ Session: "s1" });
    const query = { kind: "query", param: "api_token", keyField: "apiKey" } as const;
    expect(authHeaders(query, creds)).toEqual({});
    expect(
      new URL(authorizeUrl(query, "https://x.test/v1/p?limit=5", creds)).searchParams.get("api_token"),
    ).toBe("k1");
  });

  it("omits optional headers whose credential is absent and names (never shows) a missing required one", () => {
    expect(
      authHeaders(
        { kind: "apiKeyBasic", keyField: "apiKey", extraHeaders: { "X-System": "system" } },
        { apiKey: "k" },
      ),
    ).toEqual({
      Authorization: `Basic ${btoa("k:")}`,
    });
    expect(() =>
      authHeaders({ kind: "bearer", tokenField: "accessToken" }, { apiKey: "secret-value" }),
    ).toThrow(/accessToken/);
    try {
      authHeaders({ kind: "bearer", tokenField: "accessToken" }, { apiKey: "secret-value" });
    } catch (e) {
      expect(String(e)).not.toContain("secret-value");
    }
  });
});

describe("defineConnector", () => {
  const c = defineConnector({
    provider: "demo",
    defaultBaseUrl: "https://api.example.com/base",
    auth: { kind: "query", param: "api_token", keyField: "apiKey" },
    paging: { style: "offset", pageSize: 50, limitParam: "limit", offsetParam: "offset" },
    rateLimit: {
      limit: 10,
      windowMs: 60_000,
      headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
      elevated: { whenCredential: "premium", limit: 20 },
    },
    webhooks: null,
    byIds: { param: "ids", separator: ",", max: 2 },
    entities: { things: entity("things") },
  });

  it("keeps the base URL's path and derives the rate limit from credentials", () => {
    const first = new URL(
      c.firstPageUrl({
        baseUrl: c.defaultBaseUrl,
        entity: entity("things"),
        mode: "onboarding",
        since: null,
      }),
    );
    expect(first.pathname).toBe("/base/api/things");
    expect(first.searchParams.get("offset")).toBe("0");
    expect(first.searchParams.get("updatedAfter")).toBeNull();
    expect(c.rateLimit({}).limit).toBe(10);
    expect(c.rateLimit({ premium: "yes" }).limit).toBe(20);
  });

  it("chunks explicit id fetches by the declared maximum", () => {
    const urls =
      c.recordsUrls({ baseUrl: c.defaultBaseUrl, entity: entity("things"), ids: ["1", "2", "3"] }) ?? [];
    expect(urls.map((u) => new URL(u).searchParams.get("ids"))).toEqual(["1,2", "3"]);
    expect(urls.map((u) => new URL(u).searchParams.get("limit"))).toEqual(["2", "1"]);
  });
});

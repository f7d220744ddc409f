import { describe, expect, it } from "vitest";
import { firstPageUrl, parsePage } from "../../src/connectors/paging";
import type { EntityDef, PagingSpec } from "../../src/connectors/types";
import { stageRecords } from "../../src/db/schema";

// A provider whose clients disagree on the list's key (`transactions`, `data`, `content`) and which says
// whether more pages follow (`hasNext`): every record is visited once whichever key a page uses, a page
// shorter than asked (a size clamped silently) does not end the list while `hasNext` is true, and a page
// under none of the keys fails rather than reading as an empty last page.
const N = 23;
const records = Array.from({ length: N }, (_, i) => ({ id: i + 1 }));

const entity: EntityDef = {
  name: "things",
  listPath: "/api/things",
  collectionKey: "transactions",
  collectionKeyAlternatives: ["data", "content"],
  idField: "id",
  incremental: { param: null, cursorField: "id" },
  schema: undefined as never,
  coreTable: stageRecords,
  deleteTargets: () => [],
  sourceIdOf: (r) => String((r as { id: number }).id),
  cursorOf: () => null,
  toCore: () => [],
};

const paging: PagingSpec = {
  style: "page-number",
  pageSize: 10,
  pageParam: "pageNumber",
  sizeParam: "pageSize",
  firstPage: 0,
  morePath: "hasNext",
};

function crawl(serve: (url: URL, n: number) => unknown) {
  const seen: number[] = [];
  let url: string | null = firstPageUrl(paging, {
    baseUrl: "https://api.example.com",
    entity,
    mode: "delta",
    since: null,
  });
  for (let n = 0; url && n < 100; n++) {
    const page = parsePage(paging, serve(new URL(url), n), entity, url);
    seen.push(...page.records.map((r) => (r as { id: number }).id));
    url = page.nextUrl;
  }
  return seen;
}

describe("page-number paging with list-key alternatives and a more flag", () => {
  it("reads every record once whichever key each page uses", () => {
    const keys = ["transactions", "data", "content"];
    const seen = crawl((url, n) => {
      const p = Number(url.searchParams.get("pageNumber"));
      const slice = records.slice(p * 10, p * 10 + 10);
      return { [keys[n % 3] as string]: slice, hasNext: (p + 1) * 10 < N };
    });
    expect(seen).toEqual(records.map((r) => r.id));
  });

  it("a short page with hasNext true is not the last; hasNext false ends a full page", () => {
    // The provider clamps the size to 4 without saying so.
    const clamped = crawl((url) => {
      const p = Number(url.searchParams.get("pageNumber"));
      return { transactions: records.slice(p * 4, p * 4 + 4), hasNext: (p + 1) * 4 < N };
    });
    expect(clamped).toEqual(records.map((r) => r.id));
    let calls = 0;
    const ended = crawl(() => {
      calls++;
      return { transactions: records.slice(0, 10), hasNext: false };
    });
    expect(ended.length).toBe(10);
    expect(calls).toBe(1);
  });

  it("without the flag, the short-page rule applies; a page under none of the keys fails", () => {
    const seen = crawl((url) => {
      const p = Number(url.searchParams.get("pageNumber"));
      return { data: records.slice(p * 10, p * 10 + 10) };
    });
    expect(seen).toEqual(records.map((r) => r.id));
    expect(() => parsePage(paging, { items: [] }, entity, "https://api.example.com/api/things")).toThrow(
      /no "transactions" array/,
    );
  });
});

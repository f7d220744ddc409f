import { describe, expect, it } from "vitest";
import { parsePage } from "../../src/connectors/paging";
import type { EntityDef, PagingSpec } from "../../src/connectors/types";

// Offset paging with `overlap`: each next page starts `overlap` records before the end of the previous one, so
// records removed ahead of the position while a list is read (shifting the rest towards the start) are still
// listed. A bare-array provider stand-in serves `limit`/`offset` over a list the test mutates between pages.

const entity = { name: "items", collectionKey: "" } as unknown as EntityDef;
const spec = (overlap?: number): PagingSpec => ({
  style: "offset",
  pageSize: 4,
  limitParam: "limit",
  offsetParam: "offset",
  ...(overlap === undefined ? {} : { overlap }),
});

/** Reads the whole list page by page; `between(pageNo)` mutates the list after each page. */
function readAll(list: number[], paging: PagingSpec, between: (page: number) => void = () => {}) {
  const seen: number[] = [];
  let url: string | null = "http://p.test/items?limit=4&offset=0";
  let pages = 0;
  while (url && pages < 100) {
    const u = new URL(url);
    const offset = Number(u.searchParams.get("offset"));
    const limit = Number(u.searchParams.get("limit"));
    const page = parsePage(paging, list.slice(offset, offset + limit), entity, url);
    seen.push(...(page.records as number[]));
    url = page.nextUrl;
    between(++pages);
  }
  return { seen, pages };
}

describe("offset paging with overlap", () => {
  it("steps back by the overlap and still ends on a short page", () => {
    const first = parsePage(spec(1), [1, 2, 3, 4], entity, "http://p.test/items?limit=4&offset=8");
    expect(new URL(first.nextUrl ?? "").searchParams.get("offset")).toBe("11");
    expect(parsePage(spec(1), [1, 2], entity, "http://p.test/items?limit=4&offset=8").nextUrl).toBeNull();
    // Without overlap the next offset is the end of the page, as before.
    const plain = parsePage(spec(), [1, 2, 3, 4], entity, "http://p.test/items?limit=4&offset=8");
    expect(new URL(plain.nextUrl ?? "").searchParams.get("offset")).toBe("12");
    // An overlap as large as the page still moves one record forward: no loop.
    const big = parsePage(spec(10), [1, 2, 3, 4], entity, "http://p.test/items?limit=4&offset=8");
    expect(new URL(big.nextUrl ?? "").searchParams.get("offset")).toBe("9");
  });

  it("a record removed ahead of the position skips a live record without overlap, none with it", () => {
    const run = (overlap?: number) => {
      const list = Array.from({ length: 12 }, (_, i) => i + 1);
      // After the first page (1-4), record 2 is removed: 5 moves to offset 3.
      return readAll(list, spec(overlap), (page) => {
        if (page === 1) list.splice(1, 1);
      });
    };
    const live = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const without = run();
    expect(live.filter((id) => !without.seen.includes(id))).toEqual([5]);
    const withOverlap = run(1);
    expect(live.filter((id) => !withOverlap.seen.includes(id))).toEqual([]);
    // Every record at least once; the overlap re-reads a few (unchanged content writes nothing).
    expect(new Set(withOverlap.seen).size).toBe(12);
  });
});

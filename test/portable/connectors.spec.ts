// The connector layer is runtime-agnostic too: the FUB connector's paging, validation and mapping, and the
// generic paging styles, under Node, workerd, Bun and Deno alike.
import { fub } from "../../src/connectors/fub";
import { firstPageUrl, parsePage } from "../../src/connectors/paging";
import type { EntityDef } from "../../src/connectors/types";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const people = fub.entities.people as EntityDef;
const person = (id: number, updated: string) => ({
  id,
  created: "2024-01-01T00:00:00Z",
  updated,
  firstName: `F${id}`,
  lastName: "Doe",
  emails: [{ value: `p${id}@example.com`, type: "home", isPrimary: true }],
  phones: [],
  tags: [],
});

test("fub: keyset paging from the first page to the last visits every record once", () => {
  const all = Array.from({ length: 250 }, (_, i) => person(i + 1, "2024-03-01T12:00:00Z"));
  let url: string | null = fub.firstPageUrl({
    baseUrl: "https://fub.example",
    entity: people,
    mode: "delta",
    since: "2024-01-01T00:00:00.000Z",
  });
  const seen: number[] = [];
  for (let guard = 0; url && guard < 10; guard++) {
    const u = new URL(url);
    assertEqual(u.pathname, "/v1/people");
    assertEqual(u.searchParams.get("updatedAfter"), "2024-01-01T00:00:00.000Z");
    const after = Number(u.searchParams.get("next") ?? 0);
    const limit = Number(u.searchParams.get("limit"));
    const page = all.filter((p) => p.id > after).slice(0, limit);
    const last = page.at(-1)?.id ?? 0;
    const next = last < all.length ? String(last) : null;
    const parsed = fub.parsePage(
      { _metadata: { collection: "people", total: all.length, next, nextLink: null }, people: page },
      people,
      url,
    );
    seen.push(...parsed.records.map((r) => (r as { id: number }).id));
    assertEqual(parsed.total, all.length);
    url = parsed.nextUrl;
  }
  assertDeepEqual(
    seen,
    all.map((p) => p.id),
  );
});

test("fub: the person schema accepts a real record and rejects malformed ids and timestamps", () => {
  assertTrue(people.schema.safeParse(person(1, "2024-03-01T12:00:00Z")).success);
  assertTrue(!people.schema.safeParse({ ...person(2, "2024-03-01T12:00:00Z"), id: "abc" }).success);
  assertTrue(
    !people.schema.safeParse({ ...person(3, "2024-03-01T12:00:00Z"), updated: "yesterday" }).success,
  );
});

test("fub: a person maps to fub_people and the unified contacts row, keyed by its source", () => {
  const parsed = people.schema.parse(person(42, "2024-03-01T12:00:00Z"));
  const writes = people.toCore(parsed, { accountId: "acc_1", connectionId: "con_1" });
  assertTrue(writes.length >= 2, `expected own + unified writes, got ${writes.length}`);
  for (const w of writes) {
    assertEqual(w.row.account_id, "acc_1");
    assertEqual(w.row.connection_id, "con_1");
    assertEqual(String(w.row.source_id), "42");
    assertEqual(new Date(String(w.row.source_updated_at)).toISOString(), "2024-03-01T12:00:00.000Z");
  }
  assertDeepEqual(people.cursorOf(person(42, "2024-03-01T12:00:00Z")), {
    updated: "2024-03-01T12:00:00.000Z",
    id: "42",
  });
  assertEqual(people.cursorOf({ id: 43, updated: "garbage" }), null);
});

test("paging: offset and page-number styles stop at the last page", () => {
  const entity = { ...people, listPath: "/things", collectionKey: "items" } as EntityDef;
  const rows = Array.from({ length: 23 }, (_, i) => ({ id: i + 1 }));
  for (const paging of [
    { style: "offset", pageSize: 10, limitParam: "limit", offsetParam: "offset" } as const,
    { style: "page-number", pageSize: 10, pageParam: "page", sizeParam: "size", firstPage: 1 } as const,
  ]) {
    let url: string | null = firstPageUrl(paging, {
      baseUrl: "https://p.example",
      entity,
      mode: "onboarding",
      since: null,
    });
    const seen: number[] = [];
    for (let guard = 0; url && guard < 10; guard++) {
      const u = new URL(url);
      const start =
        paging.style === "offset"
          ? Number(u.searchParams.get("offset") ?? 0)
          : (Number(u.searchParams.get("page")) - 1) * 10;
      const page = parsePage(paging, { items: rows.slice(start, start + 10) }, entity, url);
      seen.push(...page.records.map((r) => (r as { id: number }).id));
      url = page.nextUrl;
    }
    assertDeepEqual(
      seen,
      rows.map((r) => r.id),
    );
  }
});

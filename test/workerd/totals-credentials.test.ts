import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineConnector } from "../../src/connectors/define";
import type { EntityDef } from "../../src/connectors/types";
import { stageRecords } from "../../src/db/schema";

// A count asked per user: the totals URL is built from the connection's credentials (an id the connect step
// stored), and a connection without that credential has no cheap count (uncountable, rescanned instead).
const items: EntityDef = {
  name: "items",
  listPath: "/items",
  collectionKey: "items",
  idField: "id",
  incremental: { param: null, cursorField: "id" },
  schema: z.unknown(),
  coreTable: stageRecords,
  deleteTargets: () => [],
  sourceIdOf: () => null,
  cursorOf: () => null,
  toCore: () => [],
};

const connector = defineConnector({
  provider: "totals-credentials-test",
  defaultBaseUrl: "https://api.example.test",
  auth: { kind: "header", header: "X-Key", keyField: "key" },
  paging: { style: "page-number", pageSize: 10, pageParam: "page", sizeParam: "size", firstPage: 0 },
  rateLimit: { limit: 10, windowMs: 1000, headers: { limit: "L", remaining: "R" } },
  webhooks: null,
  byIds: null,
  entities: { items },
  totals: {
    url: ({ baseUrl, credentials }) =>
      credentials?.userId ? `${baseUrl}/users/${credentials.userId}/count` : null,
    of: (body) => (body as { n: number }).n,
  },
});

describe("totals from the connection's credentials", () => {
  it("passes the credentials to the count URL, and none means uncountable", () => {
    const baseUrl = "https://api.example.test/v1";
    expect(connector.totalUrl({ baseUrl, entity: items, credentials: { key: "k", userId: "u-7" } })).toBe(
      "https://api.example.test/v1/users/u-7/count",
    );
    expect(connector.totalUrl({ baseUrl, entity: items, credentials: { key: "k" } })).toBeNull();
    expect(connector.totalUrl({ baseUrl, entity: items })).toBeNull();
    expect(connector.totalOf({ n: 42 }, items, "x")).toBe(42);
  });
});

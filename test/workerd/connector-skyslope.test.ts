import { describe, expect, it } from "vitest";
import fixture from "../../../shared/fixtures/skyslope/files.value.readme-sample.json";
import { readJson } from "../../durable-objects/provider-call";
import { skyslope } from "../../src/connectors/skyslope";
import { repairSkyslopeBody } from "../../src/connectors/skyslope/body";
import { formatSkyslopeSince, INSTANTS } from "../../src/connectors/skyslope/records";
import {
  loginTimestamp,
  skyslopeLoginRequest,
  skyslopeSignature,
} from "../../src/connectors/skyslope/signature";
import {
  instantToNaive,
  naiveToInstant,
  skyslopeDate,
  skyslopeInstant,
} from "../../src/connectors/skyslope/time";
import { listings, skyslopeTransactions, transactions } from "../../src/db/schema";
import { createSkyslopeSimulator } from "../../tools/simulator-skyslope/app";

// The SkySlope connector in workerd (Web Crypto, Intl): the login signature against a known answer, offset-less
// times in a zone across daylight-saving changes, the body repair, the vendor sample through schema and
// mapping, and the simulator's lists read page by page through the declared paging.

const LA = { timeZone: "America/Los_Angeles" };
const source = { accountId: "acc", connectionId: "con" };

describe("login signature", () => {
  it("matches the known answer of the published algorithm (base64 HMAC-SHA256 over clientId:clientSecret:Timestamp)", async () => {
    expect(
      await skyslopeSignature(
        "accessSecret-EXAMPLE",
        "clientId-EXAMPLE",
        "clientSecret-EXAMPLE",
        "2020-10-13T18:38:42Z",
      ),
    ).toBe("JIdEDJrGPEPraV3S/86CCiZyl1tPzhT2Lg6zNRSjJVg=");
  });

  it("builds the Timestamp and SS Authorization headers and the client body", async () => {
    const now = Date.UTC(2020, 9, 13, 18, 38, 42, 997);
    expect(loginTimestamp(now)).toBe("2020-10-13T18:38:42Z");
    const req = await skyslopeLoginRequest({
      credentials: {
        accessKey: "ak",
        accessSecret: "accessSecret-EXAMPLE",
        clientId: "clientId-EXAMPLE",
        clientSecret: "clientSecret-EXAMPLE",
      },
      settings: {},
      now,
    });
    expect(req).toEqual({
      headers: {
        Timestamp: "2020-10-13T18:38:42Z",
        Authorization: "SS ak:JIdEDJrGPEPraV3S/86CCiZyl1tPzhT2Lg6zNRSjJVg=",
      },
      body: { clientID: "clientId-EXAMPLE", clientSecret: "clientSecret-EXAMPLE" },
    });
  });

  it("is accepted by the simulator, which checks it on its own; a skewed Timestamp is refused", async () => {
    const sim = createSkyslopeSimulator({ counts: { sales: 1, listings: 1, users: 1, offices: 1 } });
    const credentials = {
      accessKey: "sim-access-key",
      accessSecret: "sim-access-secret",
      clientId: "sim-client-id",
      clientSecret: "sim-client-secret",
    };
    const login = async (now: number) => {
      const r = await skyslopeLoginRequest({ credentials, settings: {}, now });
      return sim.fetch(
        new Request("http://sim.test/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", ...r.headers },
          body: JSON.stringify(r.body),
        }),
      );
    };
    const ok = await login(Date.now());
    expect(ok.status).toBe(200);
    expect(Object.keys((await ok.json()) as object)).toEqual(["Session", "Expiration"]);
    expect((await login(Date.now() - 10 * 60_000)).status).toBe(401);
    expect(sim.stats.refusedReasons).toEqual({ skew: 1 });
  });

  it("a missing credential names the field, never a value", async () => {
    await expect(
      skyslopeLoginRequest({
        credentials: { accessKey: "ak", clientId: "c", clientSecret: "TOPSECRET" },
        settings: {},
        now: 0,
      }),
    ).rejects.toThrow(/"accessSecret"/);
  });
});

describe("offset-less times", () => {
  it("are read in the connection's zone, exact across the spring-forward", () => {
    expect(naiveToInstant("2026-03-08T01:59:59.5", LA.timeZone)).toBe("2026-03-08T09:59:59.5Z");
    expect(naiveToInstant("2026-03-08T03:00:00.12", LA.timeZone)).toBe("2026-03-08T10:00:00.12Z");
    // The skipped hour takes the offset from before the change.
    expect(naiveToInstant("2026-03-08T02:30:00", LA.timeZone)).toBe("2026-03-08T10:30:00Z");
    // Summer and winter offsets; .NET's 7 fraction digits kept to microseconds.
    expect(naiveToInstant("2026-07-01T12:00:00.9971234", LA.timeZone)).toBe("2026-07-01T19:00:00.997123Z");
    expect(naiveToInstant("2026-12-01T12:00:00", LA.timeZone)).toBe("2026-12-01T20:00:00Z");
  });

  it("resolve a fall-back's repeated hour to its earlier instant, and write bounds an hour early there", () => {
    expect(naiveToInstant("2026-11-01T01:30:00", LA.timeZone)).toBe("2026-11-01T08:30:00Z");
    expect(naiveToInstant("2026-11-01T02:30:00", LA.timeZone)).toBe("2026-11-01T10:30:00Z");
    // A file written at 09:05Z shows 01:05: a bound from 08:50Z (01:50 PDT) must still include it.
    const bound = formatSkyslopeSince("2026-11-01T08:50:00.000Z", LA);
    expect(bound).toBe("2026-11-01T00:50:00.000");
    expect(bound < "2026-11-01T01:05:00").toBe(true);
  });

  it("default to UTC, as public clients read them; an unknown zone is an error", () => {
    expect(skyslopeInstant("2020-10-13T18:38:42.997", "UTC")).toBe("2020-10-13T18:38:42.997Z");
    expect(formatSkyslopeSince("2020-10-13T18:38:42.997Z", {})).toBe("2020-10-13T18:38:42.997");
    expect(instantToNaive("2026-03-08T10:00:00.120Z", LA.timeZone)).toBe("2026-03-08T03:00:00.120");
    expect(() => formatSkyslopeSince("2020-10-13T18:38:42Z", { timeZone: "Mars/Olympus" })).toThrow(
      /timeZone/,
    );
  });

  it("treat the .NET unset date as no date", () => {
    expect(skyslopeInstant("0001-01-01T00:00:00", "UTC")).toBeNull();
    expect(skyslopeDate("0001-01-01T00:00:00")).toBeNull();
    expect(skyslopeDate("2020-10-15T00:00:00")).toBe("2020-10-15");
  });
});

describe("bodies with control characters", () => {
  it("keep the record: raw controls inside strings become escapes, NUL is dropped", async () => {
    const raw =
      '{"value":[{"saleGuid":"5342bb92-4f6d-4df2-bb03-7be81e2336c7","email":"a\u0001b\u001ac\u0000d"}]}\u0001';
    expect((await readJson(new Response(raw))).ok).toBe(false);
    const read = await readJson(new Response(raw), skyslope.repairBody);
    expect(read).toEqual({
      ok: true,
      body: { value: [{ saleGuid: "5342bb92-4f6d-4df2-bb03-7be81e2336c7", email: "a\u0001b\u001acd" }] },
    });
    // Escaped, a NUL parses into the string: prepare drops it too, so the record stays storable.
    const escaped = skyslope.parsePage(
      { value: [{ ...(fixture[0] as object), email: "a\u0000b", modifiedOn: "2020-10-13T18:38:42.997" }] },
      skyslope.entities.transaction as never,
      "https://api.skyslope.com/api/files",
      {},
    ).records[0] as Record<string, unknown>;
    expect(escaped.email).toBe("ab");
    const clean = '{"a":"b\\u0001"}';
    expect(repairSkyslopeBody(clean)).toBe(clean);
    expect(repairSkyslopeBody('{"a":"q\\"\u0002"}')).toBe('{"a":"q\\"\\u0002"}');
  });
});

describe("the vendor sample through the connector", () => {
  const entities = skyslope.entities;
  const url = "https://api.skyslope.com/api/files?type=all";
  const page = skyslope.parsePage({ value: fixture }, entities.transaction as never, url, {});

  it("validates the sale records and maps them to core and unified rows", () => {
    const sales = page.records.filter((r) => (r as { objectType: string }).objectType === "sale");
    expect(sales).toHaveLength(2);
    const parsed = entities.transaction?.schema.safeParse(sales[1]);
    expect(parsed?.success).toBe(true);
    const writes = entities.transaction?.toCore(parsed?.data, source) ?? [];
    expect(writes.map((w) => w.table)).toEqual([skyslopeTransactions, transactions]);
    expect(writes[0]?.row).toMatchObject({
      source_id: "e7eb561a-5d5f-402d-944e-4038242378cb",
      source_updated_at: "2020-10-13T18:39:55.757Z",
      status_id: 59,
      status: "Incomplete",
      contract_acceptance_date: null,
      office_guid: "d530742d-97e1-47fb-81a4-bb21c2cf1ab8",
      street_address: null,
    });
    expect(writes[1]?.row).toMatchObject({ provider: "skyslope", status: "Incomplete", contract_date: null });
    expect(entities.transaction?.cursorOf(sales[0])).toEqual({
      updated: "2020-10-13T18:38:42.997Z",
      id: "5342bb92-4f6d-4df2-bb03-7be81e2336c7",
    });
  });

  it("validates the listing record (variable fraction digits) and maps it to a listing", () => {
    const rec = skyslope.parsePage({ value: fixture }, entities.listing as never, url, {}).records[1];
    expect((rec as Record<string, unknown>)[INSTANTS]).toEqual({
      modifiedOn: "2020-10-13T18:39:21.14Z",
      createdOn: "2020-10-13T18:39:21.123Z",
    });
    const parsed = entities.listing?.schema.safeParse(rec);
    expect(parsed?.success).toBe(true);
    const writes = entities.listing?.toCore(parsed?.data, source) ?? [];
    expect(writes[1]?.table).toBe(listings);
    expect(writes[1]?.row).toMatchObject({
      source_id: "4b9624c6-effc-44cc-9f38-6cef37ee0aa3",
      listed_at: "2020-10-13T00:00:00Z",
      price: "10",
    });
  });

  it("refuses a non-GUID id and a file without a readable modifiedOn", () => {
    const bad = { ...(fixture[0] as object), saleGuid: "12345" };
    expect(
      entities.transaction?.schema.safeParse(
        skyslope.parsePage({ value: [bad] }, entities.transaction as never, url, {}).records[0],
      ).success,
    ).toBe(false);
    const timeless = { ...(fixture[0] as object), modifiedOn: "yesterday" };
    const prepared = skyslope.parsePage({ value: [timeless] }, entities.transaction as never, url, {})
      .records[0];
    expect(entities.transaction?.schema.safeParse(prepared).success).toBe(false);
    expect(entities.transaction?.cursorOf(prepared)).toBeNull();
    // Upper case or a trailing ':' is the same GUID.
    expect(entities.transaction?.sourceIdOf({ saleGuid: "5342BB92-4F6D-4DF2-BB03-7BE81E2336C7:" })).toBe(
      "5342bb92-4f6d-4df2-bb03-7be81e2336c7",
    );
  });
});

describe("the simulator's lists through the declared paging", () => {
  it("reads every file once, with the 7-day window lifted and deltas bounded in the zone's wall time", async () => {
    const sim = createSkyslopeSimulator({ timeZone: LA.timeZone, counts: { sales: 130, listings: 20 } });
    const login = await skyslopeLoginRequest({
      credentials: {
        accessKey: "sim-access-key",
        accessSecret: "sim-access-secret",
        clientId: "sim-client-id",
        clientSecret: "sim-client-secret",
      },
      settings: LA,
      now: Date.now(),
    });
    const res = await sim.fetch(
      new Request("http://sim.test/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", ...login.headers },
        body: JSON.stringify(login.body),
      }),
    );
    const session = ((await res.json()) as { Session: string }).Session;
    const entity = skyslope.entities.transaction as never;
    const crawl = async (since: string | null) => {
      let next: string | null = skyslope.firstPageUrl({
        baseUrl: "http://sim.test",
        entity,
        mode: since ? "delta" : "onboarding",
        since,
        settings: LA,
      });
      const ids: string[] = [];
      let pages = 0;
      while (next) {
        const r = await sim.fetch(new Request(next, { headers: { Session: session } }));
        const read = await readJson(r, skyslope.repairBody);
        if (!read.ok) throw new Error(read.error);
        const page = skyslope.parsePage(read.body, entity, next, LA);
        ids.push(...page.records.map((x) => skyslope.entities.transaction?.sourceIdOf(x) ?? "?"));
        next = page.nextUrl;
        pages++;
      }
      return { ids, pages };
    };
    const all = await crawl(null);
    expect(all.pages).toBe(3);
    expect(new Set(all.ids).size).toBe(130);
    expect(all.ids.sort()).toEqual(
      sim.store
        .truth()
        .transactions.map((t) => t.guid)
        .sort(),
    );
    // A bound in the middle: exactly the files modified after it (less the hour written early in a DST zone).
    const truth = sim.store.truth().transactions;
    const since = [...truth.map((t) => t.modifiedAt)].sort()[65] as string;
    const delta = await crawl(since);
    const expected = truth.filter((t) => Date.parse(t.modifiedAt) > Date.parse(since) - 3_600_000);
    expect(delta.ids.sort()).toEqual(expected.map((t) => t.guid).sort());
    expect(delta.ids.length).toBeLessThan(100);
  });
});

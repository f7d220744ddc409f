import { describe, expect, it } from "vitest";
import fieldValues from "../../../shared/fixtures/opentoclose/property.field_values.json";
import findingsPrefix from "../../../shared/fixtures/opentoclose/property.get.findings-prefix.json";
import { opentoclose } from "../../src/connectors/opentoclose";
import { propertyContacts } from "../../src/connectors/opentoclose/children";
import { decimalOf, localDate, localToInstant } from "../../src/connectors/opentoclose/local-time";
import { otcPropertySchema, properties, typedProperty } from "../../src/connectors/opentoclose/properties";
import { NOT_A_LISTING_AT } from "../../src/connectors/opentoclose/unified";
import { connectorFor, webhookOnlySchemes } from "../../src/connectors/registry";
import { listings, transactions } from "../../src/db/schema/unified";
import { scanIntervalMinutes } from "../../src/sync/scan-cadence";

const source = { accountId: "acc_otc", connectionId: "conn_otc" };
const TOKEN = "otc-secret-token-123";

/** The real fixture's field values as one property of the findings' shape. */
function realProperty(edit: (fv: { key: string; value: string }[]) => void = () => {}) {
  const fv = structuredClone(fieldValues) as {
    key: string;
    value: string;
    id: number;
    type: string;
    label: string;
  }[];
  edit(fv);
  return { ...structuredClone(findingsPrefix), field_values: fv };
}

function rows(record: unknown) {
  const parsed = otcPropertySchema.parse(record);
  return properties.toCore(parsed, source);
}

describe("Open To Close connector", () => {
  it("is registered, out of the webhook-only list, with no webhooks", () => {
    expect(connectorFor("opentoclose")).toBe(opentoclose);
    expect(Object.keys(webhookOnlySchemes())).not.toContain("opentoclose");
    expect(opentoclose.webhooks).toBeNull();
    for (const e of Object.values(opentoclose.entities)) expect(e.versioning).toBe("contentHash");
  });

  it("scans on a cadence the one-a-second budget allows: every entity lists whole on every run", () => {
    for (const [name, e] of Object.entries(opentoclose.entities)) expect(e.completeScans, name).toBe(true);
    // A round of scans of 1,000 properties: 20 pages of properties, then contacts, notes and tasks per property.
    const requests = 20 + 3 * 1_000;
    expect(scanIntervalMinutes({ requests, limit: 1, windowMs: 1_000 })).toBe(Math.ceil(requests / 30));
    // A small account is scanned at the scheduler's default interval.
    expect(scanIntervalMinutes({ requests: 41, limit: 1, windowMs: 1_000 })).toBe(15);
  });

  it("adds the token only when a call is made: never in the first-page or next-page URL, never in headers", () => {
    const creds = { apiToken: TOKEN };
    const first = opentoclose.firstPageUrl({
      baseUrl: "https://api.opentoclose.com/v1",
      entity: properties,
      mode: "onboarding",
      since: null,
    });
    expect(first).toBe("https://api.opentoclose.com/v1/properties?limit=50&offset=0");
    expect(JSON.stringify(opentoclose.authHeaders(creds))).not.toContain(TOKEN);
    const page = opentoclose.parsePage(
      Array.from({ length: 50 }, (_, i) => ({ id: i + 1 })),
      properties,
      first,
    );
    // 50 on, less the 5 re-read in case a property was removed ahead of the position.
    expect(page.nextUrl).toBe("https://api.opentoclose.com/v1/properties?limit=50&offset=45");
    expect(page.nextUrl).not.toContain(TOKEN);
    const short = opentoclose.parsePage([{ id: 1 }], properties, page.nextUrl as string);
    expect(short.nextUrl).toBeNull();
    const sent = new URL(opentoclose.sendUrl(first, creds));
    expect(sent.searchParams.get("api_token")).toBe(TOKEN);
    // A missing token names the field, never a value.
    expect(() => opentoclose.sendUrl(first, {})).toThrow(/apiToken/);
    const child = opentoclose.firstPageUrl({
      baseUrl: "https://api.opentoclose.com/v1",
      entity: propertyContacts,
      mode: "delta",
      since: null,
      parentId: "985708",
    });
    expect(child).toBe("https://api.opentoclose.com/v1/properties/985708/contacts?limit=50&offset=0");
  });

  it("maps the real property: every field value kept by key, typed projections, created in its zone", () => {
    const [own, tx, listing] = rows(
      realProperty((fv) => {
        const set = (k: string, v: string) => {
          const f = fv.find((x) => x.key === k);
          if (f) f.value = v;
        };
        set("purchase_amount", "450,000.50");
        set("closing_date", "2025-07-01");
        set("contract_date", "06/02/2025");
        set("listing_date", "2025-05-20");
        set("listing_status", "Active");
        set("property_address", "655 Scarlett Street");
        set("property_city", "Forney");
        set("property_state", "TX");
        set("property_zip", "75126");
      }),
    );
    const row = own?.row as Record<string, unknown>;
    const fields = row.fields as Record<string, string>;
    expect(Object.keys(fields)).toHaveLength(497);
    expect(fields.contract_title).toBe("655 Scarlett Street, Forney, TX, 75126");
    expect(fields.sisu_id_number).toBe("");
    expect((row.field_types as Record<string, { type: string }>).closing_date?.type).toBe("date");
    expect(row.source_id).toBe("985708");
    expect(row.source_updated_at).toBeNull();
    // 05:01:56 in US/Mountain (MDT, UTC-6 in May) is 11:01:56Z.
    expect(row.source_created_at).toBe("2025-05-22T11:01:56.000Z");
    expect(row).toMatchObject({
      timezone: "US/Mountain",
      purchase_amount: "450000.50",
      closing_date: "2025-07-01",
      contract_date: "2025-06-02",
      listing_date: "2025-05-20",
      address: "655 Scarlett Street",
      zip: "75126",
    });
    expect(tx?.table).toBe(transactions);
    expect(tx?.row).toMatchObject({
      provider: "opentoclose",
      source_id: "985708",
      name: "655 Scarlett Street, Forney, TX, 75126",
      address: "655 Scarlett Street, Forney, TX 75126",
      price: "450000.50",
      contract_date: "2025-06-02",
      close_date: "2025-07-01",
      deleted_at: null,
    });
    expect(listing?.table).toBe(listings);
    expect(listing?.row).toMatchObject({
      status: "Active",
      deleted_at: null,
      postal_code: "75126",
      // Midnight of the listing date in the property's zone.
      listed_at: "2025-05-20T06:00:00.000Z",
    });
  });

  it("never fails a record over its fields: unknown keys, removed keys, odd values, a missing key", () => {
    const odd = realProperty((fv) => {
      fv.splice(0, 300);
      fv.push({ id: 1, key: "brand_new_field", value: "x", type: "mystery", label: "New" } as never);
      fv.push({ id: 2, value: "no key", type: "text", label: "Broken" } as never);
      fv.push({ id: 3, key: "purchase_amount", value: 12 as never, type: "decimal", label: "P" } as never);
      fv.push({ id: 4, key: "closing_date", value: "TBD", type: "date", label: "C" } as never);
    });
    const [own, tx, listing] = rows(odd);
    const row = own?.row as Record<string, unknown>;
    expect((row.fields as Record<string, string>).brand_new_field).toBe("x");
    expect(row.closing_date).toBeNull();
    expect(tx?.row).toMatchObject({ close_date: null });
    // No listing data: the listing row is written deleted, so a property that loses it stops being a listing.
    expect(listing?.row).toMatchObject({ deleted_at: NOT_A_LISTING_AT });
    expect(otcPropertySchema.safeParse({ ...odd, id: 2 ** 60 }).success).toBe(false);
    expect(otcPropertySchema.safeParse({ ...odd, field_values: "nope" }).success).toBe(false);
    expect(otcPropertySchema.safeParse({ ...odd, timezone: "Mars/Olympus" }).success).toBe(true);
    expect(
      typedProperty(otcPropertySchema.parse({ ...odd, timezone: "Mars/Olympus" })).closingDate,
    ).toBeNull();
  });

  it("reads local times and values leniently", () => {
    expect(localToInstant("2025-01-15 08:00:00", "US/Eastern")).toBe("2025-01-15T13:00:00.000Z");
    expect(localToInstant("2025-07-15 08:00:00", "US/Eastern")).toBe("2025-07-15T12:00:00.000Z");
    expect(localToInstant("2025-07-15 08:00:00", "Mars/Olympus")).toBeNull();
    expect(localToInstant("yesterday", "US/Eastern")).toBeNull();
    expect(localDate("2025-07-01T03:00:00Z", "US/Pacific")).toBe("2025-06-30");
    expect(localDate("02/30/2025", null)).toBeNull();
    expect(decimalOf("$3,000")).toBe("3000");
    expect(decimalOf("n/a")).toBeNull();
  });

  it("keys a property contact by property, contact and role (the item has no id)", () => {
    const item = {
      contact: { id: 77, first_name: "Ava", last_name: "Stone", email: "a@x.test" },
      contact_role: { title: "Buyer" },
      propertyId: "985708",
    };
    expect(propertyContacts.sourceIdOf(item)).toBe("985708:77:Buyer");
    const [row] = propertyContacts.toCore(propertyContacts.schema.parse(item), source);
    expect(row?.row).toMatchObject({ source_id: "985708:77:Buyer", property_id: 985708, role: "Buyer" });
  });
});

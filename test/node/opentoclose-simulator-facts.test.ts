// Pins the Open To Close simulator to the published facts (../shared/PROVIDERS-WAVE2.md §5) and the real
// fixture (../shared/fixtures/opentoclose): field values as {id, value, type, label, key} with every value a
// string, per-account field sets of 134 and 497 built around the real keys and types, `created` without an
// offset plus `timezone`, no update time, query-token auth (a header answers 403), bare arrays paged by
// limit/offset with the caps, POST /v1/properties → 405 Allow: GET, PATCH, and about one request per second.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSimulator } from "../../tools/simulator-opentoclose/app";
import { REAL_FIELDS } from "../../tools/simulator-opentoclose/fields";

const FIXTURES = new URL("../../../shared/fixtures/opentoclose/", import.meta.url);
const fixture = <T>(name: string) => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as T;
const FACTS = readFileSync(new URL("../../../shared/PROVIDERS-WAVE2.md", import.meta.url), "utf8");
const BASE = "http://otc.test";

type Field = { id: number; value: string; type: string; label: string; key: string };
type Property = Record<string, unknown> & { id: number; field_values: Field[] };

function setup(ratePerSec: number | false = false) {
  const clock = { now: Date.UTC(2026, 0, 5, 9, 0, 0) };
  const sim = createSimulator({
    now: () => clock.now,
    accounts: {
      small: { token: "tok-small", fields: 134, properties: 130, ratePerSec },
      large: { token: "tok-large", fields: 497, properties: 7, ratePerSec },
    },
  });
  const get = (path: string, init: RequestInit = {}) => sim.app.request(`${BASE}${path}`, init);
  const list = async <T>(path: string) => {
    const res = await get(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  return { sim, clock, get, list };
}

describe("Open To Close simulator facts", () => {
  it("carries the real account's field set exactly: keys, types and labels of the fixture, in order", () => {
    const real = fixture<Field[]>("property.field_values.json");
    expect(real).toHaveLength(497);
    expect(REAL_FIELDS.map(([key, type, label]) => ({ key, type, label }))).toEqual(
      real.map(({ key, type, label }) => ({ key, type, label })),
    );
    const types: Record<string, number> = {};
    for (const f of real) types[f.type] = (types[f.type] ?? 0) + 1;
    // The type counts SOURCES.md states.
    expect(types).toEqual({ text: 96, choice: 119, date: 179, number: 56, decimal: 21, textarea: 26 });
  });

  it("serves per-account field sets (134 and 497) in the fixture's shape, every value a string", async () => {
    const { list } = setup();
    const fixtureKeys = new Map(fixture<Field[]>("property.field_values.json").map((f) => [f.key, f.type]));
    const prefix = fixture<Property>("property.get.findings-prefix.json");
    for (const [token, size] of [
      ["tok-small", 134],
      ["tok-large", 497],
    ] as const) {
      const props = await list<Property[]>(`/v1/properties?api_token=${token}&limit=50`);
      expect(props.length).toBeGreaterThan(0);
      for (const p of props) {
        expect(p.field_values).toHaveLength(size);
        for (const f of p.field_values) {
          expect(Object.keys(f).sort()).toEqual(Object.keys(prefix.field_values[0] as object).sort());
          expect(typeof f.value).toBe("string");
          expect(Number.isInteger(f.id)).toBe(true);
          // Every key and type is one the real account has.
          expect(fixtureKeys.get(f.key)).toBe(f.type);
        }
        expect(p.field_values.some((f) => f.value === "")).toBe(true);
        expect(p.created).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
        expect(typeof p.timezone).toBe("string");
        // The top-level keys FACTS lists, and no update time anywhere.
        for (const k of ["team_id", "team_name", "team_user_id", "team_user_name", "agent_id", "agent_name"])
          expect(p).toHaveProperty(k);
        for (const k of ["brokerage", "api_data", "inbound_email_address"]) expect(p).toHaveProperty(k);
        expect(JSON.stringify(p)).not.toMatch(/"updated/);
      }
      // The known sync keys present in the real set are in every generated set.
      for (const k of [
        "contract_title",
        "contract_status",
        "property_address",
        "purchase_amount",
        "closing_date",
      ])
        expect(props[0]?.field_values.some((f) => f.key === k)).toBe(true);
    }
    expect(FACTS).toContain("134 in one account, 497 in another");
  });

  it("authenticates by the api_token query parameter only: a header answers 403", async () => {
    const { get } = setup();
    expect(FACTS).toContain("`Authorization: Bearer` → 403");
    expect((await get("/v1/properties", { headers: { Authorization: "Bearer tok-small" } })).status).toBe(
      403,
    );
    expect((await get("/v1/properties")).status).toBe(403);
    expect((await get("/v1/properties?api_token=nope")).status).toBe(403);
    expect((await get("/v1/properties?api_token=tok-small")).status).toBe(200);
  });

  it("pages bare arrays by limit/offset: default 20, properties capped at 50, others at 100, short page last", async () => {
    const { list } = setup();
    const first = await list<Property[]>("/v1/properties?api_token=tok-small");
    expect(Array.isArray(first)).toBe(true);
    expect(first).toHaveLength(20);
    expect(await list<Property[]>("/v1/properties?api_token=tok-small&limit=100")).toHaveLength(50);
    const seen: number[] = [];
    for (let offset = 0; ; offset += 50) {
      const page = await list<Property[]>(`/v1/properties?api_token=tok-small&limit=50&offset=${offset}`);
      seen.push(...page.map((p) => p.id));
      if (page.length < 50) break;
    }
    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);
    expect(await list<unknown[]>("/v1/contacts?api_token=tok-small&limit=100")).toHaveLength(25);
    const pc = await list<{ contact: Record<string, unknown>; contact_role: { title: string } }[]>(
      `/v1/properties/${seen[0]}/contacts?api_token=tok-small`,
    );
    expect(pc.length).toBeGreaterThan(0);
    expect(Object.keys(pc[0] ?? {}).sort()).toEqual(["contact", "contact_role"]);
    expect(typeof pc[0]?.contact.first_name).toBe("string");
    expect(typeof pc[0]?.contact_role.title).toBe("string");
  });

  it("answers POST /v1/properties with 405 Allow: GET, PATCH", async () => {
    const { get } = setup();
    const res = await get("/v1/properties?api_token=tok-small", { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, PATCH");
  });

  it("admits about one request per second per token and answers 429 beyond", async () => {
    const { get, clock, sim } = setup(1);
    expect(FACTS).toContain("1 request per second (429 on exceed)");
    expect((await get("/v1/teams?api_token=tok-small")).status).toBe(200);
    expect((await get("/v1/teams?api_token=tok-small")).status).toBe(429);
    // Another token has its own budget.
    expect((await get("/v1/teams?api_token=tok-large")).status).toBe(200);
    clock.now += 1000;
    expect((await get("/v1/teams?api_token=tok-small")).status).toBe(200);
    expect(sim.stats.get("small")?.rateLimited).toBe(1);
  });

  it("mutates: field edits, new and removed properties, a changed field set, child changes; truth follows", async () => {
    const { sim, list } = setup();
    const before = sim.truth("large");
    const r = sim.mutate("large", {
      edits: 2,
      creates: 1,
      deletes: 1,
      fieldSet: { add: 2, remove: 3 },
      childEdits: 1,
    });
    const after = sim.truth("large");
    expect(after.properties).toHaveLength(before.properties.length);
    expect(after.fields).toHaveLength(497 - 3 + 2);
    expect(after.properties.every((p) => p.field_values.length === 496)).toBe(true);
    expect(after.properties.some((p) => p.id === r.deleted[0])).toBe(false);
    expect(after.properties.some((p) => p.id === r.created[0])).toBe(true);
    const listed = await list<Property[]>("/v1/properties?api_token=tok-large&limit=50");
    expect(listed.map((p) => p.id)).toEqual(after.properties.map((p) => p.id));
    for (const key of r.fieldsRemoved) expect(listed[0]?.field_values.some((f) => f.key === key)).toBe(false);
  });
});

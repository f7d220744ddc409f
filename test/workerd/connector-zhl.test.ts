import { describe, expect, it } from "vitest";
import { connectorFor, webhookOnlySchemes } from "../../src/connectors/registry";
import { zhl } from "../../src/connectors/zhl";
import { loanOfficers, NMLS_ID, territoryMaps } from "../../src/connectors/zhl/roster";
import { eligibility } from "../../src/connectors/zhl/transfers";
import { zhlDedicatedLoanOfficerMap, zhlLoanOfficers } from "../../src/db/schema";
import { createSimulator } from "../../tools/simulator-zhl/app";

const source = { accountId: "acc_zhl", connectionId: "conn_zhl" };

const officer = {
  id: "LO-1001",
  nmlsId: "1234567",
  firstName: "Ana",
  lastName: "Ortiz",
  email: "lo-1001@zhl.example",
  status: "ACTIVE",
  territory: "WA-SEATTLE",
  createdAt: "2026-11-01T09:00:00-08:00",
  updatedAt: "2026-11-30T10:30:00-08:00",
};

describe("ZHL connector", () => {
  it("is registered with a key as Bearer, no webhooks, two roster entities and a 30-minute transfer job", () => {
    expect(connectorFor("zhl")).toBe(zhl);
    expect(Object.keys(webhookOnlySchemes())).not.toContain("zhl");
    expect(zhl.webhooks).toBeNull();
    expect(Object.keys(zhl.entities)).toEqual(["loanOfficers", "territoryMaps"]);
    expect(zhl.authHeaders({ apiKey: "k-1" })).toMatchObject({ Authorization: "Bearer k-1" });
    expect(zhl.spec.jobs?.transfers?.intervalMinutes).toBe(30);
    for (const e of Object.values(zhl.entities)) expect(e.completeScans).toBe(true);
  });

  it("maps a loan officer to its row with the update time as an instant, the NMLS id as text", () => {
    const parsed = loanOfficers.schema.parse(officer);
    const [w] = loanOfficers.toCore(parsed, source);
    expect(w?.table).toBe(zhlLoanOfficers);
    expect(w?.row).toMatchObject({
      source_id: "LO-1001",
      source_updated_at: "2026-11-30T18:30:00.000Z",
      source_created_at: "2026-11-01T17:00:00.000Z",
      nmls_id: "1234567",
      status: "ACTIVE",
      territory: "WA-SEATTLE",
      raw: officer,
    });
    expect(loanOfficers.schema.parse({ ...officer, nmlsId: 1234567 }).nmlsId).toBe(1234567);
    expect(loanOfficers.cursorOf(officer)).toEqual({ updated: "2026-11-30T18:30:00.000Z", id: "LO-1001" });
  });

  it("refuses malformed ids and times, keeping the lenient id read for staging", () => {
    for (const bad of [
      { ...officer, id: 1001 },
      { ...officer, id: "../LO-1" },
      { ...officer, updatedAt: "yesterday" },
      { ...officer, updatedAt: undefined },
    ])
      expect(loanOfficers.schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(loanOfficers.sourceIdOf({ ...officer, updatedAt: "x" })).toBe("LO-1001");
    expect(loanOfficers.sourceIdOf({ id: 5 })).toBeNull();
    expect(
      territoryMaps.schema.safeParse({
        id: "DLM-1",
        loanOfficerId: "LO-1",
        role: "OTHER",
        updatedAt: officer.updatedAt,
      }).success,
    ).toBe(false);
  });

  it("reads every record the seeds-derived simulator serves", async () => {
    const sim = createSimulator({ accounts: { a: { apiKey: "k", territories: 3 } } });
    const get = async (path: string) =>
      (await (
        await sim.app.request(`http://zhl.test${path}`, { headers: { Authorization: "Bearer k" } })
      ).json()) as Record<string, unknown>;
    const officers = zhl.parsePage(
      await get("/v1/loan-officers"),
      loanOfficers,
      "http://zhl.test/v1/loan-officers",
    );
    const maps = zhl.parsePage(
      await get("/v1/dedicated-loan-officer-maps"),
      territoryMaps,
      "http://zhl.test/v1/m",
    );
    expect(officers.records).toHaveLength(9);
    expect(maps.records).toHaveLength(6);
    for (const r of officers.records) expect(loanOfficers.schema.safeParse(r).success).toBe(true);
    for (const r of maps.records) {
      const m = territoryMaps.schema.parse(r);
      expect(territoryMaps.toCore(m, source)[0]?.table).toBe(zhlDedicatedLoanOfficerMap);
    }
  });

  it("checks eligibility (a contact to hand over and a territory) and NMLS ids", () => {
    const r = { id: "LC-1", territory: "WA-SEATTLE", sender: { name: "A B", email: "a@b.c", phone: null } };
    expect(eligibility(r)).toBeNull();
    expect(eligibility({ ...r, sender: { name: "A B", email: null, phone: "555" } })).toBeNull();
    expect(eligibility({ ...r, sender: null })).toBe("contact_missing");
    expect(eligibility({ ...r, sender: { name: " ", email: "a@b.c" } })).toBe("contact_missing");
    expect(eligibility({ ...r, sender: { name: "A", email: "", phone: null } })).toBe("contact_missing");
    expect(eligibility({ ...r, territory: null })).toBe("territory_missing");
    for (const ok of ["1", "123456", "999999999999"]) expect(NMLS_ID.test(ok), ok).toBe(true);
    for (const bad of ["", "0123", "12a", "1234567890123", " 1"]) expect(NMLS_ID.test(bad), bad).toBe(false);
  });
});

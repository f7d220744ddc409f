import { describe, expect, it } from "vitest";
import {
  CACHE_TTL_MS,
  changes,
  eligibilityBatchSize,
  PRIORITY,
  ResolutionCaches,
  resolveAll,
  TtlCache,
  teamAncestry,
  transition,
} from "../../src/core/agent-resolution";

// The pure resolution module on the Worker's runtime: methods and priorities, every transition allowed, overrides,
// team inference through the hierarchy, and the caches' lifetimes against a clock passed in.
describe("agent resolution", () => {
  const teams = teamAncestry([
    { id: "top", parentId: null },
    { id: "mid", parentId: "top" },
    { id: "leaf", parentId: "mid" },
    { id: "apart", parentId: null },
    { id: "loop1", parentId: "loop2" },
    { id: "loop2", parentId: "loop1" },
  ]);

  it("CONNECTED 3 > INFERRED 2 > UNMATCHED 1; inference walks the team line both ways to a shared team", () => {
    expect(PRIORITY).toEqual({ CONNECTED: 3, INFERRED: 2, UNMATCHED: 1 });
    expect(teams.get("leaf")).toEqual(["leaf", "mid", "top"]);
    expect(teams.get("loop1")).toEqual(["loop1", "loop2"]);
    const r = resolveAll(
      [
        { id: "a", teamId: "leaf", connected: true, override: null },
        { id: "b", teamId: "top", connected: false, override: null },
        { id: "c", teamId: "apart", connected: false, override: null },
        { id: "d", teamId: null, connected: false, override: null },
        { id: "e", teamId: "apart", connected: false, override: "CONNECTED" },
        { id: "f", teamId: "loop1", connected: false, override: null },
      ],
      teams,
    );
    expect(Object.fromEntries([...r].map(([id, v]) => [id, v.method]))).toEqual({
      a: "CONNECTED",
      b: "INFERRED",
      c: "UNMATCHED",
      d: "UNMATCHED",
      e: "CONNECTED",
      f: "UNMATCHED",
    });
    expect(r.get("e")).toEqual({ method: "CONNECTED", computed: "UNMATCHED", reason: "override" });
  });

  it("every transition is allowed and says its direction; unchanged methods make no transition", () => {
    const methods = ["CONNECTED", "INFERRED", "UNMATCHED"] as const;
    for (const from of methods)
      for (const to of methods) {
        const t = transition("x", from, to, "override");
        expect(t.direction).toBe(
          PRIORITY[to] > PRIORITY[from] ? "upgrade" : PRIORITY[to] < PRIORITY[from] ? "downgrade" : "same",
        );
      }
    expect(transition("x", null, "UNMATCHED", "unmatched").direction).toBe("new");
    const next = new Map([
      ["a", { method: "INFERRED" as const, reason: "inferred" as const }],
      ["b", { method: "CONNECTED" as const, reason: "connected" as const }],
    ]);
    expect(changes(new Map([["a", "INFERRED"]]), next)).toEqual([
      { agentId: "b", from: null, to: "CONNECTED", reason: "connected", direction: "new" },
    ]);
  });

  it("caches expire at their TTL by the clock given; a team change drops the hierarchy and the methods", () => {
    expect(CACHE_TTL_MS).toEqual({ method: 300_000, tokenValidation: 30_000, teamHierarchy: 900_000 });
    const c = new TtlCache<string, number>(1_000);
    c.set("k", 1, 10_000);
    expect(c.get("k", 10_999)).toBe(1);
    expect(c.get("k", 11_000)).toBeUndefined();
    const caches = new ResolutionCaches();
    const t0 = 1_000_000;
    caches.method.set("agent", "INFERRED", t0);
    caches.tokenValidation.set("ZU1", true, t0);
    caches.teamHierarchy.set("acc/con", teams, t0);
    expect(caches.tokenValidation.get("ZU1", t0 + 29_999)).toBe(true);
    expect(caches.tokenValidation.get("ZU1", t0 + 30_000)).toBeUndefined();
    expect(caches.method.get("agent", t0 + 299_999)).toBe("INFERRED");
    expect(caches.teamHierarchy.get("acc/con", t0 + 899_999)).toBe(teams);
    caches.onTeamChange("acc/con");
    expect(caches.teamHierarchy.get("acc/con", t0 + 1)).toBeUndefined();
    expect(caches.method.get("agent", t0 + 1)).toBeUndefined();
    caches.tokenValidation.set("ZU1", true, t0);
    caches.method.set("agent", "CONNECTED", t0);
    caches.onGrantChange("ZU1");
    expect(caches.tokenValidation.get("ZU1", t0 + 1)).toBeUndefined();
    expect(caches.method.size).toBe(0);
  });

  it("eligibility batches shrink as accounts grow", () => {
    expect(eligibilityBatchSize(10)).toBe(10);
    expect(eligibilityBatchSize(5_000)).toBe(2_500);
    expect(eligibilityBatchSize(85_814)).toBe(1_000);
  });
});

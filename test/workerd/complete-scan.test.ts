import { describe, expect, it } from "vitest";
import { runWasCompleteScan } from "../../durable-objects/sync-state";
import { freshRun } from "./account-sync-fixtures";

const fanOut = (since: string | null) => ({
  current: null,
  done: "9",
  parentsDone: 3,
  parentsTotal: 3,
  startedAt: "2026-11-30 12:00:00+00",
  since,
});

describe("which finished runs are complete scans (their absences delete)", () => {
  it("onboarding always; a content-versioned run unless it listed only changed parents' children", () => {
    const run = (mode: "onboarding" | "delta", since?: string | null) =>
      freshRun("con_x", { mode, fanOut: since === undefined ? null : fanOut(since) });
    expect(runWasCompleteScan(run("onboarding"), { versioning: "updated" })).toBe(true);
    expect(
      runWasCompleteScan(run("onboarding", "2026-11-30 11:00:00+00"), { versioning: "contentHash" }),
    ).toBe(true);
    expect(runWasCompleteScan(run("delta"), { versioning: "updated" })).toBe(false);
    expect(runWasCompleteScan(run("delta"), { versioning: "contentHash" })).toBe(true);
    expect(runWasCompleteScan(run("delta", null), { versioning: "contentHash" })).toBe(true);
    // A delta that listed the children of the loops changed since the last run saw nothing of the others'.
    expect(runWasCompleteScan(run("delta", "2026-11-30 11:00:00+00"), { versioning: "contentHash" })).toBe(
      false,
    );
    // An entity declared to list everything on every run (no update filter at all).
    expect(runWasCompleteScan(run("delta"), { versioning: "updated", completeScans: true })).toBe(true);
  });
});

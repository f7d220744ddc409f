import { describe, expect, it } from "vitest";
import { progressOf } from "../../durable-objects/account-sync";
import { type SyncState, scanEstimate } from "../../durable-objects/sync-state";
import { fub } from "../../src/connectors/fub";
import type { EntityDef } from "../../src/connectors/types";
import { freshRun } from "./account-sync-fixtures";

// A complete scan of an entity versioned by content gets no total from a provider that publishes none: the
// previous complete scan's count stands in, so the status shows an ETA from the first page.

const stages = fub.entities.stages as EntityDef;
const people = fub.entities.people as EntityDef;
const texts = fub.entities.textMessages as EntityDef;

function finished(fields: Partial<SyncState>): SyncState {
  return freshRun("con_x", { status: "COMPLETED", runRecords: 400, ...fields });
}

describe("scan estimate of a content-versioned entity", () => {
  it("is the previous complete run's count, only for top-level content-versioned entities", () => {
    expect(stages.versioning).toBe("contentHash");
    expect(scanEstimate(finished({}), stages)).toBe(400);
    // Versioned by update time: its runs are not all complete scans.
    expect(scanEstimate(finished({}), people)).toBeNull();
    // Listed per parent: the ETA comes from parents done.
    expect(scanEstimate(finished({}), { ...texts, versioning: "contentHash" })).toBeNull();
    // Nothing complete before: no estimate.
    expect(scanEstimate(null, stages)).toBeNull();
    expect(scanEstimate(finished({ status: "ERROR" }), stages)).toBeNull();
    expect(scanEstimate(finished({ runRecords: 0 }), stages)).toBeNull();
  });

  it("gives a running scan an ETA from its pace against the estimate", () => {
    const now = Date.now();
    const running = freshRun("con_x", {
      entity: "stages",
      status: "IN_PROGRESS",
      lastStartedAt: now - 10_000,
      runRecords: 100,
      pageNo: 2,
      runTotal: scanEstimate(finished({}), stages),
    });
    // 100 records in 10 s, 300 to go: 30 s.
    expect(progressOf(running, now)).toMatchObject({ pages: 2, records: 100, total: 400, etaMs: 30_000 });
  });
});

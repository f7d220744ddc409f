// Structured logs during a sync whose provider fails requests and serves malformed records: every line is JSON
// with the run's ids, and neither the credential nor any record's content ever reaches the log.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rows } from "../support/db";
import { admin, entityState, fubAccount, simPut, waitFor } from "./account-sync-fixtures";

describe("structured logs", () => {
  it("writes JSON lines with account, connection, entity and run ids, and never a secret or a payload", async () => {
    const captured: string[] = [];
    const originals = { log: console.log, warn: console.warn, error: console.error, info: console.info };
    const capture =
      (orig: (...a: unknown[]) => void) =>
      (...args: unknown[]) => {
        captured.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
        orig(...args);
      };
    console.log = capture(originals.log);
    console.warn = capture(originals.warn);
    console.error = capture(originals.error);
    console.info = capture(originals.info);
    try {
      const { apiKey, accountId, connectionId } = await fubAccount({
        tenant: { counts: { people: 150 } },
        settings: { retry: { baseMs: 10, capMs: 50 } },
      });
      await simPut(apiKey, "faults", { malformedRate: 0.1, errorRate: 0.5, seed: 11 });
      const res = await admin("POST", `/accounts/${accountId}/sync`, {
        connectionId,
        entity: "people",
        mode: "onboarding",
      });
      expect(res.status).toBe(202);
      await waitFor(async () => {
        const s = await entityState(accountId, connectionId, "people");
        return s?.status === "COMPLETED" || s?.status === "ERROR";
      }, 60_000);
      const failed = await waitFor(async () => {
        const r = await rows<{ payload: unknown }>(
          sql`select payload from failed_records where connection_id = ${connectionId} and payload is not null`,
        );
        return r.length > 0 ? r : undefined;
      });
      const ours = captured.filter((l) => l.includes(accountId));
      expect(ours.length).toBeGreaterThan(0);
      // Every line of this run is one JSON object carrying the ids.
      const parsed = ours.map((l) => JSON.parse(l) as Record<string, string>);
      const runLines = parsed.filter((p) => p.runId);
      expect(runLines.length).toBeGreaterThan(0);
      for (const p of runLines) {
        expect(p).toMatchObject({ accountId, connectionId, entity: "people", logger: "edge-etl.sync" });
      }
      expect(runLines[0]?.message).toBe("onboarding run started (manual)");
      expect(runLines.at(-1)?.message).toMatch(/^run completed: 2 pages, 150 records, \d+ requests/);
      // The provider's 5xx: the step failures are logged as warnings with the run's ids.
      expect(
        runLines.some(
          (p) => p.level === "warning" && /failed: \/v1\/people: HTTP 5\d\d$/.test(p.message ?? ""),
        ),
      ).toBe(true);

      const all = captured.join("\n");
      expect(all).not.toContain(apiKey);
      // Strings of the failing records' payloads (names, emails), long enough to mean something.
      const strings = failed.flatMap((f) => stringsOf(f.payload)).filter((s) => s.length >= 6);
      expect(strings.length).toBeGreaterThan(0);
      for (const s of strings) expect(all).not.toContain(s);
    } finally {
      Object.assign(console, originals);
    }
  });
});

function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsOf);
  return [];
}

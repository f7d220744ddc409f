import { describe, expect, it } from "vitest";
import { admin, entityState, fubAccount, simSummary, stubFor, waitFor } from "./account-sync-fixtures";

type StatusBody = {
  accountId: string;
  paused: boolean;
  connections: {
    id: string;
    provider: string;
    breaker: { state: string; mode: string } | null;
    rateBudget: { limit: number; remaining: number } | null;
    entities: {
      entity: string;
      status: string;
      lease: unknown;
      progress: { pages: number; records: number; total: number | null; etaMs: number | null } | null;
      counts: { provider: number | null; ours: number | null };
      cursor?: unknown;
    }[];
  }[];
};

describe("admin sync routes", () => {
  it("status lists every connection and every entity with state, lease, breaker, budget, progress and counts", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 130 } } });
    expect(
      (
        await admin("POST", `/accounts/${accountId}/sync`, {
          connectionId,
          entity: "people",
          mode: "onboarding",
        })
      ).status,
    ).toBe(202);
    await waitFor(async () => (await entityState(accountId, connectionId, "people"))?.status === "COMPLETED");
    const res = await admin("GET", `/accounts/${accountId}/status`);
    expect(res.status).toBe(200);
    const body = await res.json<StatusBody>();
    expect(body.paused).toBe(false);
    const conn = body.connections[0];
    expect(conn).toMatchObject({
      id: connectionId,
      provider: "fub",
      breaker: { state: "closed", mode: "auto" },
    });
    expect(conn?.rateBudget?.limit).toBeGreaterThan(0);
    expect(conn?.entities.map((e) => e.entity).sort()).toEqual(
      [
        "appointments",
        "calls",
        "deals",
        "events",
        "groups",
        "people",
        "stages",
        "textMessages",
        "users",
      ].sort(),
    );
    const people = conn?.entities.find((e) => e.entity === "people");
    expect(people).toMatchObject({
      status: "COMPLETED",
      lease: null,
      progress: { pages: 2, records: 130, total: 130, etaMs: 0 },
      counts: { provider: null, ours: null },
    });
    expect(conn?.entities.find((e) => e.entity === "deals")).toMatchObject({
      status: "PENDING",
      progress: null,
    });
    expect(JSON.stringify(body)).not.toContain("apiKey");
  });

  it("validates sync requests: 400 for a bad mode or an unknown entity, 404 for unknown accounts or connections", async () => {
    const { accountId, connectionId } = await fubAccount();
    const cases: [string, unknown, number, string][] = [
      [`/accounts/${accountId}/sync`, { mode: "sideways" }, 400, "invalid_request"],
      [`/accounts/${accountId}/sync`, { mode: "delta", entity: "spaceships" }, 400, "unknown_entity"],
      [
        `/accounts/${accountId}/sync`,
        { mode: "delta", connectionId: "con_missing" },
        404,
        "connection_not_found",
      ],
      ["/accounts/acc_missing/sync", { mode: "delta" }, 404, "account_not_found"],
      [`/accounts/${accountId}/cursor/reset`, { connectionId }, 400, "invalid_request"],
      [`/accounts/${accountId}/cursor/reset`, { connectionId, entity: "nope" }, 400, "unknown_entity"],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await admin("POST", path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
    expect((await admin("GET", "/accounts/acc_missing/status")).status).toBe(404);
    const status = await stubFor(accountId).status([connectionId]);
    expect(status.connections[0]?.entities).toEqual([]);
  });

  it("pause holds runs (no provider calls) until resume; cursor reset forgets the delta cursor", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 40 } } });
    expect(await (await admin("POST", `/accounts/${accountId}/pause`)).json()).toEqual({ paused: true });
    const res = await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "people",
      mode: "delta",
    });
    expect(await res.json()).toMatchObject({ runs: [{ started: ["people"], paused: true }] });
    await new Promise((r) => setTimeout(r, 600));
    expect((await simSummary(apiKey)).requests.served).toBe(0);
    expect((await entityState(accountId, connectionId, "people"))?.status).toBe("IN_PROGRESS");

    expect(await (await admin("POST", `/accounts/${accountId}/resume`)).json()).toEqual({ paused: false });
    const done = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.status === "COMPLETED" ? s : undefined;
    });
    expect(done.cursor).not.toBeNull();

    const reset = await admin("POST", `/accounts/${accountId}/cursor/reset`, {
      connectionId,
      entity: "people",
    });
    expect(reset.status).toBe(200);
    expect((await entityState(accountId, connectionId, "people"))?.cursor).toBeNull();
  });

  it("deleting a connection drops its state in the object", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 5 } } });
    await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "people",
      mode: "onboarding",
    });
    await waitFor(async () => (await entityState(accountId, connectionId, "people"))?.status === "COMPLETED");
    expect((await admin("DELETE", `/accounts/${accountId}/connections/${connectionId}`)).status).toBe(204);
    expect((await stubFor(accountId).status()).connections).toEqual([]);
    expect((await admin("GET", `/accounts/${accountId}/connections/${connectionId}`)).status).toBe(404);
  });
});

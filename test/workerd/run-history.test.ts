// Run history, run logs and the metrics scrape, through the Worker's routes after a real sync against the
// simulator (real workerd, real Postgres).
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { pruneRunHistory } from "../../src/pipeline/retention";
import { appendRunLogs, getRun, listRunLogs, RUN_LOG_LIMIT } from "../../src/pipeline/run-history";
import { rows, uniqueId, withTestDb } from "../support/db";
import { admin, entityState, fubAccount, simPut, waitFor } from "./account-sync-fixtures";

type Run = {
  id: number;
  runId: string;
  entity: string;
  mode: string;
  trigger: string | null;
  status: string;
  pages: number;
  requests: number;
  rateLimited: number;
  fetched: number;
  written: number;
  finishedAt: string | null;
};

/** Every sample line of a Prometheus text exposition, checked for syntax; throws on a malformed line. */
function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type?.[1]) {
      if (types.has(type[1])) throw new Error(`family declared twice: ${line}`);
      types.add(type[1]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})?) (-?[0-9.e+]+|\+Inf|NaN)$/.exec(
        line,
      );
    if (!m?.[1] || m[2] === undefined) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(m[1], Number(m[2]));
  }
  return samples;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await admin("GET", "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parseProm(await res.text());
}

const COMPLETED_MANUAL = 'edge_etl_runs_completed_total{provider="fub",mode="onboarding",trigger="manual"}';

describe("run history", () => {
  it("records a manual run with trigger, pages, requests, counts and log lines, and pages through runs", async () => {
    const before = await scrape();
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 130 } } });
    const started = await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "people",
      mode: "onboarding",
    });
    expect(started.status).toBe(202);
    await waitFor(async () => (await entityState(accountId, connectionId, "people"))?.status === "COMPLETED");
    // The consumer's counts land after the object's: wait until every record is accounted for.
    const run = await waitFor(async () => {
      const res = await admin("GET", `/accounts/${accountId}/runs?entity=people`);
      const body = await res.json<{ items: Run[] }>();
      const r = body.items[0];
      return r && r.written === 130 ? r : undefined;
    });
    expect(run).toMatchObject({
      entity: "people",
      mode: "onboarding",
      trigger: "manual",
      status: "COMPLETED",
      pages: 2,
      requests: 2,
      rateLimited: 0,
      fetched: 130,
      written: 130,
    });
    expect(run.finishedAt).not.toBeNull();

    const one = await admin("GET", `/accounts/${accountId}/runs/${run.runId}`);
    expect(one.status).toBe(200);
    expect((await one.json<{ items: Run[] }>()).items.map((r) => r.id)).toEqual([run.id]);

    const logs = await admin("GET", `/accounts/${accountId}/runs/${run.runId}/logs`);
    expect(logs.status).toBe(200);
    const lines = (await logs.json<{ lines: { level: string; message: string }[] }>()).lines;
    expect(lines[0]?.message).toBe("onboarding run started (manual)");
    expect(lines.at(-1)?.message).toBe("run completed: 2 pages, 130 records, 2 requests (0 answered 429)");
    expect(JSON.stringify(lines)).not.toContain("P1 ");

    // A second run of another entity, then one run per page.
    await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "stages",
      mode: "onboarding",
    });
    await waitFor(async () => (await entityState(accountId, connectionId, "stages"))?.status === "COMPLETED");
    const p1 = await (await admin("GET", `/accounts/${accountId}/runs?limit=1`)).json<{
      items: Run[];
      nextCursor: string | null;
    }>();
    expect(p1.items.map((r) => r.entity)).toEqual(["stages"]);
    expect(p1.nextCursor).not.toBeNull();
    const p2 = await (
      await admin("GET", `/accounts/${accountId}/runs?limit=1&cursor=${p1.nextCursor}`)
    ).json<{ items: Run[] }>();
    expect(p2.items.map((r) => r.entity)).toEqual(["people"]);
    const filtered = await (
      await admin("GET", `/accounts/${accountId}/runs?status=ERROR&connectionId=${connectionId}`)
    ).json<{ items: Run[] }>();
    expect(filtered.items).toEqual([]);

    // Metrics come from Postgres: the completed manual onboarding runs are exactly what sync_runs holds.
    const after = await scrape();
    expect(after.get('edge_etl_provider_requests_total{provider="fub"}') ?? 0).toBeGreaterThan(0);
    expect((after.get(COMPLETED_MANUAL) ?? 0) - (before.get(COMPLETED_MANUAL) ?? 0)).toBeGreaterThanOrEqual(
      2,
    );
    const inDb = await rows<{ n: string }>(sql`
      select count(*) as n from sync_runs where provider = 'fub' and mode = 'onboarding'
        and coalesce(trigger, 'manual') = 'manual' and status in ('COMPLETED', 'COMPLETED_WITH_ERRORS')`);
    // Other test files may finish runs between the two reads; the scrape can't exceed what Postgres holds.
    expect(after.get(COMPLETED_MANUAL)).toBeLessThanOrEqual(Number(inDb[0]?.n));
    expect(
      after.has('edge_etl_run_duration_seconds_bucket{provider="fub",mode="onboarding",le="+Inf"}'),
    ).toBe(true);
    expect(after.get('edge_etl_records_total{provider="fub",outcome="written"}') ?? 0).toBeGreaterThanOrEqual(
      130,
    );
  });

  it("counts breaker transitions in the durable counters the scrape serves", async () => {
    const OPENED = 'edge_etl_breaker_transitions_total{provider="fub",to="open"}';
    const before = (await scrape()).get(OPENED) ?? 0;
    const { apiKey, accountId, connectionId } = await fubAccount({
      tenant: { counts: { people: 50 } },
      settings: { breaker: { minCalls: 2, openMs: 60_000 }, retry: { baseMs: 10, capMs: 20 } },
    });
    await simPut(apiKey, "faults", { errorRate: 1 });
    await admin("POST", `/accounts/${accountId}/sync`, {
      connectionId,
      entity: "people",
      mode: "onboarding",
    });
    const after = await waitFor(async () => {
      const v = (await scrape()).get(OPENED) ?? 0;
      return v > before ? v : undefined;
    }, 30_000);
    expect(after).toBeGreaterThan(before);
    const status = await (await admin("GET", `/accounts/${accountId}/status`)).json<{
      connections: { breaker: { state: string } }[];
    }>();
    expect(status.connections[0]?.breaker.state).toBe("open");
  });

  it("answers bad input with 4xx JSON errors and keeps metrics to the admin token", async () => {
    const { accountId } = await fubAccount();
    const cases: [string, number, string][] = [
      [`/accounts/${accountId}/runs?limit=0`, 400, "invalid_request"],
      [`/accounts/${accountId}/runs?limit=abc`, 400, "invalid_request"],
      [`/accounts/${accountId}/runs?status=SIDEWAYS`, 400, "invalid_request"],
      [`/accounts/${accountId}/runs?cursor=bm9wZQ`, 400, "invalid_cursor"],
      [`/accounts/${accountId}/runs/no-such-run`, 404, "run_not_found"],
      [`/accounts/${accountId}/runs/no-such-run/logs`, 404, "run_not_found"],
      [`/accounts/${uniqueId("missing")}/runs`, 404, "account_not_found"],
    ];
    for (const [path, status, code] of cases) {
      const res = await admin("GET", path);
      expect([path, res.status]).toEqual([path, status]);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe(code);
    }
    const { exports } = await import("cloudflare:workers");
    const anonymous = await exports.default.fetch("http://etl.test/admin/metrics");
    expect(anonymous.status).toBe(401);
  });

  it("keeps the oldest lines of a run up to the bound and says how many more were dropped; retention prunes", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    const runId = uniqueId("run");
    const scope = { accountId, connectionId, provider: "fub", entity: "people", runId };
    await withTestDb((db) =>
      db.execute(sql`insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, status)
                     values (${accountId}, ${connectionId}, 'fub', 'people', ${runId}, 'delta', 'COMPLETED')`),
    );
    const lines = Array.from({ length: RUN_LOG_LIMIT + 50 }, (_, i) => ({
      ...scope,
      level: "info" as const,
      message: `line ${i}`,
    }));
    await withTestDb((db) => appendRunLogs(db, lines.slice(0, 120)));
    await withTestDb((db) => appendRunLogs(db, lines.slice(120)));
    const view = await withTestDb(async (db) =>
      listRunLogs(db, accountId, await getRun(db, accountId, runId)),
    );
    expect(view).toHaveLength(RUN_LOG_LIMIT + 1);
    expect(view[0]?.message).toBe("line 0");
    expect(view[RUN_LOG_LIMIT - 1]?.message).toBe(`line ${RUN_LOG_LIMIT - 1}`);
    expect(view.at(-1)?.message).toBe(`50 more lines dropped (a run keeps its first ${RUN_LOG_LIMIT})`);

    const pruned = await withTestDb((db) => pruneRunHistory(db, 0, { accountIds: [accountId] }));
    expect(pruned.deleted).toBe(1);
    const left = await rows(sql`select 1 from sync_run_logs where run_id = ${runId}
                                union all select 1 from sync_runs where run_id = ${runId}`);
    expect(left).toEqual([]);
  });
});

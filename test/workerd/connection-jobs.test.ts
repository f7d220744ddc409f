import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptCredentials } from "../../src/accounts/connections";
import { ALERT_DEFAULTS } from "../../src/alerts/config";
import { observe } from "../../src/alerts/observe";
import { evaluateRules } from "../../src/alerts/rules";
import { defineConnector } from "../../src/connectors/define";
import { registerConnector } from "../../src/connectors/registry";
import type { JobContext, JobResult } from "../../src/connectors/types";
import { parseKeyring } from "../../src/core/crypto";
import { openDb, systemDb } from "../../src/db/client";
import { workerJobRunner } from "../../src/sync/job-runner";
import { claimDueJobs, type DueJob, runDueJobs, scheduleJobs } from "../../src/sync/jobs";
import { rows, uniqueId, withTestDb } from "../support/db";

// Periodic connector jobs (ConnectorSpec.jobs), provider-neutral: a test-only connector declares a 30-minute
// job; the scheduler gives each active connection a slot, claims it once per interval at a stable phase,
// counts started / completed / failed / accounts processed, keeps a run row per run, and the job error-rate
// rule fires above 5 %. The Worker's runner authenticates the job's calls and scopes its transactions.

const PROVIDER = "jobtest";
const MINUTE = 60_000;
let behaviour: (ctx: JobContext) => Promise<JobResult> = async () => ({ items: 0, itemErrors: 0 });

const jobtest = defineConnector({
  provider: PROVIDER,
  displayName: "Job Test",
  defaultBaseUrl: "https://api.jobtest.test",
  auth: { kind: "bearer", tokenField: "apiKey" },
  paging: { style: "offset", pageSize: 10, limitParam: "limit", offsetParam: "offset" },
  rateLimit: { limit: 10, windowMs: 1000, headers: { limit: "x-limit", remaining: "x-remaining" } },
  webhooks: null,
  byIds: null,
  entities: {},
  jobs: { sweep: { intervalMinutes: 30, run: (ctx) => behaviour(ctx) } },
});

let unregister = () => {};
beforeAll(() => {
  unregister = registerConnector(jobtest);
});
afterAll(() => unregister());

async function account(n: number, status = "active") {
  const accountId = uniqueId("jobs");
  const ids = Array.from({ length: n }, (_, i) => `${accountId}_c${i}`);
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  await rows(sql`insert into accounts (id, name) values (${accountId}, 'Jobs')`);
  for (const id of ids) {
    const enc = await encryptCredentials(keyring, accountId, id, { apiKey: `key-${id}` });
    await rows(sql`insert into connections (id, account_id, provider, credentials_enc, base_url, status)
      values (${id}, ${accountId}, ${PROVIDER}, ${enc}, 'https://api.jobtest.test/v2', ${status})`);
  }
  return { accountId, ids };
}

const jobRow = async (connectionId: string) =>
  (
    await rows<Record<string, number | string | null>>(sql`
      select started, completed, failed, accounts_processed, items, item_errors, last_outcome, last_error,
        interval_minutes from connection_jobs where connection_id = ${connectionId} and job = 'sweep'`)
  )[0];

describe("connector jobs", () => {
  it("claims each active connection's job once per interval, at its own phase, spread over the interval", async () => {
    const { accountId, ids } = await account(40);
    const paused = await account(1);
    const t0 = Date.parse("2026-12-01T10:00:00.000Z");
    const claims = new Map<string, number[]>(ids.map((id) => [id, []]));
    const perMinute: number[] = [];
    await withTestDb(async (db) => {
      await scheduleJobs(db, { accountIds: [accountId, paused.accountId] });
      // Paused after its slot was made: it keeps its row and is never claimed.
      await db.execute(sql`update connections set status = 'paused' where account_id = ${paused.accountId}`);
      for (let minute = 0; minute < 120; minute++) {
        const due = await claimDueJobs(db, {
          now: new Date(t0 + minute * MINUTE),
          accountIds: [accountId, paused.accountId],
        });
        perMinute.push(due.length);
        for (const d of due) {
          expect(d.provider).toBe(PROVIDER);
          expect(d.job).toBe("sweep");
          claims.get(d.connectionId)?.push(minute);
        }
      }
    });
    expect(perMinute[0]).toBe(40); // new: all due at once
    for (const [id, minutes] of claims) {
      const steady = minutes.filter((m) => m >= 60);
      expect(steady, id).toHaveLength(2);
      expect((steady[1] ?? 0) - (steady[0] ?? 0), id).toBe(30);
      for (let i = 1; i < minutes.length; i++)
        expect((minutes[i] ?? 0) - (minutes[i - 1] ?? 0)).toBeGreaterThanOrEqual(15);
    }
    const steadyTicks = perMinute.slice(60, 90);
    expect(steadyTicks.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...steadyTicks)).toBeLessThan(40);
    // A paused connection has a row but is never claimed.
    expect(await jobRow(paused.ids[0] as string)).toMatchObject({ started: 0 });
    expect((await jobRow(ids[0] as string))?.interval_minutes).toBe(30);
  });

  it("counts started, completed, failed and accounts processed, keeps run rows, and alerts above 5 % failures", async () => {
    const { accountId, ids } = await account(2);
    const [good, bad] = ids as [string, string];
    behaviour = async (ctx) => {
      if (ctx.connectionId === bad) throw new Error("provider answered 503");
      return { items: 3, itemErrors: 1 };
    };
    const t0 = Date.parse("2026-12-01T12:00:00.000Z");
    let report = { claimed: 0, completed: 0, failed: 0 };
    await withTestDb(async (db) => {
      for (let minute = 0; minute < 61; minute += 30) {
        const r = await runDueJobs(db, async (d: DueJob) => behaviour(ctxFor(d)), {
          accountIds: [accountId],
          now: () => new Date(t0 + minute * MINUTE),
        });
        report = {
          claimed: report.claimed + r.claimed,
          completed: report.completed + r.completed,
          failed: report.failed + r.failed,
        };
      }
    });
    expect(report.claimed).toBeGreaterThanOrEqual(4);
    expect(report.completed + report.failed).toBe(report.claimed);
    const g = await jobRow(good);
    const b = await jobRow(bad);
    expect(g).toMatchObject({ failed: 0, last_outcome: "completed", last_error: null });
    expect(g?.completed).toBe(g?.started);
    expect(g?.accounts_processed).toBe(g?.completed);
    expect(g?.items).toBe(3 * Number(g?.completed));
    expect(g?.item_errors).toBe(Number(g?.completed));
    expect(b).toMatchObject({ completed: 0, accounts_processed: 0, last_outcome: "failed" });
    expect(b?.failed).toBe(b?.started);
    expect(String(b?.last_error)).toContain("503");
    const runs = await rows<{ connection_id: string; outcome: string; n: number }>(sql`
      select connection_id, outcome, count(*)::int as n from connection_job_runs
      where account_id = ${accountId} group by 1, 2 order by 1, 2`);
    expect(runs).toEqual([
      { connection_id: good, outcome: "completed", n: Number(g?.started) },
      { connection_id: bad, outcome: "failed", n: Number(b?.started) },
    ]);
    const obs = await withTestDb((db) => observe(db, ALERT_DEFAULTS, [accountId]));
    const firing = evaluateRules(obs, ALERT_DEFAULTS, Date.now()).filter((f) => f.rule === "job_error_rate");
    expect(firing.map((f) => f.subject)).toEqual([`${accountId}/${bad}/sweep`]);
    expect(firing[0]?.value).toBe(1);
    // One failure in twenty-one runs is 4.8 %: no alert; a second one is 9.1 %: alert.
    const quiet = evaluateRules(
      {
        ...obs,
        jobRuns: [{ accountId, connectionId: good, provider: PROVIDER, job: "sweep", runs: 21, failed: 1 }],
      },
      ALERT_DEFAULTS,
      Date.now(),
    );
    expect(quiet.filter((f) => f.rule === "job_error_rate")).toEqual([]);
    const loud = evaluateRules(
      {
        ...obs,
        jobRuns: [{ accountId, connectionId: good, provider: PROVIDER, job: "sweep", runs: 22, failed: 2 }],
      },
      ALERT_DEFAULTS,
      Date.now(),
    );
    expect(loud.filter((f) => f.rule === "job_error_rate")).toHaveLength(1);
  });

  it("the Worker's runner sends the job's calls through the account's object with the connection's auth, and scopes its queries", async () => {
    const { accountId, ids } = await account(1);
    const other = await account(1);
    const seen: { url: string; auth: string | null; key: string | null; body: string | null }[] = [];
    const fakeProvider: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      seen.push({
        url: req.url,
        auth: req.headers.get("authorization"),
        key: req.headers.get("idempotency-key"),
        body: init?.body ? String(init.body) : null,
      });
      if (req.url.endsWith("/taken"))
        return new Response('{"code":"ALREADY_DONE"}', {
          status: 409,
          headers: { "content-type": "application/json" },
        });
      return new Response('{"ok":true,"big":9007199254740993}', { status: 201 });
    };
    let visible: string[] = [];
    let answer: { status: number; body: unknown } | null = null;
    let refused: { status: number; body: unknown } | null = null;
    behaviour = async (ctx) => {
      answer = await ctx.call("/things?x=1", {
        method: "POST",
        body: { a: 1 },
        headers: { "Idempotency-Key": "k" },
      });
      refused = await ctx.call("/taken", { method: "POST", body: {} });
      visible = await ctx.tenant(async (db) =>
        ((await db.execute(sql`select id from connections order by id`)).rows as { id: string }[]).map(
          (r) => r.id,
        ),
      );
      return { items: 1, itemErrors: 0 };
    };
    // The Worker's own system role, under which row-level security holds the job to its account.
    // The calls go through the account's object, whose gate (breaker, budget) every provider request passes.
    const object = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
    await runInDurableObject(object, (instance) => {
      instance.providerFetch = fakeProvider;
    });
    const handle = openDb(systemDb(env));
    try {
      const r = await runDueJobs(
        handle.db,
        workerJobRunner(handle.db, (req) => object.jobCall(req)),
        {
          accountIds: [accountId],
        },
      );
      expect(r).toEqual({ claimed: 1, completed: 1, failed: 0 });
    } finally {
      await handle.close();
    }
    expect(seen[0]).toEqual({
      url: "https://api.jobtest.test/v2/things?x=1",
      auth: `Bearer key-${ids[0]}`,
      key: "k",
      body: '{"a":1}',
    });
    expect(seen).toHaveLength(2);
    expect(answer).toMatchObject({ status: 201, body: { ok: true, big: "9007199254740993" } });
    // A refusal's short JSON body reaches the job (its error code decides what the job does next).
    expect(refused).toMatchObject({ status: 409, body: { code: "ALREADY_DONE" } });
    // The connection's gate holds a job's calls as any other: with its breaker open nothing is sent.
    await object.setBreaker(ids[0] as string, "open");
    const held = await object.jobCall({ accountId, connectionId: ids[0] as string, path: "/things" });
    expect(held).toMatchObject({ status: 0, held: "breaker_open" });
    expect(seen).toHaveLength(2);
    await object.setBreaker(ids[0] as string, "auto");
    expect(visible).toEqual(ids);
    expect(visible).not.toContain(other.ids[0]);
  });
});

function ctxFor(d: DueJob): JobContext {
  return {
    accountId: d.accountId,
    connectionId: d.connectionId,
    runId: d.runId,
    now: Date.now,
    tenant: () => Promise.reject(new Error("unused")),
    call: () => Promise.reject(new Error("unused")),
  };
}

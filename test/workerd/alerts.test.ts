// Alert rules, the Standard Webhooks signer, delivery with bounded retries, and alert state with its cooldown
// in real Postgres (real workerd); the rules' observations read from real rows.
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ALERT_DEFAULTS, alertConfig } from "../../src/alerts/config";
import { alertPayload, deliverAlert } from "../../src/alerts/deliver";
import { evaluateAlerts } from "../../src/alerts/evaluate";
import { observe } from "../../src/alerts/observe";
import { evaluateRules, type Observations } from "../../src/alerts/rules";
import { standardWebhookHeaders } from "../../src/alerts/sign";
import { listAlerts } from "../../src/alerts/state";
import { utf8 } from "../../src/core/encoding";
import { verifyStandardWebhook } from "../../src/core/signatures";
import { openDb, systemDb } from "../../src/db/client";
import { rows, uniqueId, withTestDb } from "../support/db";
import { admin } from "./account-sync-fixtures";

const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NOW = Date.parse("2026-01-01T12:00:00Z");
const conn = (accountId = "acc_a", connectionId = "con_a") => ({ accountId, connectionId, provider: "fub" });

const none = (): Observations => ({
  providerCalls: [],
  openBreakers: [],
  drift: [],
  parked: [],
  authFailed: [],
  webhookBacklog: [],
});

async function withSystemDb<T>(fn: (db: ReturnType<typeof openDb>["db"]) => Promise<T>): Promise<T> {
  const handle = openDb(systemDb(env));
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

describe("alert rules", () => {
  it("fire each rule above its threshold and stay quiet at or below it", () => {
    const cfg = ALERT_DEFAULTS;
    const obs: Observations = {
      providerCalls: [
        { ...conn("a", "hot"), requests: 100, errors: 10 },
        { ...conn("a", "at"), requests: 100, errors: 5 },
        { ...conn("a", "few"), requests: 10, errors: 5 },
      ],
      openBreakers: [
        { ...conn("a", "long"), openSince: NOW - 11 * 60_000 },
        { ...conn("a", "short"), openSince: NOW - 9 * 60_000 },
      ],
      drift: [
        { ...conn("a", "d"), entity: "people", providerCount: 1000, ourCount: 900 },
        { ...conn("a", "d"), entity: "notes", providerCount: 100_000, ourCount: 99_990 },
        { ...conn("a", "d"), entity: "calls", providerCount: 20, ourCount: 15 },
      ],
      parked: [
        { ...conn("a", "grow"), recent: 2, open: 7 },
        { ...conn("a", "old"), recent: 0, open: 50 },
      ],
      authFailed: [conn("a", "oauth")],
      webhookBacklog: [
        { ...conn("a", "late"), oldestMs: 6 * 60_000, pending: 3 },
        { ...conn("a", "fresh"), oldestMs: 4 * 60_000, pending: 30 },
      ],
    };
    const keys = evaluateRules(obs, cfg, NOW).map((f) => f.key);
    expect(keys.sort()).toEqual(
      [
        "provider_error_rate:a/hot",
        "breaker_open:a/long",
        "reconciliation_drift:a/d/people",
        "parked_growing:a/grow",
        "oauth_refresh_failing:a/oauth",
        "webhook_backlog:a/late",
      ].sort(),
    );
    const rate = evaluateRules(obs, cfg, NOW).find((f) => f.rule === "provider_error_rate");
    expect(rate).toMatchObject({ value: 0.1, threshold: 0.05, severity: "critical", accountId: "a" });
    expect(rate?.summary).toContain("10.0 %");
  });

  it("take thresholds from env, ignoring values that are not numbers", () => {
    const cfg = alertConfig({
      ALERT_ERROR_RATE: "0.2",
      ALERT_COOLDOWN_MINUTES: "abc",
      ALERT_DELIVERY_ATTEMPTS: "99",
    });
    expect(cfg.errorRate).toBe(0.2);
    expect(cfg.cooldownMinutes).toBe(ALERT_DEFAULTS.cooldownMinutes);
    expect(cfg.deliveryAttempts).toBe(10);
    const obs = { ...none(), providerCalls: [{ ...conn(), requests: 100, errors: 10 }] };
    expect(evaluateRules(obs, cfg, NOW)).toEqual([]);
  });
});

describe("alert signer and delivery", () => {
  it("signs as Standard Webhooks: the verifier accepts it, and refuses a changed body", async () => {
    const body = JSON.stringify({ text: "hello" });
    const h = await standardWebhookHeaders(SECRET, "msg_1", NOW / 1000, body);
    expect(h["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verify = (raw: string) =>
      verifyStandardWebhook({
        secrets: [SECRET],
        id: h["webhook-id"] ?? null,
        timestamp: h["webhook-timestamp"] ?? null,
        signature: h["webhook-signature"] ?? null,
        rawBody: utf8(raw),
        nowSec: NOW / 1000,
      });
    expect(await verify(body)).toEqual({ ok: true });
    expect(await verify(`${body} `)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("retries a failing receiver a bounded number of times and reports the status, never the body", async () => {
    const statuses = [500, 502, 200];
    const seen: { id: string | null; sig: string | null }[] = [];
    const receiver = async (_url: RequestInfo | URL, init?: RequestInit) => {
      const h = new Headers(init?.headers);
      seen.push({ id: h.get("webhook-id"), sig: h.get("webhook-signature") });
      return new Response("secret receiver detail", { status: statuses[seen.length - 1] ?? 500 });
    };
    const deps = { url: "http://receiver.test/", secret: SECRET, now: () => NOW, sleep: async () => {} };
    const ok = await deliverAlert({ ...deps, fetch: receiver as typeof fetch, attempts: 3 }, "id1", {
      text: "x",
    });
    expect(ok).toEqual({ ok: true, attempts: 3 });
    expect(new Set(seen.map((s) => s.id))).toEqual(new Set(["id1"]));
    seen.length = 0;
    statuses.splice(0, 3, 503, 503, 503, 200);
    const failed = await deliverAlert({ ...deps, fetch: receiver as typeof fetch, attempts: 2 }, "id2", {});
    expect(failed).toEqual({ ok: false, attempts: 2, error: "HTTP 503" });
    expect(seen).toHaveLength(2);
  });

  it("sends Slack-compatible JSON with the structured alert beside it", () => {
    const [f] = evaluateRules({ ...none(), authFailed: [conn()] }, ALERT_DEFAULTS, NOW);
    if (!f) throw new Error("no firing");
    const p = alertPayload(f, "2026-01-01T00:00:00.000Z") as {
      text: string;
      blocks: unknown[];
      alert: unknown;
    };
    expect(p.text).toContain("oauth_refresh_failing");
    expect(p.blocks.length).toBeGreaterThan(0);
    expect(p.alert).toMatchObject({
      rule: "oauth_refresh_failing",
      connectionId: "con_a",
      firingSince: "2026-01-01T00:00:00.000Z",
    });
  });
});

describe("alert state", () => {
  it("notifies once, stays quiet through the cooldown, and records a delivery that failed", async () => {
    const accountId = uniqueId("acc_alert");
    const received: unknown[] = [];
    let status = 200;
    const receiver = (async (_u: RequestInfo | URL, init?: RequestInit) => {
      received.push(JSON.parse(String(init?.body)));
      return new Response(null, { status });
    }) as typeof fetch;
    let obs: Observations = { ...none(), providerCalls: [{ ...conn(accountId), requests: 50, errors: 10 }] };
    await withSystemDb(async (db) => {
      const run = (config = ALERT_DEFAULTS) =>
        evaluateAlerts({
          db,
          config,
          observe: async () => obs,
          target: { url: "http://receiver.test/", secret: SECRET },
          fetch: receiver,
          now: Date.now,
          sleep: async () => {},
          accountIds: [accountId],
        });
      expect(await run()).toEqual({ firing: 1, notified: 1, failed: 0 });
      expect(await run()).toEqual({ firing: 1, notified: 0, failed: 0 });
      expect(received).toHaveLength(1);
      // Resolved, then firing again within the cooldown: still not sent again.
      obs = none();
      expect(await run()).toEqual({ firing: 0, notified: 0, failed: 0 });
      obs = { ...none(), providerCalls: [{ ...conn(accountId), requests: 50, errors: 10 }] };
      expect(await run()).toEqual({ firing: 1, notified: 0, failed: 0 });
      expect(received).toHaveLength(1);
      // A zero cooldown lets it through again; the receiver refuses, and the failure is kept on the condition.
      status = 500;
      expect(await run({ ...ALERT_DEFAULTS, cooldownMinutes: 0, deliveryAttempts: 2 })).toEqual({
        firing: 1,
        notified: 0,
        failed: 1,
      });
      expect(received).toHaveLength(3);
      const listed = await listAlerts(db);
      const mine = listed.firing.find((a) => a.subject === `${accountId}/con_a`);
      expect(mine).toMatchObject({
        rule: "provider_error_rate",
        sends: 1,
        deliveryFailures: 1,
        lastDeliveryError: "HTTP 500",
      });
    });
    const res = await admin("GET", "/alerts");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { firing: { subject: string }[] };
    expect(body.firing.map((a) => a.subject)).toContain(`${accountId}/con_a`);
  });

  it("observes error rates, refused OAuth grants and webhook backlogs from real rows", async () => {
    const accountId = uniqueId("acc_obs");
    // Inbox event ids are unique per (provider, connection): a connection id of this account's own.
    const conn = `${accountId}_c1`;
    await withTestDb(async (db) => {
      await db.execute(sql`insert into accounts (id, name) values (${accountId}, 'alerts')`);
      await db.execute(sql`insert into connections (id, account_id, provider, credentials_enc, status)
        values (${`${accountId}_c`}, ${accountId}, 'fub', 'x', 'auth_failed')`);
      await db.execute(sql`insert into sync_runs (account_id, connection_id, provider, entity, run_id, mode, requests, provider_errors)
        values (${accountId}, ${conn}, 'fub', 'people', 'r1', 'delta', 30, 4), (${accountId}, ${conn}, 'fub', 'notes', 'r1', 'delta', 10, 0)`);
      await db.execute(sql`insert into webhook_inbox (account_id, connection_id, provider, event_id, payload, received_at)
        values (${accountId}, ${conn}, 'fub', 'e1', '{}'::jsonb, now() - interval '7 minutes')`);
    });
    const obs = await withSystemDb((db) => observe(db, ALERT_DEFAULTS, [accountId]));
    expect(obs.providerCalls).toEqual([
      { accountId, connectionId: conn, provider: "fub", requests: 40, errors: 4 },
    ]);
    expect(obs.authFailed).toEqual([{ accountId, connectionId: `${accountId}_c`, provider: "fub" }]);
    expect(obs.webhookBacklog).toHaveLength(1);
    expect(obs.webhookBacklog[0]?.oldestMs).toBeGreaterThan(6 * 60_000);
    const rules = evaluateRules(obs, ALERT_DEFAULTS, Date.now())
      .map((f) => f.rule)
      .sort();
    expect(rules).toEqual(["oauth_refresh_failing", "provider_error_rate", "webhook_backlog"]);
    expect(await rows(sql`select 1 from accounts where id = ${accountId}`)).toHaveLength(1);
  });

  it("lists accounts for the admin token, paging by id", async () => {
    const res = await admin("GET", "/accounts?limit=1");
    expect(res.status).toBe(200);
    const page = (await res.json()) as { accounts: { id: string }[]; next: string | null };
    expect(page.accounts.length).toBeLessThanOrEqual(1);
    const bad = await admin("GET", "/accounts?limit=0");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
  });
});

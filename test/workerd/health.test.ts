import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { createApp } from "../../src/http/app";
import { uniqueId, withTestDb } from "../support/db";

type Health = {
  status: string;
  database: string;
  failed: string[];
  checks: Record<string, { ok: boolean } & Record<string, unknown>>;
};

/** /health of the app under a changed configuration (the exported Worker is bound to the normal one). */
async function healthWith(overrides: Partial<Env>): Promise<{ status: number; body: Health }> {
  const res = await createApp().request("/health", {}, { ...env, ...overrides });
  return { status: res.status, body: await res.json<Health>() };
}

describe("GET /health", () => {
  it("answers 200 when the Worker's roles are held by forced row-level security", async () => {
    const res = await exports.default.fetch("http://etl.test/health");
    expect(res.status).toBe(200);
    const body = await res.json<Health>();
    expect(body).toMatchObject({
      status: "ok",
      database: "reachable",
      failed: [],
      checks: {
        requestRole: { ok: true, bypasses: [] },
        policies: { ok: true, tablesWithoutForcedPolicy: 0 },
        timeouts: { ok: true, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000 },
        systemRole: { ok: true, connection: "SYSTEM_DATABASE_URL", spansAccounts: true },
      },
    });
  });

  it("answers 503 when the request role is a superuser (and so the tables' owner)", async () => {
    const { status, body } = await healthWith({ DATABASE_URL: env.TEST_OWNER_DATABASE_URL });
    expect(status).toBe(503);
    expect(body.status).toBe("degraded");
    expect(body.failed).toContain("requestRole");
    expect(body.checks.requestRole?.bypasses).toEqual(
      expect.arrayContaining(["superuser", "owns_account_table", "spans_accounts"]),
    );
    // No connection string, user name or password in the answer.
    const text = JSON.stringify(body);
    for (const secret of [env.TEST_OWNER_DATABASE_URL, new URL(env.TEST_OWNER_DATABASE_URL).password]) {
      expect(text).not.toContain(secret);
    }
  });

  it("answers 503 when the request role is the system role (it may span accounts)", async () => {
    const { status, body } = await healthWith({ DATABASE_URL: env.SYSTEM_DATABASE_URL ?? "" });
    expect(status).toBe(503);
    expect(body.failed).toEqual(["requestRole"]);
    expect(body.checks.requestRole?.bypasses).toEqual(["spans_accounts"]);
  });

  it("answers 503 when no system connection is configured (system paths would fall back to etl_app)", async () => {
    const { status, body } = await healthWith({ SYSTEM_DATABASE_URL: undefined });
    expect(status).toBe(503);
    expect(body.failed).toEqual(["systemRole"]);
    expect(body.checks.systemRole).toMatchObject({ ok: false, spansAccounts: false });
  });

  it("answers 503 while an account table lacks its policy, 200 once it has it again", async () => {
    const table = uniqueId("test_gap");
    await withTestDb((db) => db.execute(sql.raw(`create table ${table} (account_id text not null, v int)`)));
    try {
      expect((await healthWith({})).status).toBe(200);
      await withTestDb((db) => db.execute(sql.raw(`drop policy etl_tenant_isolation on ${table}`)));
      const { status, body } = await healthWith({});
      expect(status).toBe(503);
      expect(body.failed).toEqual(["policies"]);
      expect(body.checks.policies?.tablesWithoutForcedPolicy).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(body)).not.toContain(table);
      await withTestDb((db) => db.execute(sql`select etl_enable_rls(${table})`));
      expect((await healthWith({})).status).toBe(200);
    } finally {
      await withTestDb((db) => db.execute(sql.raw(`drop table if exists ${table}`)));
    }
  });

  it("answers 503 with database unreachable when Postgres cannot be reached", async () => {
    const { status, body } = await healthWith({ DATABASE_URL: "postgres://nobody:nothing@127.0.0.1:1/none" });
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "degraded", database: "unreachable", failed: ["database"] });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await exports.default.fetch("http://etl.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

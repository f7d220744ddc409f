import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { checkRequestRole, checkSystemRole } from "../accounts/tenancy-check";
import { systemDb, withDb } from "../db/client";
import type { Env } from "../env";
import { lastTicks } from "../sync/ticks";
import { ok, PUBLIC } from "./openapi";
import { healthView } from "./responses";

/**
 * Liveness plus the tenancy the platform relies on: the Worker's request role must be held to one account by
 * forced row-level security (not a superuser, no BYPASSRLS, owns no account table, cannot span accounts), every
 * account table must carry its forced policy, the role must have statement and idle-transaction timeouts, and
 * system work must have a role of its own (SYSTEM_DATABASE_URL) that may span accounts. Any failure is 503 with
 * the names of the failed checks; nothing about the connection strings is returned. `scheduler` shows each
 * scheduled job's last tick (when it started, how long it took, what it did); it never fails the check.
 */
const doc = describeRoute({
  tags: ["system"],
  summary: "Liveness with database reachability and the tenancy checks (roles, forced policies, timeouts)",
  ...PUBLIC,
  responses: {
    "200": ok("database reachable, every check passed", healthView),
    "503": ok("database unreachable or a check failed (named in `failed`)", healthView),
  },
});

export const health = new Hono<{ Bindings: Env }>().get("/", doc, async (c) => {
  const started = Date.now();
  const systemConfigured = Boolean(c.env.SYSTEM_DATABASE_URL);
  let request: Awaited<ReturnType<typeof checkRequestRole>>;
  let systemSpans: boolean;
  try {
    [request, systemSpans] = await Promise.all([
      withDb(c.env, checkRequestRole),
      withDb(systemDb(c.env), checkSystemRole),
    ]);
  } catch {
    return c.json({ status: "degraded", database: "unreachable", failed: ["database"] }, 503);
  }
  const checks = {
    requestRole: { ok: request.bypasses.length === 0, bypasses: request.bypasses },
    policies: {
      ok: request.tablesWithoutForcedPolicy === 0,
      tablesWithoutForcedPolicy: request.tablesWithoutForcedPolicy,
    },
    timeouts: {
      ok: request.statementTimeoutMs > 0 && request.idleInTransactionTimeoutMs > 0,
      statementTimeoutMs: request.statementTimeoutMs,
      idleInTransactionTimeoutMs: request.idleInTransactionTimeoutMs,
    },
    systemRole: {
      ok: systemConfigured && systemSpans,
      connection: systemConfigured ? "SYSTEM_DATABASE_URL" : "DATABASE_URL (SYSTEM_DATABASE_URL unset)",
      spansAccounts: systemSpans,
    },
  };
  const failed = Object.entries(checks)
    .filter(([, check]) => !check.ok)
    .map(([name]) => name);
  const body = {
    status: failed.length === 0 ? "ok" : "degraded",
    database: "reachable",
    latencyMs: Date.now() - started,
    failed,
    checks,
    scheduler: await withDb(systemDb(c.env), lastTicks).catch(() => null),
  };
  return c.json(body, failed.length === 0 ? 200 : 503);
});

import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { getAccount } from "../accounts/accounts";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { getRun, listRunLogs, listRuns } from "../pipeline/run-history";
import { requireAdmin } from "./auth";
import { idCursor } from "./id-cursor";
import { isCleanText } from "./input";
import { accountErrors, errors, ok, queryParameters } from "./openapi";
import { queryOf } from "./validate";

const short = z.string().min(1).max(256).refine(isCleanText, "holds control characters");

export const runsQuery = z.object({
  connectionId: short.optional(),
  entity: short.optional(),
  status: z
    .enum(["PENDING", "IN_PROGRESS", "COMPLETED", "COMPLETED_WITH_ERRORS", "ERROR", "ABANDONED"])
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
});

const cursor = idCursor("r");

function runIdOf(value: string): string {
  const parsed = short.safeParse(value);
  if (!parsed.success) throw new AppError(400, "invalid_request", "runId is invalid");
  return parsed.data;
}

async function existingRun(env: Env, accountId: string, runId: string) {
  return withDb(env, async (db) => {
    await getAccount(db, accountId);
    const found = await getRun(db, accountId, runId);
    if (found.length === 0) throw new AppError(404, "run_not_found", `run "${runId}" not found`);
    return { runs: found };
  });
}

const runRow = z.looseObject({
  id: z.number(),
  runId: z.string(),
  connectionId: z.string(),
  entity: z.string(),
  status: z.string(),
});
const runsPage = z.object({ items: z.array(runRow), nextCursor: z.string().nullable() });
const runView = z.object({ runId: z.string(), items: z.array(runRow) });
const runLogs = z.object({
  runId: z.string(),
  lines: z.array(z.looseObject({ at: z.string(), level: z.string(), message: z.string() })),
});
const runErrors = errors({ ...accountErrors, "400": "invalid run id", "404": "no such account or run" });

const doc = {
  list: describeRoute({
    tags: ["runs"],
    summary: "Run history: one row per entity of each run, newest first (paged, filterable)",
    parameters: queryParameters(runsQuery),
    responses: {
      "200": ok("page of runs", runsPage),
      ...errors({ ...accountErrors, "400": "invalid filter, limit or cursor" }),
    },
  }),
  one: describeRoute({
    tags: ["runs"],
    summary: "One run (by run id or history id), one row per entity",
    responses: { "200": ok("the run", runView), ...runErrors },
  }),
  logs: describeRoute({
    tags: ["runs"],
    summary: "A run's log lines (bounded per run; no payloads or secrets)",
    responses: { "200": ok("the run's log lines", runLogs), ...runErrors },
  }),
};

/** An account's run history: runs (one row per entity of a run), a run, and a run's log lines. */
export const runs = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .get("/accounts/:accountId/runs", doc.list, async (c) => {
    const accountId = c.req.param("accountId");
    const q = queryOf(runsQuery, c.req.query());
    const beforeId = cursor.decode(q.cursor);
    const page = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return listRuns(db, accountId, q, { limit: q.limit, ...(beforeId ? { beforeId } : {}) });
    });
    return c.json({
      items: page.items,
      nextCursor: page.nextBeforeId === null ? null : cursor.encode(page.nextBeforeId),
    });
  })
  .get("/accounts/:accountId/runs/:runId", doc.one, async (c) => {
    const accountId = c.req.param("accountId");
    const runId = runIdOf(c.req.param("runId"));
    const { runs: items } = await existingRun(c.env, accountId, runId);
    return c.json({ runId, items });
  })
  .get("/accounts/:accountId/runs/:runId/logs", doc.logs, async (c) => {
    const accountId = c.req.param("accountId");
    const runId = runIdOf(c.req.param("runId"));
    const lines = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      const found = await getRun(db, accountId, runId);
      if (found.length === 0) throw new AppError(404, "run_not_found", `run "${runId}" not found`);
      return listRunLogs(db, accountId, found);
    });
    return c.json({ runId, lines });
  });

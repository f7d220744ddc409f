import { Hono } from "hono";
import { z } from "zod";
import { getAccount } from "../accounts/accounts";
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../core/encoding";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { getRun, listRunLogs, listRuns } from "../pipeline/run-history";
import { requireAdmin } from "./auth";
import { isCleanText } from "./input";

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

const encodeCursor = (id: number) => toBase64Url(utf8(`r:${id}`));

function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  let text = "";
  try {
    text = fromUtf8(fromBase64Url(cursor));
  } catch {
    // falls through to the 400 below
  }
  const match = /^r:(\d{1,15})$/.exec(text);
  if (!match) throw new AppError(400, "invalid_cursor", "cursor is not one this API returned");
  return Number(match[1]);
}

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

/** An account's run history: runs (one row per entity of a run), a run, and a run's log lines. */
export const runs = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .get("/accounts/:accountId/runs", async (c) => {
    const accountId = c.req.param("accountId");
    const parsed = runsQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AppError(
        400,
        "invalid_request",
        `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
      );
    }
    const q = parsed.data;
    const beforeId = decodeCursor(q.cursor);
    const page = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return listRuns(db, accountId, q, { limit: q.limit, ...(beforeId ? { beforeId } : {}) });
    });
    return c.json({
      items: page.items,
      nextCursor: page.nextBeforeId === null ? null : encodeCursor(page.nextBeforeId),
    });
  })
  .get("/accounts/:accountId/runs/:runId", async (c) => {
    const accountId = c.req.param("accountId");
    const runId = runIdOf(c.req.param("runId"));
    const { runs: items } = await existingRun(c.env, accountId, runId);
    return c.json({ runId, items });
  })
  .get("/accounts/:accountId/runs/:runId/logs", async (c) => {
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

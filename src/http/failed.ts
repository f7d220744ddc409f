import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { getAccount } from "../accounts/accounts";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { listFailed, replayFailed } from "../pipeline/replay";
import { decidePendingDeletes, listPendingDeletes } from "../pipeline/run-completion";
import { requireAdmin } from "./auth";
import { idCursor } from "./id-cursor";
import { isCleanText } from "./input";
import { accountErrors, errors, jsonRequest, ok, queryParameters } from "./openapi";
import { deleteDecision, failedPage, heldDeletes, replayResult } from "./responses";
import { jsonBody, queryOf } from "./validate";

const short = z.string().min(1).max(256);
/**
 * An ISO instant Postgres can hold: the format check alone lets through year 0000 and days a month lacks
 * (2024-02-30), which Postgres refuses.
 */
const instant = z.iso.datetime({ offset: true }).refine((s) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && !Number.isNaN(Date.parse(s));
}, "not a real date");
const filters = {
  entity: short.optional(),
  errorCode: short.optional(),
  connectionId: short.optional(),
  from: instant.optional(),
  to: instant.optional(),
};

export const listQuery = z.object({
  ...filters,
  status: z.enum(["open", "resolved", "all"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
});

export const replayBody = z
  .object({
    ...filters,
    limit: z.number().int().min(1).max(1000).default(500),
    /** Also replay failures that reached their attempt bound (listed with `exhausted: true`). */
    force: z.boolean().optional(),
  })
  .strict();

const runIdParam = z.string().min(1).max(256).refine(isCleanText, "holds control characters");
const deletesQuery = z.enum(["pending", "confirmed", "rejected"]);

const cursor = idCursor("f");

/** What each route is, for the OpenAPI document (see ./openapi.ts). */
const doc = {
  list: describeRoute({
    tags: ["failed records"],
    summary: "Records the transform could not take, with their reason (paged)",
    parameters: queryParameters(listQuery),
    responses: {
      "200": ok("page of failed records", failedPage),
      ...errors({ ...accountErrors, "400": "invalid filter, limit or cursor" }),
    },
  }),
  replay: describeRoute({
    tags: ["failed records"],
    summary: "Send matching failed records through staging again (idempotent)",
    requestBody: jsonRequest(replayBody),
    responses: { "202": ok("replayed", replayResult), ...errors(accountErrors) },
  }),
  deletes: describeRoute({
    tags: ["deletes"],
    summary: "Deletes held because a run would remove more than the allowed share",
    parameters: queryParameters(z.object({ status: deletesQuery.default("pending") })),
    responses: { "200": ok("held deletes", heldDeletes), ...errors(accountErrors) },
  }),
  decide: describeRoute({
    tags: ["deletes"],
    summary: "Confirm or reject a held delete",
    parameters: [
      {
        name: "decision",
        in: "path",
        required: true,
        schema: { type: "string", enum: ["confirm", "reject"] },
      },
    ],
    responses: {
      "200": ok("decided", deleteDecision),
      ...errors({ ...accountErrors, "409": "already decided" }),
    },
  }),
};

/** Failed records (list, replay) and deletes held for an operator's decision. */
export const failed = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .get("/accounts/:accountId/failed", doc.list, async (c) => {
    const accountId = c.req.param("accountId");
    const q = queryOf(listQuery, c.req.query());
    const afterId = cursor.decode(q.cursor);
    const page = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return listFailed(db, accountId, q, { limit: q.limit, ...(afterId ? { afterId } : {}) });
    });
    return c.json({
      items: page.items,
      nextCursor: page.nextAfterId === null ? null : cursor.encode(page.nextAfterId),
    });
  })
  .post("/accounts/:accountId/failed/replay", doc.replay, async (c) => {
    const accountId = c.req.param("accountId");
    const body = await jsonBody(c, replayBody);
    const result = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return replayFailed(db, c.env.TRANSFORMS, accountId, body);
    });
    return c.json(result, 202);
  })
  .get("/accounts/:accountId/deletes", doc.deletes, async (c) => {
    const accountId = c.req.param("accountId");
    const status = deletesQuery.safeParse(c.req.query("status") ?? "pending");
    if (!status.success) throw new AppError(400, "invalid_request", "status: pending, confirmed or rejected");
    const items = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return listPendingDeletes(db, accountId, status.data);
    });
    return c.json({ items });
  })
  .post("/accounts/:accountId/deletes/:runId/:decision{confirm|reject}", doc.decide, async (c) => {
    const accountId = c.req.param("accountId");
    const runId = runIdParam.safeParse(c.req.param("runId"));
    if (!runId.success) throw new AppError(400, "invalid_request", "runId is invalid");
    const decision = c.req.param("decision") === "confirm" ? "confirm" : "reject";
    const result = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return decidePendingDeletes(db, accountId, runId.data, decision);
    });
    return c.json(result);
  });

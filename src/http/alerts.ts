import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { listAlerts } from "../alerts/state";
import { AppError } from "../core/errors";
import { systemDb, withDb } from "../db/client";
import type { Env } from "../env";
import { callerOf, requireAdmin } from "./auth";
import { ADMIN_ONLY, errors, ok } from "./openapi";

const alertRow = z.looseObject({ rule: z.string() });
const doc = describeRoute({
  tags: ["system"],
  summary: "Alert conditions firing now and the most recently resolved (admin token only)",
  ...ADMIN_ONLY,
  responses: {
    "200": ok("alerts", z.object({ firing: z.array(alertRow), recent: z.array(alertRow) })),
    ...errors({ "401": "no or bad credentials", "403": "account keys cannot read alerts" }),
  },
});

/** Alert conditions firing now and recently resolved (admin token only: they span accounts). */
export const alerts = new Hono<{ Bindings: Env }>().use("*", requireAdmin).get("/alerts", doc, async (c) => {
  if (callerOf(c)?.kind !== "admin")
    throw new AppError(403, "forbidden", "only the admin token reads alerts");
  return c.json(await withDb(systemDb(c.env), (db) => listAlerts(db)));
});

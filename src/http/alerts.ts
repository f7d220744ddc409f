import { Hono } from "hono";
import { listAlerts } from "../alerts/state";
import { AppError } from "../core/errors";
import { systemDb, withDb } from "../db/client";
import type { Env } from "../env";
import { callerOf, requireAdmin } from "./auth";

/** Alert conditions firing now and recently resolved (admin token only: they span accounts). */
export const alerts = new Hono<{ Bindings: Env }>().use("*", requireAdmin).get("/alerts", async (c) => {
  if (callerOf(c)?.kind !== "admin")
    throw new AppError(403, "forbidden", "only the admin token reads alerts");
  return c.json(await withDb(systemDb(c.env), (db) => listAlerts(db)));
});

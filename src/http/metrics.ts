import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { AppError } from "../core/errors";
import { systemDb, withDb } from "../db/client";
import type { Env } from "../env";
import { collectMetrics } from "../metrics/prometheus";
import { callerOf, requireAdmin } from "./auth";
import { ADMIN_ONLY, errors } from "./openapi";

const doc = describeRoute({
  tags: ["system"],
  summary:
    "Prometheus text exposition of runs, records, provider requests, webhooks, breakers (admin token only)",
  ...ADMIN_ONLY,
  responses: {
    "200": { description: "metrics", content: { "text/plain": { schema: { type: "string" } } } },
    ...errors({ "401": "no or bad credentials", "403": "account keys cannot read metrics" }),
  },
});

/** Prometheus scrape target (admin token only: the figures span accounts). */
export const metrics = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .get("/metrics", doc, async (c) => {
    if (callerOf(c)?.kind !== "admin")
      throw new AppError(403, "forbidden", "only the admin token reads metrics");
    const text = await withDb(systemDb(c.env), collectMetrics);
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

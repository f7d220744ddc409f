import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { withDb } from "../db/client";
import type { Env } from "../env";

export const health = new Hono<{ Bindings: Env }>().get("/", async (c) => {
  const started = Date.now();
  try {
    await withDb(c.env, (db) => db.execute(sql`select 1`));
    return c.json({ status: "ok", database: "reachable", latencyMs: Date.now() - started });
  } catch {
    return c.json({ status: "degraded", database: "unreachable" }, 503);
  }
});

import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/errors";
import { timingSafeEqual } from "../core/signatures";
import type { Env } from "../env";

/** Admin token bearer auth for /admin/*. */
export const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  if (!token || !c.env.ADMIN_TOKEN || !timingSafeEqual(token, c.env.ADMIN_TOKEN)) {
    throw new AppError(401, "unauthorized", "send Authorization: Bearer <admin token or account API key>");
  }
  await next();
};

import type { Context, MiddlewareHandler } from "hono";
import { accountForApiKey } from "../accounts/api-keys";
import { AppError } from "../core/errors";
import { timingSafeEqual } from "../core/signatures";
import { withDb } from "../db/client";
import type { Env } from "../env";

/** Who is calling: the operator (admin token, every account) or one account (its API key). */
export type Caller = { kind: "admin" } | { kind: "account"; accountId: string };

const callers = new WeakMap<Request, Caller>();

/** The authenticated caller of a request that passed requireAdmin. */
export function callerOf(c: Context): Caller | undefined {
  return callers.get(c.req.raw);
}

const ACCOUNT_PATH = /\/accounts\/([^/]+)/;

const unauthorized = () =>
  new AppError(401, "unauthorized", "send Authorization: Bearer <admin token or account API key>");

/**
 * Auth for /admin/*: the admin token may do anything; an account API key may only touch paths under its own
 * /accounts/:accountId. Another account's path answers exactly what a missing account answers (404), so a
 * key learns nothing about which accounts exist. Only the admin token creates accounts.
 */
export const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  if (!token) throw unauthorized();

  if (c.env.ADMIN_TOKEN && timingSafeEqual(token, c.env.ADMIN_TOKEN)) {
    callers.set(c.req.raw, { kind: "admin" });
    return next();
  }
  const accountId = await withDb(c.env, (db) => accountForApiKey(db, token)).catch((error: unknown) => {
    if (error instanceof AppError) throw error;
    throw new AppError(503, "unavailable", "could not check the credentials; try again");
  });
  if (!accountId) throw unauthorized();

  const match = ACCOUNT_PATH.exec(c.req.path);
  const pathAccount = match?.[1] ? decodeURIComponent(match[1]) : null;
  if (!pathAccount) {
    if (c.req.method === "POST" && /\/accounts\/?$/.test(c.req.path)) {
      throw new AppError(403, "forbidden", "only the admin token can create accounts");
    }
    throw new AppError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
  }
  if (pathAccount !== accountId) {
    throw new AppError(404, "account_not_found", `account "${pathAccount}" not found`);
  }
  callers.set(c.req.raw, { kind: "account", accountId });
  return next();
};

import type { Context, MiddlewareHandler } from "hono";
import { accountForApiKey } from "../accounts/api-keys";
import { AppError } from "../core/errors";
import { timingSafeEqual } from "../core/signatures";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { couldBeId, decodeSegment } from "./input";

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
  // Each router mounted under /admin brings this middleware, and each applies to every /admin path: a request
  // already authenticated by one is not checked (and its key not looked up in Postgres) again.
  if (callers.has(c.req.raw)) return next();
  const header = c.req.header("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  if (!token) throw unauthorized();

  const caller: Caller = await callerFor(c.env, token);
  // The raw path, decoded once here: Hono's c.req.path is already partly decoded.
  const match = ACCOUNT_PATH.exec(new URL(c.req.url).pathname);
  const pathAccount = match?.[1] === undefined ? null : decodeSegment(match[1]);
  if (match && pathAccount === null) {
    throw new AppError(400, "invalid_path", "the URL path holds malformed percent-encoding");
  }
  if (caller.kind === "account") {
    if (!pathAccount) {
      if (c.req.method === "POST" && /\/accounts\/?$/.test(c.req.path)) {
        throw new AppError(403, "forbidden", "only the admin token can create accounts");
      }
      throw new AppError(404, "not_found", `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`);
    }
    if (pathAccount !== caller.accountId) throw accountNotFound(pathAccount);
  } else if (pathAccount !== null && !couldBeId(pathAccount)) {
    // No account can have this id: answer as for a missing one without asking Postgres (which refuses NUL).
    throw accountNotFound(pathAccount);
  }
  callers.set(c.req.raw, caller);
  return next();
};

async function callerFor(env: Env, token: string): Promise<Caller> {
  if (env.ADMIN_TOKEN && timingSafeEqual(token, env.ADMIN_TOKEN)) return { kind: "admin" };
  const accountId = await withDb(env, (db) => accountForApiKey(db, token)).catch((error: unknown) => {
    if (error instanceof AppError) throw error;
    throw new AppError(503, "unavailable", "could not check the credentials; try again");
  });
  if (!accountId) throw unauthorized();
  return { kind: "account", accountId };
}

/** The same answer whether the account is missing, another's, or impossible; the id is echoed only if clean. */
function accountNotFound(id: string): AppError {
  const shown = couldBeId(id) ? `"${id}"` : "with that id";
  return new AppError(404, "account_not_found", `account ${shown} not found`);
}

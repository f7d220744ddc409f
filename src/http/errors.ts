import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, errorBody } from "../core/errors";
import { logger } from "../core/log";
import { isDataException, sanitizeError } from "../core/safe-error";

const log = logger("http");

/**
 * Every error leaves as `{"error": {"code", "message"}}`. A value Postgres refused as input (SQLSTATE class
 * 22) is the client's, so 400; anything else unknown is 500. Neither carries SQL, parameters or internals.
 */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof AppError) return c.json(errorBody(err.code, err.message), err.status);
  if (err instanceof HTTPException) return c.json(errorBody("http_error", err.message), err.status);
  const safe = sanitizeError(err);
  if (isDataException(safe.code)) {
    return c.json(errorBody("invalid_input", "a value in the request cannot be stored or compared"), 400);
  }
  log.error("unhandled error", { error: err.name, code: safe.code ?? null, message: safe.message });
  return c.json(errorBody("internal_error", "internal error"), 500);
}

export function notFound(c: Context): Response {
  return c.json(errorBody("not_found", `no route for ${c.req.method} ${safePath(c)}`), 404);
}

/** The request path as echoed in errors: bounded, and without characters a log or terminal would act on. */
function safePath(c: Context): string {
  const path = new URL(c.req.url).pathname;
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

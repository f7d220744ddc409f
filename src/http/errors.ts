import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, errorBody } from "../core/errors";

/** Every error leaves as `{"error": {"code", "message"}}`; unknown errors are 500 without internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof AppError) return c.json(errorBody(err.code, err.message), err.status);
  if (err instanceof HTTPException) return c.json(errorBody("http_error", err.message), err.status);
  console.error("unhandled error", err.name, err.message);
  return c.json(errorBody("internal_error", "internal error"), 500);
}

export function notFound(c: Context): Response {
  return c.json(errorBody("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404);
}

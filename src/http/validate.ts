import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../core/errors";
import { findUnholdable, jsonDepth } from "../core/storable";
import { checkDeclaredLength, readLimitedBody } from "../webhooks/body";

/** Admin bodies are a handful of fields; this leaves room for credentials and settings, not documents. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;
/** No admin body nests anywhere near this; deeper input is refused before it is parsed. */
export const MAX_ADMIN_BODY_DEPTH = 32;

const tooLarge = () =>
  new AppError(413, "payload_too_large", `request bodies are limited to ${MAX_ADMIN_BODY_BYTES} bytes`);

/**
 * Reads a JSON body and validates it; every failure is a 4xx that names the problem (by field path, never
 * by value): too large, not UTF-8, not JSON, nested too deep, holding a string Postgres can't hold (NUL,
 * lone surrogate), or not matching the schema.
 */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new AppError(415, "unsupported_media_type", "send the body as application/json");
  }
  let raw: Uint8Array;
  try {
    checkDeclaredLength(c.req.header("content-length") ?? null, MAX_ADMIN_BODY_BYTES);
    raw = await readLimitedBody(c.req.raw, MAX_ADMIN_BODY_BYTES);
  } catch (error) {
    throw error instanceof AppError && error.status === 413 ? tooLarge() : error;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw);
  } catch {
    throw new AppError(400, "malformed_json", "the request body is not valid UTF-8");
  }
  if (jsonDepth(text) > MAX_ADMIN_BODY_DEPTH) {
    throw new AppError(400, "too_deep", `the request body nests deeper than ${MAX_ADMIN_BODY_DEPTH} levels`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError(400, "malformed_json", "the request body is not valid JSON");
  }
  const unholdable = findUnholdable(body);
  if (unholdable) {
    const what = unholdable.reason === "nul" ? "a NUL character" : "a lone surrogate";
    throw new AppError(400, "invalid_request", `${unholdable.path.slice(0, 200)}: holds ${what}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new AppError(400, "invalid_request", `${where}${issue?.message ?? "invalid body"}`);
  }
  return parsed.data;
}

/** Validates query parameters; a mismatch is a 400 naming the field (by path, never by value). */
export function queryOf<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      400,
      "invalid_request",
      `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

import { type Context, Hono } from "hono";
import { describeRoute } from "hono-openapi";
import type { RecordedWebhook, RecordOutcome } from "../../durable-objects/webhook-inbox";
import { toHex, utf8 } from "../core/encoding";
import { AppError } from "../core/errors";
import { storableText, stringReason, wrapJson } from "../core/storable";
import type { Env } from "../env";
import { writePoint } from "../metrics/counters";
import { accountStub } from "../sync/stubs";
import { checkDeclaredLength, readLimitedBody } from "../webhooks/body";
import { type WebhookScheme, webhookSchemeFor } from "../webhooks/schemes";
import { type ResolvedTarget, resolveTarget } from "../webhooks/targets";
import { couldBeId } from "./input";
import { errors, ok, PUBLIC } from "./openapi";
import { webhookAck } from "./responses";

/** Seams for tests: the clock (signed timestamps), routing, and the durable write (failure → 503). */
export type WebhookDeps = {
  now(): number;
  resolve(env: Env, provider: string, connectionId: string, fresh: boolean): Promise<ResolvedTarget | null>;
  record(env: Env, event: RecordedWebhook): Promise<RecordOutcome>;
};

export const defaultWebhookDeps: WebhookDeps = {
  now: () => Date.now(),
  resolve: (env, provider, connectionId, fresh) =>
    resolveTarget(env, provider, connectionId, { now: Date.now(), fresh }),
  // A fresh stub per call: one that threw may be broken.
  record: (env, event) => accountStub(env, event.accountId).recordWebhook(event),
};

const unavailable = () =>
  new AppError(503, "unavailable", "the event could not be recorded; retry the delivery later");

const doc = describeRoute({
  tags: ["webhooks"],
  summary: "Provider events: signature verified over the raw body, recorded durably before the answer",
  ...PUBLIC,
  requestBody: {
    required: true,
    content: { "application/json": { schema: { description: "the provider's event, signed" } } },
  },
  responses: {
    "200": ok("duplicate, acknowledged with no second effect", webhookAck),
    "202": ok("recorded", webhookAck),
    ...errors({
      "400": "malformed JSON",
      "401": "missing or bad signature, or stale timestamp",
      "404": "unknown provider or connection",
      "413": "body over 1 MB",
      "415": "not application/json",
      "503": "could not record; retry",
    }),
  },
});

/**
 * POST /webhooks/:provider/:connectionId. Cheap checks first, the signature over the exact raw bytes before
 * any parsing, and a 2xx only once the account's object has durably recorded the event. The hot path is a
 * cached routing lookup and one call to that object; the object copies the event to the Postgres inbox and
 * fetches what it names after the answer.
 */
export function webhookRoutes(overrides: Partial<WebhookDeps> = {}) {
  const deps: WebhookDeps = { ...defaultWebhookDeps, ...overrides };
  return new Hono<{ Bindings: Env }>().post("/:provider/:connectionId", doc, async (c) => {
    const provider = c.req.param("provider");
    const connectionId = c.req.param("connectionId");
    const scheme = webhookSchemeFor(provider);
    if (!scheme) throw new AppError(404, "unknown_provider", "no webhook endpoint for that provider");
    if (!couldBeId(connectionId)) {
      // No connection has such an id: not found, never "retry later", and no Postgres read to find out.
      throw new AppError(404, "connection_not_found", "connection with that id not found");
    }
    checkDeclaredLength(c.req.header("content-length") ?? null);
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (!type.startsWith("application/json")) {
      throw new AppError(415, "unsupported_media_type", "webhook bodies must be application/json");
    }
    const rawBody = await readLimitedBody(c.req.raw);

    // Refusals are counted in Analytics Engine only: counting unauthenticated requests in Postgres would let
    // anyone write to it. Verified and recorded events are counted from the inbox itself.
    const target = await verifiedTarget(c, deps, scheme, provider, connectionId, rawBody).catch(
      (error: unknown) => {
        if (error instanceof AppError && error.status === 401)
          writePoint(c.env.METRICS, "webhooks_rejected", { provider, reason: error.code }, 1);
        throw error;
      },
    );
    writePoint(c.env.METRICS, "webhooks_verified", { provider }, 1);

    let text: string;
    let body: unknown;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(rawBody);
      body = JSON.parse(text);
    } catch {
      throw new AppError(400, "malformed_json", "the request body is not valid JSON");
    }
    const event = await holdableEvent(text, body, scheme.eventIdOf(body, c.req.raw.headers), rawBody);
    const eventType = scheme.eventTypeOf(body);
    const eventId = event.eventId;
    const recorded = await deps
      .record(c.env, {
        accountId: target.accountId,
        connectionId,
        provider,
        eventId,
        eventType: eventType !== null && stringReason(eventType) === null ? eventType.slice(0, 256) : null,
        body: event.body,
      })
      .catch(() => {
        throw unavailable();
      });
    if (recorded.duplicate) return c.json({ status: "duplicate", eventId }, 200);
    return c.json({ status: "accepted", eventId }, 202);
  });
}

export const webhooks = webhookRoutes();

/**
 * The connection the URL names, once the signature checks out against its secret. A failure against a cached
 * copy re-reads the connection once: the secret may have been rotated since it was cached.
 */
async function verifiedTarget(
  c: Context<{ Bindings: Env }>,
  deps: WebhookDeps,
  scheme: WebhookScheme,
  provider: string,
  connectionId: string,
  rawBody: Uint8Array,
): Promise<ResolvedTarget> {
  const lookup = (fresh: boolean) =>
    deps.resolve(c.env, provider, connectionId, fresh).catch((error: unknown) => {
      throw error instanceof AppError ? error : unavailable();
    });
  const notFound = () => new AppError(404, "connection_not_found", `connection "${connectionId}" not found`);
  const verify = (target: ResolvedTarget) =>
    scheme.verify({
      url: c.req.url,
      rawBody,
      headers: c.req.raw.headers,
      credentials: target.credentials,
      nowSec: Math.floor(deps.now() / 1000),
    });

  const target = await lookup(false);
  if (!target) throw notFound();
  const verdict = await verify(target);
  if (verdict.ok) return target;
  // A stale timestamp is the sender's problem whatever the secret; a copy just read can't be out of date.
  if (verdict.code === "stale_timestamp" || Date.now() - target.loadedAt < 1_000)
    throw signatureError(verdict.code);
  const reread = await lookup(true);
  if (!reread) throw notFound();
  const again = await verify(reread);
  if (!again.ok) throw signatureError(again.code);
  return reread;
}

function signatureError(code: "missing_signature" | "bad_signature" | "stale_timestamp"): AppError {
  const messages = {
    missing_signature: "the request carries no usable signature",
    bad_signature: "the signature does not match the body",
    stale_timestamp: "the signed timestamp is more than 5 minutes from now",
  } as const;
  return new AppError(401, code, messages[code]);
}

/** Longer provider event ids are kept as their hash: the inbox's unique index holds ids, not documents. */
const MAX_EVENT_ID_LENGTH = 256;

/**
 * A verified event as the inbox can hold it, whatever its bytes. It is acknowledged either way (it passed
 * the signature check; refusing it would only make the provider retry the same bytes): a body Postgres
 * can't store (NUL, a lone surrogate, nesting beyond MAX_STORABLE_DEPTH) is recorded in the storable
 * encoding, and the account's object parks it with its reason instead of processing it. An event id
 * Postgres can't store is replaced by the body's hash (the body is then encoded too); an overlong one by
 * its own hash, so repeats are still recognised.
 */
async function holdableEvent(
  text: string,
  body: unknown,
  providerId: string | null,
  rawBody: Uint8Array,
): Promise<{ eventId: string; body: string }> {
  let { json } = storableText(text, body);
  let eventId = providerId;
  if (eventId !== null && stringReason(eventId) !== null) {
    if (json === text) json = wrapJson(text, stringReason(eventId) ?? "refused");
    eventId = null;
  } else if (eventId !== null && eventId.length > MAX_EVENT_ID_LENGTH) {
    eventId = `sha256-id:${await bodyHash(utf8(eventId))}`;
  }
  return { eventId: eventId ?? `sha256:${await bodyHash(rawBody)}`, body: json };
}

async function bodyHash(raw: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>)));
}

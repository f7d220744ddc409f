import { type Context, Hono } from "hono";
import type { Credentials } from "../connectors/types";
import { credentialAad, decryptSecret, parseKeyring } from "../core/crypto";
import { toHex } from "../core/encoding";
import { AppError } from "../core/errors";
import { type Db, openDb } from "../db/client";
import type { Env } from "../env";
import { accountStub } from "../sync/stubs";
import { checkDeclaredLength, readLimitedBody } from "../webhooks/body";
import {
  findWebhookTarget,
  type InboxEvent,
  type IngestRequest,
  type RecordResult,
  recordInboxEvent,
  type WebhookTarget,
} from "../webhooks/inbox";
import { webhookSchemeFor } from "../webhooks/schemes";

/** Seams for tests: the clock (signed timestamps) and the durable write (failure → 503). */
export type WebhookDeps = {
  now(): number;
  findTarget(db: Db, provider: string, connectionId: string): Promise<WebhookTarget | null>;
  record(db: Db, event: InboxEvent): Promise<RecordResult>;
  dispatch(env: Env, req: IngestRequest): Promise<unknown>;
};

export const defaultWebhookDeps: WebhookDeps = {
  now: () => Date.now(),
  findTarget: findWebhookTarget,
  record: recordInboxEvent,
  dispatch: (env, req) => accountStub(env, req.accountId).ingestWebhook(req),
};

const unavailable = () =>
  new AppError(503, "unavailable", "the event could not be recorded; retry the delivery later");

/**
 * POST /webhooks/:provider/:connectionId. Cheap checks first, the signature over the exact raw bytes before
 * any parsing, and a 2xx only once the event is in the inbox; processing happens after the answer.
 */
export function webhookRoutes(overrides: Partial<WebhookDeps> = {}) {
  const deps: WebhookDeps = { ...defaultWebhookDeps, ...overrides };
  return new Hono<{ Bindings: Env }>().post("/:provider/:connectionId", async (c) => {
    const provider = c.req.param("provider");
    const connectionId = c.req.param("connectionId");
    const scheme = webhookSchemeFor(provider);
    if (!scheme)
      throw new AppError(404, "unknown_provider", `no webhook endpoint for provider "${provider}"`);
    checkDeclaredLength(c.req.header("content-length") ?? null);
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (!type.startsWith("application/json")) {
      throw new AppError(415, "unsupported_media_type", "webhook bodies must be application/json");
    }
    const rawBody = await readLimitedBody(c.req.raw);

    const handle = openDb(c.env);
    try {
      const target = await deps.findTarget(handle.db, provider, connectionId).catch(() => {
        throw unavailable();
      });
      if (!target) throw new AppError(404, "connection_not_found", `connection "${connectionId}" not found`);
      const credentials = await decryptTargetCredentials(c.env, target);
      const verdict = await scheme.verify({
        rawBody,
        headers: c.req.raw.headers,
        credentials,
        nowSec: Math.floor(deps.now() / 1000),
      });
      if (!verdict.ok) throw signatureError(verdict.code);

      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(rawBody));
      } catch {
        throw new AppError(400, "malformed_json", "the request body is not valid JSON");
      }
      const eventId = scheme.eventIdOf(body, c.req.raw.headers) ?? `sha256:${await bodyHash(rawBody)}`;
      const event: InboxEvent = {
        accountId: target.accountId,
        connectionId,
        provider,
        eventId,
        eventType: scheme.eventTypeOf(body),
        payload: body,
      };
      const recorded = await deps.record(handle.db, event).catch(() => {
        throw unavailable();
      });
      if (recorded.duplicate) return c.json({ status: "duplicate", eventId }, 200);
      const ingest: IngestRequest = {
        inboxId: recorded.id,
        accountId: target.accountId,
        connectionId,
        provider,
      };
      // Recorded already: if this hand-off is lost, the inbox sweep picks the pending row up.
      waitUntil(
        c,
        deps.dispatch(c.env, ingest).catch(() => {}),
      );
      return c.json({ status: "accepted", eventId }, 202);
    } finally {
      waitUntil(
        c,
        handle.close().catch(() => {}),
      );
    }
  });
}

export const webhooks = webhookRoutes();

async function decryptTargetCredentials(env: Env, target: WebhookTarget): Promise<Credentials> {
  try {
    const keyring = await parseKeyring(env.CREDENTIALS_KEY);
    const plain = await decryptSecret(
      keyring,
      target.credentialsEnc,
      credentialAad(target.accountId, target.connectionId),
    );
    return JSON.parse(plain) as Credentials;
  } catch {
    // Our keyring or the stored blob is wrong, not the sender: let the provider retry once it is fixed.
    throw new AppError(503, "credentials_unavailable", "the connection's webhook secret could not be read");
  }
}

function signatureError(code: "missing_signature" | "bad_signature" | "stale_timestamp"): AppError {
  const messages = {
    missing_signature: "the request carries no usable signature",
    bad_signature: "the signature does not match the body",
    stale_timestamp: "the signed timestamp is more than 5 minutes from now",
  } as const;
  return new AppError(401, code, messages[code]);
}

async function bodyHash(raw: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>)));
}

function waitUntil(c: Context, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // No execution context (plain app.request in a unit test): the promise still runs.
  }
}

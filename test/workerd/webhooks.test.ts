import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { recordedWebhookEvents } from "../../durable-objects/webhook-inbox";
import { encryptCredentials } from "../../src/accounts/connections";
import { signDotloop } from "../../src/connectors/dotloop/signature";
import { signFub } from "../../src/connectors/fub/signature";
import { parseKeyring } from "../../src/core/crypto";
import { signStandardWebhook } from "../../src/core/signatures";
import type { Env } from "../../src/env";
import { handleError, notFound } from "../../src/http/errors";
import { webhookRoutes } from "../../src/http/webhooks";
import { rows, uniqueId, withTestDb } from "../support/db";
import { stubFor, waitFor } from "./account-sync-fixtures";

const SYSTEM_KEY = "fub-system-key-for-tests";
const DOTLOOP_KEY = "dotloop-signing-key";
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

let accountId: string;
const conns = { fub: "", dotloop: "", simulator: "" };

async function insertConnection(provider: string, credentials: Record<string, string>): Promise<string> {
  const id = uniqueId("con");
  const keyring = await parseKeyring(env.CREDENTIALS_KEY);
  const blob = await encryptCredentials(keyring, accountId, id, credentials);
  await withTestDb((db) =>
    db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                   values (${id}, ${accountId}, ${provider}, ${blob})`),
  );
  return id;
}

beforeAll(async () => {
  accountId = uniqueId("acc");
  await withTestDb((db) =>
    db.execute(sql`insert into accounts (id, name) values (${accountId}, 'webhooks')`),
  );
  conns.fub = await insertConnection("fub", { apiKey: "k", systemKey: SYSTEM_KEY });
  conns.dotloop = await insertConnection("dotloop", { webhookSigningKey: DOTLOOP_KEY });
  // Rotation: the old and the new secret are both accepted while the sender switches over.
  conns.simulator = await insertConnection("simulator", {
    webhookSecret: `whsec_${btoa("old-secret-old-secret-old-secre")} ${VECTOR.secret}`,
  });
});

afterEach(() => {
  vi.useRealTimers();
});

/** What the account's object recorded for a connection: the durable record a 2xx stands for. */
function objectEvents(connectionId: string) {
  return runInDurableObject(stubFor(accountId), (_i, state) =>
    recordedWebhookEvents(state.storage.sql, connectionId),
  );
}

async function postgresCount(connectionId: string): Promise<number> {
  const r = await rows<{ n: number }>(
    sql`select count(*)::int as n from webhook_inbox where connection_id = ${connectionId}`,
  );
  return r[0]?.n ?? -1;
}

/**
 * Events stored for a connection, in the object and in Postgres, once the object has copied everything it
 * recorded (so the Postgres count is not moving under the comparison).
 */
async function inboxCount(connectionId: string): Promise<{ object: number; postgres: number }> {
  const events = await waitFor(async () => {
    const all = await objectEvents(connectionId);
    return all.every((e) => e.inbox_id !== null) ? all : undefined;
  });
  return { object: events.length, postgres: await postgresCount(connectionId) };
}

const plus = (n: { object: number; postgres: number }, k: number) => ({
  object: n.object + k,
  postgres: n.postgres + k,
});

function post(path: string, body: BodyInit | null, headers: Record<string, string>) {
  return exports.default.fetch(`http://etl.test${path}`, { method: "POST", body, headers });
}

function fubEvent(overrides: Record<string, unknown> = {}) {
  // Spaced the way a provider might send it, so re-serializing changes the bytes.
  return JSON.stringify(
    {
      eventId: crypto.randomUUID(),
      eventCreated: "2026-11-01T10:00:00+00:00",
      event: "peopleUpdated",
      resourceIds: [17],
      uri: "https://api.followupboss.com/v1/people/17",
      ...overrides,
    },
    null,
    1,
  );
}

async function postFub(body: string, extra: Record<string, string> = {}, connectionId = conns.fub) {
  return post(`/webhooks/fub/${connectionId}`, body, {
    "content-type": "application/json",
    "FUB-Signature": await signFub(body, SYSTEM_KEY),
    ...extra,
  });
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await res.json<{ error: { code: string; message: string } }>();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

describe("POST /webhooks/fub/:connectionId", () => {
  it("records a correctly signed event in the account's object before answering 202, then copies it to Postgres", async () => {
    const body = fubEvent();
    const { eventId } = JSON.parse(body) as { eventId: string };
    const res = await postFub(body);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "accepted", eventId });
    // Read right after the answer, before anything else ran: the 202 stands for this write.
    const recorded = (await objectEvents(conns.fub)).filter((e) => e.event_id === eventId);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ account_id: accountId, event_type: "peopleUpdated" });

    const stored = await waitFor(async () => {
      const found = await rows<{ account_id: string; event_type: string; payload: unknown }>(
        sql`select account_id, event_type, payload from webhook_inbox
            where connection_id = ${conns.fub} and event_id = ${eventId}`,
      );
      return found.length > 0 ? found : undefined;
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ account_id: accountId, event_type: "peopleUpdated" });
    expect(stored[0]?.payload).toEqual(JSON.parse(body));
  });

  it("acknowledges a redelivery with 200 and no second row", async () => {
    const body = fubEvent();
    const { eventId } = JSON.parse(body) as { eventId: string };
    const before = await inboxCount(conns.fub);
    expect((await postFub(body)).status).toBe(202);
    const again = await postFub(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: "duplicate", eventId });
    const third = await postFub(body);
    expect(third.status).toBe(200);
    expect(await inboxCount(conns.fub)).toEqual(plus(before, 1));
  });

  it("dedupes an event without an id by the hash of its raw body", async () => {
    const body = JSON.stringify({ event: "peopleUpdated", resourceIds: [5], nonce: crypto.randomUUID() });
    const before = await inboxCount(conns.fub);
    const first = await postFub(body);
    expect(first.status).toBe(202);
    const { eventId } = await first.json<{ eventId: string }>();
    expect(eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await postFub(body)).status).toBe(200);
    expect(await inboxCount(conns.fub)).toEqual(plus(before, 1));
  });

  it("rejects a body re-serialized from the parsed JSON (the signature covers the raw bytes)", async () => {
    const body = fubEvent();
    const signature = await signFub(body, SYSTEM_KEY);
    const reserialized = JSON.stringify(JSON.parse(body));
    expect(reserialized).not.toBe(body);
    const before = await inboxCount(conns.fub);
    const res = await post(`/webhooks/fub/${conns.fub}`, reserialized, {
      "content-type": "application/json",
      "FUB-Signature": signature,
    });
    await expectError(res, 401, "bad_signature");
    expect(await inboxCount(conns.fub)).toEqual(before);
  });
});

describe("rejections store nothing", () => {
  it.each([
    [
      "missing signature",
      async () => post(`/webhooks/fub/${conns.fub}`, fubEvent(), { "content-type": "application/json" }),
      401,
      "missing_signature",
    ],
    [
      "bad signature",
      async () =>
        post(`/webhooks/fub/${conns.fub}`, fubEvent(), {
          "content-type": "application/json",
          "FUB-Signature": await signFub(fubEvent(), "wrong-key"),
        }),
      401,
      "bad_signature",
    ],
    [
      "wrong content type",
      async () => postFub(fubEvent(), { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    ],
    ["malformed JSON (correctly signed)", async () => postFub('{"eventId": "x", '), 400, "malformed_json"],
    [
      "unknown provider",
      async () => post(`/webhooks/nope/${conns.fub}`, fubEvent(), { "content-type": "application/json" }),
      404,
      "unknown_provider",
    ],
    [
      "unknown connection",
      async () => postFub(fubEvent(), {}, "con_does_not_exist"),
      404,
      "connection_not_found",
    ],
    [
      "connection of another provider",
      async () => post(`/webhooks/dotloop/${conns.fub}`, fubEvent(), { "content-type": "application/json" }),
      404,
      "connection_not_found",
    ],
    [
      "declared Content-Length over 1 MB",
      async () => postFub(fubEvent(), { "content-length": String(1024 * 1024 + 1) }),
      413,
      "payload_too_large",
    ],
    [
      "streamed body over 1 MB without Content-Length",
      async () => {
        const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent > 1024 * 1024 + chunk.length) return controller.close();
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        });
        return post(`/webhooks/fub/${conns.fub}`, stream, {
          "content-type": "application/json",
          "FUB-Signature": "00",
        });
      },
      413,
      "payload_too_large",
    ],
  ])("%s", async (_name, send, status, code) => {
    const before = { fub: await inboxCount(conns.fub), dotloop: await inboxCount(conns.dotloop) };
    await expectError(await send(), status, code);
    expect(await inboxCount(conns.fub)).toEqual(before.fub);
    expect(await inboxCount(conns.dotloop)).toEqual(before.dotloop);
  });

  it("a signed body of exactly 1 MB is still accepted", async () => {
    const head = fubEvent({ pad: "" });
    const pad = "y".repeat(1024 * 1024 - head.length);
    const body = fubEvent({ pad });
    expect(new TextEncoder().encode(body).length).toBe(1024 * 1024);
    expect((await postFub(body)).status).toBe(202);
  });
});

describe("Standard Webhooks", () => {
  it("accepts the published test vector through the HTTP route with the clock pinned", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(VECTOR.timestamp * 1000 + 30_000);
    const res = await post(`/webhooks/simulator/${conns.simulator}`, VECTOR.payload, {
      "content-type": "application/json",
      "webhook-id": VECTOR.id,
      "webhook-timestamp": String(VECTOR.timestamp),
      "webhook-signature": VECTOR.signature,
    });
    vi.useRealTimers();
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "accepted", eventId: VECTOR.id });
    expect(await signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(
      VECTOR.signature,
    );
  });

  it("accepts the vector through an injected route clock too, and rejects it 6 minutes later", async () => {
    const pinned = (ms: number) => {
      const app = new Hono<{ Bindings: Env }>()
        .route("/webhooks", webhookRoutes({ now: () => ms }))
        .notFound(notFound)
        .onError(handleError);
      const ctx = createExecutionContext();
      return { app, ctx };
    };
    const headers = {
      "content-type": "application/json",
      "webhook-id": `${VECTOR.id}_${crypto.randomUUID()}`,
      "webhook-timestamp": String(VECTOR.timestamp),
      // Rotation on the sender's side too: a stale entry first, the good one second.
      "webhook-signature": `v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ${VECTOR.signature}`,
    };
    const late = pinned((VECTOR.timestamp + 301) * 1000);
    const stale = await late.app.fetch(
      new Request(`http://etl.test/webhooks/simulator/${conns.simulator}`, {
        method: "POST",
        body: VECTOR.payload,
        headers,
      }),
      env,
      late.ctx,
    );
    await expectError(stale, 401, "stale_timestamp");
    const early = pinned((VECTOR.timestamp - 301) * 1000);
    const future = await early.app.fetch(
      new Request(`http://etl.test/webhooks/simulator/${conns.simulator}`, {
        method: "POST",
        body: VECTOR.payload,
        headers,
      }),
      env,
      early.ctx,
    );
    await expectError(future, 401, "stale_timestamp");
    // The id differs from the vector's, so its signature no longer matches: proves the id is signed.
    const onTime = pinned(VECTOR.timestamp * 1000);
    const res = await onTime.app.fetch(
      new Request(`http://etl.test/webhooks/simulator/${conns.simulator}`, {
        method: "POST",
        body: VECTOR.payload,
        headers,
      }),
      env,
      onTime.ctx,
    );
    await expectError(res, 401, "bad_signature");
    await waitOnExecutionContext(onTime.ctx);
  });

  it("accepts a delivery signed with the older of two rotating secrets", async () => {
    const now = Math.floor(Date.now() / 1000);
    const id = `msg_${crypto.randomUUID()}`;
    const body = '{"type":"lead.updated","data":{"id":1}}';
    const oldSecret = `whsec_${btoa("old-secret-old-secret-old-secre")}`;
    const res = await post(`/webhooks/simulator/${conns.simulator}`, body, {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(now),
      "webhook-signature": await signStandardWebhook(oldSecret, id, now, body),
    });
    expect(res.status).toBe(202);
  });

  it("rejects a stale webhook-timestamp with 401 and stores nothing", async () => {
    const ts = Math.floor(Date.now() / 1000) - 301;
    const id = `msg_${crypto.randomUUID()}`;
    const before = await inboxCount(conns.simulator);
    const res = await post(`/webhooks/simulator/${conns.simulator}`, VECTOR.payload, {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": await signStandardWebhook(VECTOR.secret, id, ts, VECTOR.payload),
    });
    await expectError(res, 401, "stale_timestamp");
    expect(await inboxCount(conns.simulator)).toEqual(before);
  });
});

describe("Dotloop", () => {
  const send = async (body: string, timestampMs: number) =>
    post(`/webhooks/dotloop/${conns.dotloop}`, body, {
      "content-type": "application/json",
      "X-DOTLOOP-SIGNATURE": await signDotloop(DOTLOOP_KEY, body),
      "X-DOTLOOP-TIMESTAMP": String(timestampMs),
    });

  it("accepts an HMAC-SHA1 signed event with a fresh timestamp and dedupes on eventId", async () => {
    const body = JSON.stringify({
      eventId: crypto.randomUUID(),
      eventType: "LOOP_UPDATED",
      event: { id: 9 },
    });
    const before = await inboxCount(conns.dotloop);
    expect((await send(body, Date.now())).status).toBe(202);
    expect((await send(body, Date.now())).status).toBe(200);
    expect(await inboxCount(conns.dotloop)).toEqual(plus(before, 1));
  });

  it("rejects a stale X-DOTLOOP-TIMESTAMP even with a valid signature (the timestamp is not signed)", async () => {
    const body = JSON.stringify({ eventId: crypto.randomUUID(), eventType: "LOOP_UPDATED" });
    const before = await inboxCount(conns.dotloop);
    await expectError(await send(body, Date.now() - 6 * 60_000), 401, "stale_timestamp");
    expect(await inboxCount(conns.dotloop)).toEqual(before);
  });
});

describe("routing cache", () => {
  it("picks up a rotated secret on the first delivery signed with it, and then refuses the old one", async () => {
    const id = await insertConnection("simulator", { webhookSecret: VECTOR.secret });
    const send = async (secret: string) => {
      const ts = Math.floor(Date.now() / 1000);
      const msgId = `msg_${crypto.randomUUID()}`;
      const body = JSON.stringify({ type: "lead.updated", data: { id: 1 } });
      return post(`/webhooks/simulator/${id}`, body, {
        "content-type": "application/json",
        "webhook-id": msgId,
        "webhook-timestamp": String(ts),
        "webhook-signature": await signStandardWebhook(secret, msgId, ts, body),
      });
    };
    // Cached after this one.
    expect((await send(VECTOR.secret)).status).toBe(202);
    const rotated = `whsec_${btoa("a-brand-new-secret-32-bytes-lon")}`;
    const keyring = await parseKeyring(env.CREDENTIALS_KEY);
    const blob = await encryptCredentials(keyring, accountId, id, { webhookSecret: rotated });
    await withTestDb((db) =>
      db.execute(sql`update connections set credentials_enc = ${blob} where id = ${id}`),
    );
    // Let the cached copy age past the "just read" window.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await send(rotated)).status).toBe(202);
    await expectError(await send(VECTOR.secret), 401, "bad_signature");
  });

  // Each delivery is its own request, and a cold cache makes them all wait on the one routing read the first
  // of them started: none may be left hanging on another request's I/O.
  it("accepts a burst of concurrent deliveries for a connection it has not read yet", async () => {
    const id = await insertConnection("fub", { apiKey: "k", systemKey: SYSTEM_KEY });
    const bodies = Array.from({ length: 16 }, () => fubEvent());
    const answers = await Promise.all(bodies.map((body) => postFub(body, {}, id)));
    const statuses = await Promise.all(
      answers.map(async (res) => `${res.status} ${res.status === 202 ? "" : await res.text()}`),
    );
    expect(statuses).toEqual(bodies.map(() => "202 "));
    expect((await inboxCount(id)).object).toBe(16);
  });
});

describe("durability", () => {
  it("answers 503 when the durable write fails, so the provider retries", async () => {
    const app = new Hono<{ Bindings: Env }>()
      .route(
        "/webhooks",
        webhookRoutes({
          record: async () => {
            throw new Error("connection reset");
          },
        }),
      )
      .onError(handleError);
    const body = fubEvent();
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`http://etl.test/webhooks/fub/${conns.fub}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "FUB-Signature": await signFub(body, SYSTEM_KEY) },
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectError(res, 503, "unavailable");
    const { eventId } = JSON.parse(body) as { eventId: string };
    expect(await rows(sql`select 1 from webhook_inbox where event_id = ${eventId}`)).toHaveLength(0);
    expect((await objectEvents(conns.fub)).filter((e) => e.event_id === eventId)).toEqual([]);
  });

  it("answers 503 (not 404) when Postgres is unreachable", async () => {
    const app = new Hono<{ Bindings: Env }>().route("/webhooks", webhookRoutes()).onError(handleError);
    const body = fubEvent();
    const nowhere = "postgres://nobody:nothing@127.0.0.1:1/none";
    const broken = { ...env, DATABASE_URL: nowhere, SYSTEM_DATABASE_URL: nowhere };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`http://etl.test/webhooks/fub/${conns.fub}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "FUB-Signature": await signFub(body, SYSTEM_KEY) },
      }),
      broken,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectError(res, 503, "unavailable");
  });
});

// An acknowledged webhook event is never lost, and none wedges its account: bodies and ids Postgres can't hold
// are acknowledged and parked with their reason, events whose work keeps failing are parked after a bounded
// number of attempts, a copy to Postgres that fails for one event isolates it; later events flow.
import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  drainWebhookWork,
  MAX_MIRROR_ATTEMPTS,
  recordWebhookEvents,
  webhookEventCounts,
} from "../../durable-objects/webhook-inbox";
import { signFub } from "../../src/connectors/fub/signature";
import { asWrapper, decodeStorable } from "../../src/core/storable";
import { completeRun } from "../../src/pipeline/run-completion";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { MAX_WEBHOOK_ATTEMPTS } from "../../src/webhooks/parking";
import { rows, uniqueId, withTestDb } from "../support/db";
import { admin, fubAccount, sim, stubFor, waitFor } from "./account-sync-fixtures";

const SYSTEM_KEY = "poison-system-key";

/** An account on a simulator tenant whose FUB connection verifies webhooks with SYSTEM_KEY. */
async function signedAccount() {
  const { accountId, apiKey } = await fubAccount({
    tenant: { counts: { people: 3 }, systemKey: SYSTEM_KEY },
  });
  const connectionId = uniqueId("con");
  const res = await admin("POST", `/accounts/${accountId}/connections`, {
    id: connectionId,
    provider: "fub",
    credentials: { apiKey, systemKey: SYSTEM_KEY },
    baseUrl: sim(),
  });
  expect(res.status).toBe(201);
  const people = await fetch(`${sim()}/v1/people?limit=1`, {
    headers: { authorization: `Basic ${btoa(`${apiKey}:`)}` },
  }).then((r) => r.json<{ people: { id: number }[] }>());
  return { accountId, connectionId, personId: people.people[0]?.id ?? 0 };
}

async function postFub(connectionId: string, body: string) {
  return exports.default.fetch(`http://etl.test/webhooks/fub/${connectionId}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "FUB-Signature": await signFub(body, SYSTEM_KEY) },
  });
}

const event = (fields: Record<string, unknown>) =>
  JSON.stringify({
    eventId: crypto.randomUUID(),
    eventCreated: "2026-11-01T10:00:00+00:00",
    event: "peopleUpdated",
    resourceIds: [1],
    uri: null,
    ...fields,
  });

type InboxRow = { event_id: string; status: string; last_error: string | null; payload: unknown };
const inbox = (connectionId: string) =>
  rows<InboxRow>(sql`
    select event_id, status, last_error, payload from webhook_inbox where connection_id = ${connectionId}`);

type Failed = { source_id: string; error_code: string; error_message: string; payload: unknown };
const webhookFailures = (connectionId: string) =>
  rows<Failed>(sql`
    select source_id, error_code, error_message, payload from failed_records
    where connection_id = ${connectionId} and entity = 'webhook' and resolved_at is null order by source_id`);

describe("poison webhooks", () => {
  it("a poison webhook is parked while the same account's later events are processed", async () => {
    const { accountId, connectionId, personId } = await signedAccount();
    const nulId = crypto.randomUUID();
    const nul = event({ eventId: nulId, resourceIds: ["1\u0000"] });
    const surrogateId = event({ eventId: "ev\udc00il" });
    const deepId = crypto.randomUUID();
    const deep = event({ eventId: deepId, extra: JSON.parse(`${"[".repeat(20_000)}${"]".repeat(20_000)}`) });
    // Signed bytes as a sender writes them: NUL and the lone surrogate as JSON escapes.
    expect(nul).toContain("\\u0000");
    expect(surrogateId).toContain("\\udc00");
    for (const body of [nul, surrogateId, deep]) {
      const res = await postFub(connectionId, body);
      // Acknowledged: it passed the signature check, and it is recorded (never a 5xx, never an ack then loss).
      expect(res.status).toBe(202);
    }
    const goodId = crypto.randomUUID();
    const good = await postFub(connectionId, event({ eventId: goodId, resourceIds: [personId] }));
    expect(good.status).toBe(202);

    const settled = await waitFor(async () => {
      const all = await inbox(connectionId);
      return all.length === 4 && all.every((r) => r.status !== "pending") ? all : undefined;
    });
    const byId = new Map(settled.map((r) => [r.event_id, r]));
    expect(byId.get(goodId)?.status).toBe("processed");
    const goodStaged = await rows<{ n: number }>(sql`
      select count(*)::int as n from stage_records
      where connection_id = ${connectionId} and run_id = ${`webhook:${goodId}`} and source_id = ${String(personId)}`);
    expect(goodStaged[0]?.n).toBe(1);
    expect(byId.get(nulId)?.status).toBe("parked");
    expect(byId.get(deepId)?.status).toBe("parked");
    // The id Postgres can't hold was replaced by the body's hash; the event is parked all the same.
    const hashed = settled.find((r) => r.event_id.startsWith("sha256:"));
    expect(hashed?.status).toBe("parked");

    const failed = new Map((await webhookFailures(connectionId)).map((f) => [f.source_id, f]));
    expect(failed.size).toBe(3);
    expect(failed.get(`event:${nulId}`)).toMatchObject({
      error_code: "unstorable_value",
      error_message: "resourceIds[0] holds a NUL character, which Postgres cannot store",
    });
    expect(failed.get(`event:${hashed?.event_id}`)).toMatchObject({
      error_code: "unstorable_value",
      error_message: "eventId holds a lone UTF-16 surrogate, which Postgres cannot store",
    });
    expect(failed.get(`event:${deepId}`)).toMatchObject({
      error_code: "unstorable_value",
      error_message: "the event body nests deeper than 12000 levels",
    });
    // Kept exactly as received, in the storable encoding.
    const kept = failed.get(`event:${nulId}`)?.payload;
    expect(asWrapper(kept)?.reason).toBe("nul");
    expect(decodeStorable(kept)).toEqual(JSON.parse(nul));

    // The failed-records API shows them.
    const listed = await admin("GET", `/accounts/${accountId}/failed?entity=webhook`);
    expect(listed.status).toBe(200);
    const items = (await listed.json<{ items: { sourceId: string; errorCode: string }[] }>()).items;
    expect(items.map((i) => i.errorCode)).toEqual(Array(3).fill("unstorable_value"));

    // Replayed, a parked event goes back to pending (for the sweep) and its failure is resolved.
    const replay = await admin("POST", `/accounts/${accountId}/failed/replay`, { entity: "webhook" });
    expect(await replay.json()).toMatchObject({ webhookEvents: 3, records: 0 });
    expect((await inbox(connectionId)).filter((r) => r.status === "pending")).toHaveLength(3);
    expect(await webhookFailures(connectionId)).toHaveLength(0);
  });

  it("no client bytes get a 5xx: NUL or lone surrogates in any field, deep nesting, an overlong id", async () => {
    const { connectionId } = await signedAccount();
    const bodies = [
      event({ event: "people\u0000Updated" }),
      event({ uri: "https://x/\ud800" }),
      event({ eventCreated: "\udfff" }),
      `{"eventId":"${crypto.randomUUID()}","event":"peopleUpdated","resourceIds":[1],"x":"\\uD83D\\uDE00"}`,
      `${"[".repeat(20_000)}${"]".repeat(20_000)}`,
      event({ eventId: "e".repeat(5_000) }),
      '{"a":"\\u0000"',
    ];
    const statuses = [];
    for (const body of bodies) statuses.push((await postFub(connectionId, body)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 202, 400]);
    const settled = await waitFor(async () => {
      const all = await inbox(connectionId);
      return all.length === 6 && all.every((r) => r.status !== "pending") ? all : undefined;
    });
    // An escaped surrogate pair is an emoji, not poison; an overlong id is kept as its hash.
    expect(settled.filter((r) => r.status === "parked")).toHaveLength(4);
    expect(settled.some((r) => r.event_id.startsWith("sha256-id:"))).toBe(true);
  });

  it("webhook work is bounded: an event whose fetch keeps failing is parked after MAX_WEBHOOK_ATTEMPTS, others flow", async () => {
    const { accountId, connectionId, personId } = await signedAccount();
    const record = async (entity: string, id: number) => {
      const eventId = crypto.randomUUID();
      const payload = JSON.parse(event({ eventId, event: `${entity}Updated`, resourceIds: [id] }));
      const r = await withTestDb((db) =>
        recordInboxEvent(db, { accountId, connectionId, provider: "fub", eventId, eventType: null, payload }),
      );
      return { ...r, eventId };
    };
    const bad = await record("deals", 1);
    const goodA = await record("people", personId);
    await withTestDb((db) =>
      db.execute(sql`update webhook_inbox set attempts = ${MAX_WEBHOOK_ATTEMPTS - 1} where id = ${bad.id}`),
    );
    const failingDeals: typeof fetch = async (input, init) =>
      String(input instanceof Request ? input.url : input).includes("/deals")
        ? new Response("down", { status: 503 })
        : fetch(input, init);
    const t0 = Date.now() + 3_600_000;
    const queue = (state: DurableObjectState, ids: number[], due: number) => {
      webhookEventCounts(state.storage.sql);
      for (const id of ids)
        state.storage.sql.exec(
          "insert into webhook_work (inbox_id, account_id, connection_id, provider, due_at) values (?, ?, ?, 'fub', ?) on conflict do nothing",
          id,
          accountId,
          connectionId,
          due,
        );
    };
    const first = await runInDurableObject(stubFor(accountId), (_i, state) => {
      queue(state, [bad.id, goodA.id], t0);
      return drainWebhookWork(state, env, { completeRun, fetch: failingDeals, now: () => t0 });
    });
    expect(first).toMatchObject({ processed: 1, pending: 1 });
    // The last allowed attempt failed: still pending, at the bound.
    expect((await inbox(connectionId)).find((r) => r.event_id === bad.eventId)?.status).toBe("pending");

    const goodB = await record("people", personId);
    const later = t0 + 3_600_000;
    const second = await runInDurableObject(stubFor(accountId), (_i, state) => {
      queue(state, [goodB.id], later);
      return drainWebhookWork(state, env, { completeRun, fetch: failingDeals, now: () => later });
    });
    expect(second).toMatchObject({ processed: 2, pending: 0 });
    const statuses = new Map((await inbox(connectionId)).map((r) => [r.event_id, r.status]));
    expect(statuses.get(bad.eventId)).toBe("parked");
    expect(statuses.get(goodB.eventId)).toBe("processed");
    const failed = await webhookFailures(connectionId);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ source_id: `event:${bad.eventId}`, error_code: "webhook_exhausted" });
    expect(failed[0]?.error_message).toContain("503");
    const left = await runInDurableObject(stubFor(accountId), (_i, state) =>
      webhookEventCounts(state.storage.sql),
    );
    expect(left.work).toBe(0);
  });

  it("the copy to Postgres isolates an event it refuses, parks it after MAX_MIRROR_ATTEMPTS, and copies the rest", async () => {
    const { accountId, connectionId } = await signedAccount();
    // Recorded directly (the route would hash it): an id far beyond what the inbox's unique index can hold.
    const random = Array.from(crypto.getRandomValues(new Uint8Array(6_000)), (b) => b.toString(36)).join("");
    const events = [random, crypto.randomUUID(), crypto.randomUUID()].map((eventId) => ({
      accountId,
      connectionId,
      provider: "fub",
      eventId,
      eventType: "notesCreated",
      body: event({ eventId: "x", event: "notesCreated" }),
    }));
    const t0 = Date.now() + 3_600_000;
    const drain = (at: number) =>
      runInDurableObject(stubFor(accountId), (_i, state) => {
        if (at === t0) recordWebhookEvents(state.storage, events, t0);
        return drainWebhookWork(state, env, { completeRun, now: () => at }).then(() =>
          webhookEventCounts(state.storage.sql),
        );
      });
    let counts = await drain(t0);
    expect((await inbox(connectionId)).map((r) => r.event_id).sort()).toEqual(
      [events[1]?.eventId, events[2]?.eventId].sort(),
    );
    for (let i = 1; i < MAX_MIRROR_ATTEMPTS; i++) counts = await drain(t0 + i * 60_000);
    expect(counts).toMatchObject({ unmirrored: 0, mirrorParked: 1 });
    const failed = await webhookFailures(connectionId);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error_code).toBe("webhook_unrecordable");
    expect(failed[0]?.source_id).toMatch(/^event:.{200}\.\.\.\(\d+ chars\)$/);
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drainWebhookWork, WEBHOOK_TIMER, webhookEventCounts } from "../../durable-objects/webhook-inbox";
import { completeRun } from "../../src/pipeline/run-completion";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { rows, withTestDb } from "../support/db";
import { fubAccount, sim, stubFor, waitFor } from "./account-sync-fixtures";

// Parked events (breaker open, no rate budget, provider 5xx) must come back on their own: the account
// object's webhook timer retries them at the gate's retry time. Chaos runs found ~100 of ~130 events left
// pending forever before this existed.

const OPEN_MS = 1_500;

async function firstPersonId(apiKey: string): Promise<number> {
  const res = await fetch(`${sim()}/v1/people?limit=1`, {
    headers: { authorization: `Basic ${btoa(`${apiKey}:`)}` },
  });
  const body = await res.json<{ people: { id: number }[] }>();
  const id = body.people[0]?.id;
  if (id === undefined) throw new Error("the simulator tenant has no people");
  return id;
}

function fubEvent(personId: number) {
  const eventId = crypto.randomUUID();
  return {
    eventId,
    payload: {
      eventId,
      eventCreated: "2026-11-01T10:00:00+00:00",
      event: "peopleUpdated",
      resourceIds: [personId],
      uri: `${sim()}/v1/people/${personId}`,
    },
  };
}

async function inboxRow(connectionId: string, eventId: string) {
  const [row] = await rows<{ id: string; status: string; attempts: number; last_error: string | null }>(
    sql`select id, status, attempts, last_error from webhook_inbox
        where connection_id = ${connectionId} and event_id = ${eventId}`,
  );
  return row;
}

async function webhookTimer(accountId: string) {
  const status = await stubFor(accountId).status();
  return status.timers.find((t) => t.name === WEBHOOK_TIMER);
}

async function parkedAccount() {
  const account = await fubAccount({
    tenant: { counts: { people: 3 } },
    settings: { breaker: { openMs: OPEN_MS } },
  });
  const personId = await firstPersonId(account.apiKey);
  await stubFor(account.accountId).setBreaker(account.connectionId, "open");
  return { ...account, personId };
}

describe("parked webhook events are retried from the account object's alarm", () => {
  it("an event recorded by the route and parked by an open breaker is processed once the breaker lets it through", async () => {
    const { accountId, connectionId, personId } = await parkedAccount();
    const stub = stubFor(accountId);
    const { eventId, payload } = fubEvent(personId);
    const recorded = await stub.recordWebhook({
      accountId,
      connectionId,
      provider: "fub",
      eventId,
      eventType: "peopleUpdated",
      body: JSON.stringify(payload),
    });
    expect(recorded).toEqual({ duplicate: false });

    // Copied to Postgres and tried once: parked, still pending, and the webhook timer waits for the retry time.
    const parked = await waitFor(async () => {
      const row = await inboxRow(connectionId, eventId);
      return row?.last_error ? row : undefined;
    });
    // A wait the breaker imposes is not a failed attempt: it doesn't count towards the attempt bound.
    expect(parked).toMatchObject({ status: "pending", attempts: 0 });
    expect(parked.last_error).toContain("parked: breaker_open");
    await waitFor(async () => ((await webhookTimer(accountId))?.dueAt ?? 0) > Date.now());

    await stub.setBreaker(connectionId, "auto");
    const done = await waitFor(async () => {
      const row = await inboxRow(connectionId, eventId);
      return row?.status === "processed" ? row : undefined;
    });
    expect(done.last_error).toBeNull();
    const staged = await rows<{ source_id: string }>(
      sql`select source_id from stage_records where run_id = ${`webhook:${eventId}`}`,
    );
    expect(staged).toEqual([{ source_id: String(personId) }]);
    // Nothing left to retry: the timer is gone (or only points at other work).
    await waitFor(async () => (await webhookTimer(accountId)) === undefined);
  });

  it("an event the sweep hands over that stays pending is queued on the timer at the gate's retry time", async () => {
    const { accountId, connectionId, personId } = await parkedAccount();
    const stub = stubFor(accountId);
    const { eventId, payload } = fubEvent(personId);
    const { id } = await withTestDb((db) =>
      recordInboxEvent(db, {
        accountId,
        connectionId,
        provider: "fub",
        eventId,
        eventType: "peopleUpdated",
        payload,
      }),
    );
    const before = Date.now();
    const outcome = await stub.ingestWebhook({ inboxId: id, accountId, connectionId, provider: "fub" });
    expect(outcome).toMatchObject({ status: "pending" });
    if (outcome.status !== "pending") throw new Error("unreachable");
    expect(outcome.retryAt).toBeGreaterThan(before);
    const timer = await webhookTimer(accountId);
    expect(timer?.dueAt).toBe(outcome.retryAt);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(outcome.retryAt ?? 0);

    await stub.setBreaker(connectionId, "auto");
    await waitFor(async () => (await inboxRow(connectionId, eventId))?.status === "processed");
  });

  it("a provider 5xx leaves the event pending with a backoff, and the timer finishes it when the provider is back", async () => {
    const account = await fubAccount({ tenant: { counts: { people: 3 } } });
    const { accountId, connectionId } = account;
    const personId = await firstPersonId(account.apiKey);
    const { eventId, payload } = fubEvent(personId);
    const stub = stubFor(accountId);
    const { id } = await withTestDb((db) =>
      recordInboxEvent(db, { accountId, connectionId, provider: "fub", eventId, eventType: null, payload }),
    );
    let calls = 0;
    const failing: typeof fetch = async () => {
      calls++;
      return new Response("down", { status: 503 });
    };
    // Run inside the object on a clock an hour ahead, so the real alarm stays out of the way: with the provider
    // failing, before the retry is due, then with the provider healthy.
    const t0 = Date.now() + 3_600_000;
    const first = await runInDurableObject(stub, async (_i, state) => {
      webhookEventCounts(state.storage.sql);
      state.storage.sql.exec(
        "insert into webhook_work (inbox_id, account_id, connection_id, provider, due_at) values (?, ?, ?, 'fub', ?)",
        id,
        accountId,
        connectionId,
        t0,
      );
      return drainWebhookWork(state, env, { completeRun, fetch: failing, now: () => t0 });
    });
    expect(first).toMatchObject({ processed: 0, pending: 1 });
    expect(calls).toBe(1);
    expect(await inboxRow(connectionId, eventId)).toMatchObject({ status: "pending", attempts: 1 });
    const retry = await runInDurableObject(stub, (_i, state) => ({
      due: state.storage.sql
        .exec<{ due_at: number }>("select due_at from webhook_work where inbox_id = ?", id)
        .one().due_at,
      timer: state.storage.sql
        .exec<{ due_at: number }>("select due_at from timers where name = ?", WEBHOOK_TIMER)
        .toArray()[0]?.due_at,
    }));
    expect(retry.due).toBeGreaterThan(t0);
    expect(retry.timer).toBeLessThanOrEqual(retry.due);

    // Fired again before it is due (alarms are at-least-once): nothing happens.
    const early = await runInDurableObject(stub, (_i, state) =>
      drainWebhookWork(state, env, { completeRun, fetch: failing, now: () => t0 + 1 }),
    );
    expect(early).toMatchObject({ processed: 0, pending: 0 });
    expect(calls).toBe(1);

    const healthy = await runInDurableObject(stub, (_i, state) =>
      drainWebhookWork(state, env, { completeRun, now: () => retry.due + 1 }),
    );
    expect(healthy).toMatchObject({ processed: 1, pending: 0 });
    expect(await inboxRow(connectionId, eventId)).toMatchObject({ status: "processed", attempts: 2 });
    const left = await runInDurableObject(stub, (_i, state) => webhookEventCounts(state.storage.sql).work);
    expect(left).toBe(0);
  });

  it("an object whose account state was wiped (forgetAccount) still records, and remembers ids again", async () => {
    const { accountId, connectionId } = await fubAccount({ tenant: { counts: { people: 1 } } });
    const stub = stubFor(accountId);
    const event = {
      accountId,
      connectionId,
      provider: "fub",
      eventId: crypto.randomUUID(),
      eventType: "notesCreated",
      body: JSON.stringify({ event: "notesCreated", resourceIds: [1] }),
    };
    expect(await stub.recordWebhook(event)).toEqual({ duplicate: false });
    await stub.forgetAccount();
    expect(await stub.recordWebhook(event)).toEqual({ duplicate: false });
    expect(await stub.recordWebhook(event)).toEqual({ duplicate: true });
    // The copy to Postgres meets the first copy there: one row, no second effect.
    await waitFor(async () => {
      const found = await rows(sql`select status from webhook_inbox where event_id = ${event.eventId}`);
      return found.length === 1 && found[0]?.status === "processed";
    });
  });
});

describe("deliveries that reach the object together", () => {
  it("share one write: each gets its own answer, a repeat within the burst is a duplicate, all are processed", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 3 } } });
    const personId = await firstPersonId(apiKey);
    const stub = stubFor(accountId);
    const events = Array.from({ length: 10 }, () => fubEvent(personId));
    const deliver = (e: ReturnType<typeof fubEvent>) =>
      stub.recordWebhook({
        accountId,
        connectionId,
        provider: "fub",
        eventId: e.eventId,
        eventType: "peopleUpdated",
        body: JSON.stringify(e.payload),
      });
    const repeated = events[0] as ReturnType<typeof fubEvent>;
    const [first, again, third, ...rest] = await Promise.all([
      deliver(repeated),
      deliver(repeated),
      deliver(repeated),
      ...events.slice(1).map(deliver),
    ]);
    expect([first, again, third].filter((o) => !o?.duplicate)).toHaveLength(1);
    expect(rest.every((o) => o.duplicate === false)).toBe(true);
    const counts = await runInDurableObject(stub, (_i, state) => webhookEventCounts(state.storage.sql));
    expect(counts.recorded).toBe(10);
    // The timer the shared write armed processes every one of them.
    await waitFor(async () => {
      const found = await rows<{ n: number }>(
        sql`select count(*)::int as n from webhook_inbox where connection_id = ${connectionId} and status = 'processed'`,
      );
      return found[0]?.n === 10 ? true : undefined;
    });
  });
});

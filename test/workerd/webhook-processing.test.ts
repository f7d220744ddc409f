import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type IngestOutcome,
  processWebhookEvent,
  processWebhookEvents,
  type RunCompleter,
  type WebhookProcessDeps,
  webhookGroupRunId,
  webhookRunId,
} from "../../durable-objects/webhook-fetch";
import { encryptCredentials } from "../../src/accounts/connections";
import { parseKeyring } from "../../src/core/crypto";
import { openDb } from "../../src/db/client";
import type { TransformMessage } from "../../src/pipeline/messages";
import { pendingInboxEvents, pruneInbox, recordInboxEvent } from "../../src/webhooks/inbox";
import { sweepWebhookInbox } from "../../src/webhooks/sweep";
import { rows, uniqueId, withTestDb } from "../support/db";

const BASE = "https://fub.test";
let accountId: string;
let connectionId: string;

beforeAll(async () => {
  accountId = uniqueId("acc");
  connectionId = uniqueId("con");
  const blob = await encryptCredentials(await parseKeyring(env.CREDENTIALS_KEY), accountId, connectionId, {
    apiKey: "api-key",
    systemKey: "sys",
  });
  await withTestDb(async (db) => {
    await db.execute(sql`insert into accounts (id, name) values (${accountId}, 'processing')`);
    await db.execute(sql`insert into connections (id, account_id, provider, base_url, credentials_enc)
                         values (${connectionId}, ${accountId}, 'fub', ${BASE}, ${blob})`);
  });
});

type Harness = {
  fetches: string[];
  messages: TransformMessage[];
  completions: Parameters<RunCompleter>[1][];
  respond: (url: string) => Response;
};

function person(id: number) {
  return {
    id,
    created: "2026-10-01T00:00:00Z",
    updated: "2026-11-01T09:00:00Z",
    firstName: `P${id}`,
    lastName: "X",
  };
}

async function record(payload: Record<string, unknown>) {
  return withTestDb((db) =>
    recordInboxEvent(db, {
      accountId,
      connectionId,
      provider: "fub",
      eventId: String(payload.eventId),
      eventType: String(payload.event),
      payload,
    }),
  );
}

/** Runs the object-side processing inside the account's object, with the provider and queue faked. */
async function inObject<T>(h: Harness, run: (deps: WebhookProcessDeps) => Promise<T>): Promise<T> {
  const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
  return runInDurableObject(stub, async (_instance, state) => {
    const handle = openDb(env);
    try {
      return await run({
        db: handle.db,
        sql: state.storage.sql,
        queue: {
          sendBatch: async (batch: Iterable<MessageSendRequest<TransformMessage>>) => {
            for (const m of batch) h.messages.push(m.body);
          },
        } as unknown as Queue<TransformMessage>,
        fetch: async (input) => {
          const url = String(input instanceof Request ? input.url : input);
          h.fetches.push(url);
          return h.respond(url);
        },
        now: Date.now,
        keyring: await parseKeyring(env.CREDENTIALS_KEY),
        completeRun: async (_db, run) => {
          h.completions.push(run);
          return { status: "applied", deletes: 1 };
        },
      });
    } finally {
      await handle.close();
    }
  });
}

const process = (inboxId: number, h: Harness): Promise<IngestOutcome> =>
  inObject(h, (deps) => processWebhookEvent(deps, { inboxId, accountId, connectionId, provider: "fub" }));

const processMany = (inboxIds: number[], h: Harness) =>
  inObject(h, (deps) =>
    processWebhookEvents(
      deps,
      inboxIds.map((inboxId) => ({ inboxId, accountId, connectionId, provider: "fub" })),
    ),
  );

function harness(respond: Harness["respond"]): Harness {
  return { fetches: [], messages: [], completions: [], respond };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("processing a recorded webhook in the account's object", () => {
  it("fetches the named records by id, stages them as run webhook:<eventId>, announces the page, marks processed", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await record({
      eventId,
      eventCreated: "2026-11-01T10:00:00+00:00",
      event: "peopleUpdated",
      resourceIds: [17, 18],
      uri: `${BASE}/v1/people?id=17,18`,
    });
    const h = harness(() => json({ people: [person(17), person(18)], _metadata: { total: 2, next: null } }));
    const outcome = await process(id, h);
    expect(outcome).toEqual({ status: "processed", staged: 2 });
    expect(h.fetches).toHaveLength(1);
    const fetched = new URL(h.fetches[0] ?? "");
    expect(fetched.origin).toBe(BASE);
    expect(fetched.searchParams.get("id")?.split(",").sort()).toEqual(["17", "18"]);

    const staged = await rows<{ source_id: string; op: string; page_no: number }>(
      sql`select source_id, op, page_no from stage_records
          where connection_id = ${connectionId} and run_id = ${webhookRunId(eventId)} order by source_id`,
    );
    expect(staged).toEqual([
      { source_id: "17", op: "upsert", page_no: 0 },
      { source_id: "18", op: "upsert", page_no: 0 },
    ]);
    expect(h.messages).toEqual([
      expect.objectContaining({
        runId: webhookRunId(eventId),
        pageNo: 0,
        records: 2,
        entity: "people",
        accountId,
      }),
    ]);
    const inbox = await rows<{ status: string; processed_at: string | null }>(
      sql`select status, processed_at from webhook_inbox where id = ${id}`,
    );
    expect(inbox[0]?.status).toBe("processed");
    expect(inbox[0]?.processed_at).not.toBeNull();

    // Processing again (the sweep, a redelivered hand-off) has no second effect.
    const again = await process(id, h);
    expect(again).toEqual({ status: "already_processed" });
    expect(h.fetches).toHaveLength(1);
    expect(h.messages).toHaveLength(1);
  });

  it("turns *Deleted into tombstones dated by eventCreated and completes the run in webhook mode, without fetching", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await record({
      eventId,
      eventCreated: "2026-11-02T08:30:00+00:00",
      event: "peopleDeleted",
      resourceIds: [21],
      uri: `${BASE}/v1/people/21`,
    });
    const h = harness(() => json({}, 500));
    expect(await process(id, h)).toEqual({ status: "processed", staged: 1 });
    expect(h.fetches).toEqual([]);
    const staged = await rows<{ source_id: string; op: string; payload: { id: number; deletedAt: string } }>(
      sql`select source_id, op, payload from stage_records where run_id = ${webhookRunId(eventId)}`,
    );
    expect(staged).toHaveLength(1);
    expect(staged[0]?.op).toBe("delete");
    expect(staged[0]?.source_id).toBe("21");
    expect(staged[0]?.payload.id).toBe(21);
    expect(Date.parse(staged[0]?.payload.deletedAt ?? "")).toBe(Date.parse("2026-11-02T08:30:00Z"));
    expect(h.completions).toEqual([
      {
        accountId,
        connectionId,
        provider: "fub",
        entity: "people",
        runId: webhookRunId(eventId),
        mode: "webhook",
      },
    ]);
  });

  it("leaves the event pending on a provider failure and finishes it on the next attempt", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await record({
      eventId,
      eventCreated: "2026-11-01T10:00:00+00:00",
      event: "peopleCreated",
      resourceIds: [31],
      uri: `${BASE}/v1/people/31`,
    });
    const failing = harness(() => json({ error: "down" }, 503));
    const first = await process(id, failing);
    expect(first.status).toBe("pending");
    const pending = await rows<{ status: string; attempts: number; last_error: string }>(
      sql`select status, attempts, last_error from webhook_inbox where id = ${id}`,
    );
    expect(pending[0]).toMatchObject({ status: "pending", attempts: 1 });
    expect(pending[0]?.last_error).toContain("503");

    const ok = harness(() => json({ people: [person(31)], _metadata: { total: 1 } }));
    expect(await process(id, ok)).toEqual({ status: "processed", staged: 1 });
  });

  it("marks an event for something we don't sync as processed with the reason, fetching nothing", async () => {
    const { id } = await record({
      eventId: crypto.randomUUID(),
      eventCreated: "2026-11-01T10:00:00+00:00",
      event: "notesCreated",
      resourceIds: [1],
      uri: `${BASE}/v1/notes/1`,
    });
    const h = harness(() => json({}));
    const outcome = await process(id, h);
    expect(outcome).toMatchObject({ status: "processed", staged: 0 });
    expect(h.fetches).toEqual([]);
  });
});

describe("processing several recorded webhooks at once", () => {
  const updated = (resourceIds: number[]) => ({
    eventId: crypto.randomUUID(),
    eventCreated: "2026-11-01T10:00:00+00:00",
    event: "peopleUpdated",
    resourceIds,
    uri: `${BASE}/v1/people?id=${resourceIds.join(",")}`,
  });
  /** Answers a by-id list request with the people it names that exist (41-44; 49 was deleted). */
  const byIds = (url: string) => {
    const ids = (new URL(url).searchParams.get("id") ?? "").split(",").map(Number);
    const people = ids.filter((id) => id >= 41 && id <= 44).map(person);
    return json({ people, _metadata: { total: people.length, next: null } });
  };

  it("events naming records of one entity share one provider request; each gets its own outcome", async () => {
    const a = updated([41, 42]);
    const b = updated([42, 43]);
    const c = updated([44, 49]);
    const gone = {
      eventId: crypto.randomUUID(),
      eventCreated: "2026-11-01T10:05:00+00:00",
      event: "peopleDeleted",
      resourceIds: [45],
      uri: `${BASE}/v1/people/45`,
    };
    const notes = { ...updated([1]), event: "notesCreated" };
    const ids = [];
    for (const e of [a, b, c, gone, notes]) ids.push((await record(e)).id);
    const [ia, ib, ic, igone, inotes] = ids as [number, number, number, number, number];

    const h = harness(byIds);
    const outcomes = await processMany([...ids, 987_654_321], h);
    expect(h.fetches).toHaveLength(1);
    expect(new URL(h.fetches[0] ?? "").searchParams.get("id")?.split(",").sort()).toEqual([
      "41",
      "42",
      "43",
      "44",
      "49",
    ]);
    expect(outcomes.get(ia)).toEqual({ status: "processed", staged: 2 });
    expect(outcomes.get(ib)).toEqual({ status: "processed", staged: 2 });
    expect(outcomes.get(ic)).toEqual({ status: "processed", staged: 1 });
    expect(outcomes.get(igone)).toEqual({ status: "processed", staged: 1 });
    expect(outcomes.get(inotes)).toMatchObject({ status: "processed", staged: 0 });
    expect(outcomes.get(987_654_321)).toEqual({ status: "missing" });

    const runId = webhookGroupRunId([a.eventId, b.eventId, c.eventId]);
    const staged = await rows<{ source_id: string }>(
      sql`select source_id from stage_records
          where connection_id = ${connectionId} and run_id = ${runId} order by source_id`,
    );
    expect(staged.map((r) => r.source_id)).toEqual(["41", "42", "43", "44"]);
    expect(h.messages.filter((m) => m.runId === runId)).toEqual([
      expect.objectContaining({ pageNo: 0, records: 4, entity: "people" }),
    ]);
    expect(h.completions).toEqual([expect.objectContaining({ runId: webhookRunId(gone.eventId) })]);
    const inbox = await rows<{ id: string; status: string; attempts: number }>(
      sql`select id::text, status, attempts from webhook_inbox where id in (${ia}, ${ib}, ${ic}, ${igone}, ${inotes})`,
    );
    expect(inbox.map((r) => [r.status, r.attempts])).toEqual(Array(5).fill(["processed", 1]));

    const again = await processMany(ids, h);
    expect([...again.values()]).toEqual(Array(5).fill({ status: "already_processed" }));
    expect(h.fetches).toHaveLength(1);
  });

  it("a failed shared request leaves every event of the group pending, and a later attempt finishes them", async () => {
    const ids = [(await record(updated([41]))).id, (await record(updated([42]))).id];
    const failing = harness(() => json({ error: "down" }, 503));
    const first = await processMany(ids, failing);
    expect(failing.fetches).toHaveLength(1);
    expect([...first.values()].map((o) => o.status)).toEqual(["pending", "pending"]);
    const inbox = await rows<{ status: string; attempts: number; last_error: string }>(
      sql`select status, attempts, last_error from webhook_inbox where id in (${ids[0]}, ${ids[1]})`,
    );
    for (const r of inbox) {
      expect(r).toMatchObject({ status: "pending", attempts: 1 });
      expect(r.last_error).toContain("503");
    }
    const ok = harness(byIds);
    const second = await processMany(ids, ok);
    expect([...second.values()]).toEqual([
      { status: "processed", staged: 1 },
      { status: "processed", staged: 1 },
    ]);
  });

  it("more ids than one request takes are split into pages of the same run", async () => {
    const many = Array.from({ length: 130 }, (_, i) => 1000 + i);
    const ids = [(await record(updated(many.slice(0, 70)))).id, (await record(updated(many.slice(70)))).id];
    const h = harness((url) => {
      const wanted = (new URL(url).searchParams.get("id") ?? "").split(",").map(Number);
      return json({ people: wanted.map(person), _metadata: { total: wanted.length, next: null } });
    });
    const outcomes = await processMany(ids, h);
    expect(h.fetches).toHaveLength(2);
    expect(h.fetches.map((u) => new URL(u).searchParams.get("id")?.split(",").length)).toEqual([100, 30]);
    expect([...outcomes.values()]).toEqual([
      { status: "processed", staged: 70 },
      { status: "processed", staged: 60 },
    ]);
    expect(h.messages.map((m) => [m.pageNo, m.records])).toEqual([
      [0, 100],
      [1, 30],
    ]);
  });
});

describe("inbox sweep and retention", () => {
  it("lists pending events older than the hand-off grace period, and prunes only processed rows older than 7 days", async () => {
    const mk = async (eventId: string, status: string, receivedAgo: string, processedAgo: string | null) =>
      withTestDb((db) =>
        db.execute(sql`insert into webhook_inbox (account_id, connection_id, provider, event_id, payload, status, received_at, processed_at)
          values (${accountId}, ${connectionId}, 'fub', ${eventId}, '{}'::jsonb, ${status},
                  now() - ${receivedAgo}::interval,
                  ${processedAgo === null ? null : sql`now() - ${processedAgo}::interval`})`),
      );
    const tag = uniqueId("ret");
    await mk(`${tag}_old_done`, "processed", "9 days", "8 days");
    await mk(`${tag}_recent_done`, "processed", "7 days", "6 days 23 hours");
    await mk(`${tag}_old_pending`, "pending", "10 days", null);
    await mk(`${tag}_fresh_pending`, "pending", "5 seconds", null);

    const pending = await withTestDb((db) => pendingInboxEvents(db, { olderThanSec: 120, limit: 10_000 }));
    const ids = await rows<{ id: string; event_id: string }>(
      sql`select id, event_id from webhook_inbox where event_id like ${`${tag}%`}`,
    );
    const idOf = (suffix: string) => Number(ids.find((r) => r.event_id === `${tag}_${suffix}`)?.id);
    const pendingIds = pending.map((p) => p.inboxId);
    expect(pendingIds).toContain(idOf("old_pending"));
    expect(pendingIds).not.toContain(idOf("fresh_pending"));
    expect(pendingIds).not.toContain(idOf("old_done"));

    // Asking for less than 7 days still keeps 7.
    await withTestDb((db) => pruneInbox(db, 1));
    const left = await rows<{ event_id: string }>(
      sql`select event_id from webhook_inbox where event_id like ${`${tag}%`} order by event_id`,
    );
    expect(left.map((r) => r.event_id)).toEqual([
      `${tag}_fresh_pending`,
      `${tag}_old_pending`,
      `${tag}_recent_done`,
    ]);
  });
});

describe("through the account object's RPC with the real run completion", () => {
  it("a peopleDeleted event soft-deletes the core row, once, however often it is handed over", async () => {
    await withTestDb((db) =>
      db.execute(sql`insert into fub_people (account_id, connection_id, source_id, source_updated_at, raw)
                     values (${accountId}, ${connectionId}, 4242, '2026-10-01T00:00:00Z', '{"id":4242}'::jsonb)`),
    );
    const eventId = crypto.randomUUID();
    const { id } = await record({
      eventId,
      eventCreated: "2026-11-03T12:00:00+00:00",
      event: "peopleDeleted",
      resourceIds: [4242],
      uri: `${BASE}/v1/people/4242`,
    });
    const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
    const req = { inboxId: id, accountId, connectionId, provider: "fub" };
    expect(await stub.ingestWebhook(req)).toEqual({ status: "processed", staged: 1 });
    expect(await stub.ingestWebhook(req)).toEqual({ status: "already_processed" });

    const core = await rows<{ deleted_at: string | null }>(
      sql`select deleted_at from fub_people where connection_id = ${connectionId} and source_id = 4242`,
    );
    expect(Date.parse(core[0]?.deleted_at ?? "")).toBe(Date.parse("2026-11-03T12:00:00Z"));
    const staged = await rows<{ n: number }>(
      sql`select count(*)::int as n from stage_records where run_id = ${webhookRunId(eventId)}`,
    );
    expect(staged[0]?.n).toBe(1);
  });

  it("the sweep re-sends events left pending", async () => {
    const { id } = await record({
      eventId: crypto.randomUUID(),
      eventCreated: "2026-11-01T10:00:00+00:00",
      event: "peopleCreated",
      resourceIds: [1],
      uri: `${BASE}/v1/people/1`,
    });
    await withTestDb((db) =>
      db.execute(sql`update webhook_inbox set received_at = now() - interval '10 minutes' where id = ${id}`),
    );
    const sent: number[] = [];
    const report = await withTestDb((db) =>
      sweepWebhookInbox(db, async (req) => sent.push(req.inboxId), { accountIds: [accountId] }),
    );
    expect(sent).toContain(id);
    // Scoped to this account: only its own pending rows (the old pending one above, and this one).
    const own = await rows<{ id: string }>(
      sql`select id from webhook_inbox where account_id = ${accountId} and status = 'pending'
          and received_at <= now() - interval '2 minutes'`,
    );
    expect(sent.sort()).toEqual(own.map((r) => Number(r.id)).sort());
    expect(report.dispatched).toBe(own.length);
  });
});

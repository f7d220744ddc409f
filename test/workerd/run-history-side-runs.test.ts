// Webhook and replay runs in the run history: their rows carry the provider requests and 429s they made, and
// their bounded log lines say what they did, without payloads. Real workerd (the account's object), real
// Postgres; the provider and the queue are faked so each request is counted here too.
import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  processWebhookEvent,
  processWebhookEvents,
  type WebhookProcessDeps,
  webhookGroupRunId,
  webhookRunId,
} from "../../durable-objects/webhook-fetch";
import { encryptCredentials } from "../../src/accounts/connections";
import { parseKeyring } from "../../src/core/crypto";
import { openDb } from "../../src/db/client";
import type { TransformMessage } from "../../src/pipeline/messages";
import { replayFailed } from "../../src/pipeline/replay";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { MAX_WEBHOOK_ATTEMPTS } from "../../src/webhooks/parking";
import { rows, uniqueId, withTestDb } from "../support/db";
import { admin } from "./account-sync-fixtures";

const BASE = "https://fub.test";
let accountId: string;
let connectionId: string;

beforeAll(async () => {
  accountId = uniqueId("acc_side");
  connectionId = uniqueId("con_side");
  const blob = await encryptCredentials(await parseKeyring(env.CREDENTIALS_KEY), accountId, connectionId, {
    apiKey: "api-key",
    systemKey: "sys",
  });
  await withTestDb(async (db) => {
    await db.execute(sql`insert into accounts (id, name) values (${accountId}, 'side runs')`);
    await db.execute(sql`insert into connections (id, account_id, provider, base_url, credentials_enc)
                         values (${connectionId}, ${accountId}, 'fub', ${BASE}, ${blob})`);
  });
});

const fakeQueue = (sent: TransformMessage[]) =>
  ({
    sendBatch: async (batch: Iterable<MessageSendRequest<TransformMessage>>) => {
      for (const m of batch) sent.push(m.body);
    },
  }) as unknown as Queue<TransformMessage>;

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const person = (id: number) => ({
  id,
  created: "2026-10-01T00:00:00Z",
  updated: "2026-11-01T09:00:00Z",
  firstName: `Secretname${id}`,
  lastName: "X",
});

/** Answers by-id list requests with the ids asked for. */
const byIds = (url: string) => {
  const ids = (new URL(url).searchParams.get("id") ?? "").split(",").map(Number);
  return json({ people: ids.map(person), _metadata: { total: ids.length } });
};

async function record(eventId: string, event: string, resourceIds: number[]) {
  const payload = { eventId, eventCreated: "2026-11-01T10:00:00+00:00", event, resourceIds };
  return withTestDb((db) =>
    recordInboxEvent(db, { accountId, connectionId, provider: "fub", eventId, eventType: event, payload }),
  );
}

async function inObject<T>(
  respond: (url: string) => Response,
  fetches: string[],
  run: (deps: WebhookProcessDeps) => Promise<T>,
): Promise<T> {
  const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
  return runInDurableObject(stub, async (_i, state) => {
    const handle = openDb(env);
    try {
      return await run({
        db: handle.db,
        sql: state.storage.sql,
        queue: fakeQueue([]),
        fetch: async (input) => {
          const url = String(input instanceof Request ? input.url : input);
          fetches.push(url);
          return respond(url);
        },
        now: Date.now,
        keyring: await parseKeyring(env.CREDENTIALS_KEY),
        completeRun: async () => ({ status: "applied", deletes: 0 }),
      });
    } finally {
      await handle.close();
    }
  });
}

const once = (inboxId: number, respond: (url: string) => Response, fetches: string[] = []) =>
  inObject(respond, fetches, (deps) =>
    processWebhookEvent(deps, { inboxId, accountId, connectionId, provider: "fub" }),
  );

type RunRow = {
  mode: string;
  trigger: string;
  status: string;
  pages: number;
  fetched: number;
  requests: number;
  rate_limited: number;
  provider_errors: number;
  error_message: string | null;
};

async function runRow(runId: string, entity = "people"): Promise<RunRow | undefined> {
  const found = await rows<RunRow>(sql`
    select mode, trigger, status, pages, fetched::int as fetched, requests, rate_limited, provider_errors,
           error_message
    from sync_runs where connection_id = ${connectionId} and entity = ${entity} and run_id = ${runId}`);
  return found[0];
}

/** Through the console's route, as an operator reads them. */
async function logLines(runId: string): Promise<{ level: string; message: string }[]> {
  const res = await admin("GET", `/accounts/${accountId}/runs/${encodeURIComponent(runId)}/logs`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { lines?: { level: string; message: string }[] };
  return body.lines ?? [];
}

describe("webhook runs in the run history", () => {
  it("count every provider request of every attempt, and log each attempt without payloads", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await record(eventId, "peopleUpdated", [51, 52]);
    const runId = webhookRunId(eventId);
    const fetches: string[] = [];

    // A provider failure: one request, one error; the run waits for the event's next attempt.
    expect((await once(id, () => json({ error: "down" }, 503), fetches)).status).toBe("pending");
    expect(await runRow(runId)).toMatchObject({
      mode: "webhook",
      trigger: "webhook",
      status: "PENDING",
      requests: 1,
      rate_limited: 0,
      provider_errors: 1,
      error_message: "HTTP 503",
    });
    // The next attempt fetches both records in one request: the run's requests add up over attempts.
    expect(await once(id, byIds, fetches)).toEqual({ status: "processed", staged: 2 });
    expect(fetches).toHaveLength(2);
    expect(await runRow(runId)).toMatchObject({
      status: "COMPLETED",
      pages: 1,
      fetched: 2,
      requests: 2,
      rate_limited: 0,
      provider_errors: 1,
      error_message: null,
    });
    const lines = await logLines(runId);
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ["info", "webhook run started: 1 event(s) naming 2 people record(s)"],
      [
        "warn",
        "fetch failed: HTTP 503; 0 record(s) fetched by id in 1 request(s) (0 answered 429); the events stay pending",
      ],
      ["info", "webhook run started: 1 event(s) naming 2 people record(s)"],
      [
        "info",
        "run finished: 2 record(s) fetched by id in 1 request(s) (0 answered 429); 2 record(s) staged for transform",
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain("Secretname");
    expect(JSON.stringify(lines)).not.toContain("api-key");
  });

  it("an event parked after its attempts ends its waiting run in ERROR, with a line saying why", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await record(eventId, "peopleUpdated", [91]);
    // Before the 429 test below: its Retry-After holds the connection's budget for a second.
    const first: string[] = [];
    expect((await once(id, () => json({ error: "down" }, 500), first)).status).toBe("pending");
    expect(first).toHaveLength(1);
    expect(await runRow(webhookRunId(eventId))).toMatchObject({ status: "PENDING", requests: 1 });
    // As if the other attempts had failed too.
    await withTestDb((db) =>
      db.execute(sql`update webhook_inbox set attempts = ${MAX_WEBHOOK_ATTEMPTS} where id = ${id}`),
    );
    const fetches: string[] = [];
    expect((await once(id, byIds, fetches)).status).toBe("parked");
    expect(fetches).toHaveLength(0);
    const ended = await runRow(webhookRunId(eventId));
    expect(ended).toMatchObject({ status: "ERROR", requests: 1 });
    expect(ended?.error_message).toContain(`${MAX_WEBHOOK_ATTEMPTS} attempts failed; last: HTTP 500`);
    const lines = await logLines(webhookRunId(eventId));
    expect(lines.at(-1)).toMatchObject({ level: "error" });
    expect(lines.at(-1)?.message).toMatch(/^run ended: its events were parked \(/);
  });

  // Before the 429 test below, whose Retry-After holds the connection's budget for a second.
  it("a group's waiting run ends ABANDONED when its events go on in other runs after a regroup", async () => {
    const e1 = crypto.randomUUID();
    const e2 = crypto.randomUUID();
    const ids = [(await record(e1, "peopleUpdated", [71])).id, (await record(e2, "peopleUpdated", [72])).id];
    const failed = await inObject(
      () => json({ error: "down" }, 500),
      [],
      (deps) =>
        processWebhookEvents(
          deps,
          ids.map((inboxId) => ({ inboxId, accountId, connectionId, provider: "fub" })),
        ),
    );
    expect([...failed.values()].map((o) => o.status)).toEqual(["pending", "pending"]);
    const groupRun = webhookGroupRunId([e1, e2]);
    expect(await runRow(groupRun)).toMatchObject({ status: "PENDING" });
    // The retry takes the events one at a time: the group is never tried again as such.
    expect((await once(ids[0] as number, byIds)).status).toBe("processed");
    expect(await runRow(webhookRunId(e1))).toMatchObject({ status: "COMPLETED" });
    expect(await runRow(groupRun)).toMatchObject({ status: "ABANDONED" });
    const lines = await logLines(groupRun);
    expect(lines.at(-1)?.message).toBe(
      `run ended: its events were regrouped and went on in ${webhookRunId(e1)}`,
    );
    expect((await once(ids[1] as number, byIds)).status).toBe("processed");
    expect(await runRow(webhookRunId(e2))).toMatchObject({ status: "COMPLETED" });
  });

  it("a group's shared request is one request of the group's run; a 429 counts as a request and a 429", async () => {
    const e1 = crypto.randomUUID();
    const e2 = crypto.randomUUID();
    const ids = [(await record(e1, "peopleUpdated", [61])).id, (await record(e2, "peopleUpdated", [62])).id];
    const fetches: string[] = [];
    const limited = await inObject(
      () => json({ error: "slow down" }, 429, { "Retry-After": "1" }),
      fetches,
      (deps) =>
        processWebhookEvents(
          deps,
          ids.map((inboxId) => ({ inboxId, accountId, connectionId, provider: "fub" })),
        ),
    );
    expect([...limited.values()].map((o) => o.status)).toEqual(["pending", "pending"]);
    expect(fetches).toHaveLength(1);
    const runId = webhookGroupRunId([e1, e2]);
    expect(await runRow(runId)).toMatchObject({
      status: "PENDING",
      requests: 1,
      rate_limited: 1,
      provider_errors: 0,
    });
    const lines = await logLines(runId);
    expect(lines[0]?.message).toBe("webhook run started: 2 event(s) naming 2 people record(s)");
    expect(lines[1]?.level).toBe("warn");
    expect(lines[1]?.message).toMatch(
      /^provider calls held \(parked: rate_limited\) until .+; 0 record\(s\) fetched by id in 1 request\(s\) \(1 answered 429\); the events stay pending$/,
    );
  });

  it("a delete event's run stages its tombstones with no provider request", async () => {
    const eventId = crypto.randomUUID();
    const { id } = await record(eventId, "peopleDeleted", [71, 72, 73]);
    const fetches: string[] = [];
    expect(await once(id, byIds, fetches)).toEqual({ status: "processed", staged: 3 });
    expect(fetches).toHaveLength(0);
    expect(await runRow(webhookRunId(eventId))).toMatchObject({
      status: "COMPLETED",
      fetched: 3,
      requests: 0,
    });
    expect((await logLines(webhookRunId(eventId))).map((l) => l.message)).toEqual([
      "webhook run started: 1 event deleting 3 people record(s)",
      "run finished: 3 delete(s) staged for transform",
    ]);
  });
});

describe("replay runs in the run history", () => {
  it("record each entity's share with its records, pages, zero requests and log lines", async () => {
    await withTestDb(async (db) => {
      await db.execute(sql`
        insert into failed_records (account_id, connection_id, provider, entity, source_id, error_code,
                                    error_message, payload, attempts)
        values
          (${accountId}, ${connectionId}, 'fub', 'people', 'r1', 'invalid', 'bad', ${JSON.stringify(person(81))}::jsonb, 1),
          (${accountId}, ${connectionId}, 'fub', 'people', 'r2', 'invalid', 'bad', ${JSON.stringify(person(82))}::jsonb, 1),
          (${accountId}, ${connectionId}, 'fub', 'people', 'r3', 'invalid', 'bad', ${JSON.stringify(person(83))}::jsonb, 10),
          (${accountId}, ${connectionId}, 'fub', 'notes', 'n1', 'invalid', 'bad', '{"id": 1}'::jsonb, 1)`);
    });
    const sent: TransformMessage[] = [];
    const handle = openDb(env);
    let result: Awaited<ReturnType<typeof replayFailed>>;
    try {
      result = await replayFailed(handle.db, fakeQueue(sent), accountId, { limit: 100 });
    } finally {
      await handle.close();
    }
    expect(result).toMatchObject({ records: 3, messages: 2, exhausted: 1 });
    expect(await runRow(result.runId, "people")).toMatchObject({
      mode: "replay",
      trigger: "replay",
      status: "COMPLETED",
      pages: 1,
      fetched: 2,
      requests: 0,
      rate_limited: 0,
    });
    expect(await runRow(result.runId, "notes")).toMatchObject({ mode: "replay", pages: 1, fetched: 1 });
    const lines = await logLines(result.runId);
    const byEntity = (entity: string) =>
      lines.filter((l) => (l as { entity?: string }).entity === entity).map((l) => l.message);
    const all = lines.map((l) => l.message);
    expect(all).toContain(
      "replay started: 2 failed people record(s) in 1 page(s), from their stored payloads (no provider requests)",
    );
    expect(all).toContain(
      "replay started: 1 failed notes record(s) in 1 page(s), from their stored payloads (no provider requests)",
    );
    expect(all.filter((m) => m.startsWith("1 exhausted failed record(s) left out"))).toHaveLength(1);
    expect(all.filter((m) => m.startsWith("run finished: "))).toHaveLength(2);
    expect(byEntity("people").at(-1)).toBe(
      "run finished: 2 record(s) staged for transform; written, unchanged and failed follow as its pages land",
    );
    expect(JSON.stringify(lines)).not.toContain("Secretname");
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_RECORD_MOVES } from "../../durable-objects/record-fetch";
import {
  type IngestOutcome,
  processWebhookEvent,
  processWebhookEvents,
  webhookRunId,
} from "../../durable-objects/webhook-fetch";
import { encryptCredentials, loadConnection } from "../../src/accounts/connections";
import { inTenant } from "../../src/accounts/tenant";
import { defineConnector, fieldOf } from "../../src/connectors/define";
import { fub } from "../../src/connectors/fub";
import type { WebhookResolution } from "../../src/connectors/types";
import { parseKeyring } from "../../src/core/crypto";
import { openDb } from "../../src/db/client";
import type { TransformMessage } from "../../src/pipeline/messages";
import { completeRun } from "../../src/pipeline/run-completion";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { standardWebhookScheme } from "../../src/webhooks/standard";
import { rows, uniqueId, withTestDb } from "../support/db";

// Webhook events resolved to one URL per record, for a provider with no by-id list: a TEST-ONLY connector
// (FUB's entities, no byIds, its own resolve) whose events name records by id and say where each one lives.
// The provider is a function of the URL; redirects reach the engine as they are (redirect: "manual").

const BASE = "https://records.test";
let accountId: string;
let connectionId: string;

/** Events: { eventId, ids, gone? } → one fetch URL per record under /v1/people/{id}. */
const perRecord = defineConnector({
  ...fub.spec,
  byIds: null,
  webhooks: {
    verification: standardWebhookScheme("systemKey"),
    events: ["updated"],
    resolve(payload): WebhookResolution {
      const ids = (fieldOf(payload, "ids") as number[]).map(String);
      return {
        eventId: String(fieldOf(payload, "eventId")),
        event: "updated",
        entity: "people",
        ids,
        uri: null,
        deleted: false,
        occurredAt: null,
        records: ids.map((id) => ({
          id,
          path: `/v1/people/${id}`,
          ...(fieldOf(payload, "attach") ? { attach: [{ field: "extra", suffix: "/extra" }] } : {}),
        })),
      };
    },
  },
});

beforeAll(async () => {
  accountId = uniqueId("acc");
  connectionId = uniqueId("con");
  const blob = await encryptCredentials(await parseKeyring(env.CREDENTIALS_KEY), accountId, connectionId, {
    apiKey: "api-key",
    systemKey: "sys",
  });
  await withTestDb(async (db) => {
    await db.execute(sql`insert into accounts (id, name) values (${accountId}, 'records')`);
    await db.execute(sql`insert into connections (id, account_id, provider, base_url, credentials_enc)
                         values (${connectionId}, ${accountId}, 'fub', ${BASE}, ${blob})`);
  });
});

const person = (id: number) => ({
  id,
  created: "2026-10-01T00:00:00Z",
  updated: "2026-11-01T09:00:00Z",
  firstName: `P${id}`,
  lastName: "X",
});

const moved = (location: string, status = 301) =>
  new Response(null, { status, headers: { Location: location } });

type Harness = { fetches: { url: string; redirect: string | undefined }[]; messages: TransformMessage[] };

async function inObject<T>(
  respond: (url: string) => Response,
  run: (deps: Parameters<typeof processWebhookEvent>[0]) => Promise<T>,
): Promise<{ result: T; h: Harness }> {
  const h: Harness = { fetches: [], messages: [] };
  const stub = env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
  const result = await runInDurableObject(stub, async (_i, state) => {
    const handle = openDb(env);
    try {
      const keyring = await parseKeyring(env.CREDENTIALS_KEY);
      const loaded = await inTenant(handle.db, accountId, (db) =>
        loadConnection(db, keyring, accountId, connectionId),
      );
      return await run({
        db: handle.db,
        sql: state.storage.sql,
        queue: {
          sendBatch: async (batch: Iterable<MessageSendRequest<TransformMessage>>) => {
            for (const m of batch) h.messages.push(m.body);
          },
        } as unknown as Queue<TransformMessage>,
        fetch: async (input, init) => {
          const url = String(input instanceof Request ? input.url : input);
          h.fetches.push({ url, redirect: init?.redirect });
          return respond(url);
        },
        now: Date.now,
        keyring,
        completeRun,
        connections: new Map([[connectionId, { ...loaded, connector: perRecord }]]),
      });
    } finally {
      await handle.close();
    }
  });
  return { result, h };
}

async function event(ids: number[], attach = false) {
  const eventId = crypto.randomUUID();
  const { id } = await withTestDb((db) =>
    recordInboxEvent(db, {
      accountId,
      connectionId,
      provider: "fub",
      eventId,
      eventType: "updated",
      payload: { eventId, ids, ...(attach ? { attach } : {}) },
    }),
  );
  return { eventId, inboxId: id };
}

const process = (inboxId: number, respond: (url: string) => Response) =>
  inObject(respond, (deps) =>
    processWebhookEvent(deps, { inboxId, accountId, connectionId, provider: "fub" }),
  );

async function stagedOf(runId: string) {
  return rows<{ source_id: string; op: string; page_no: number; payload: Record<string, unknown> }>(sql`
    select source_id, op, page_no, payload from stage_records
    where connection_id = ${connectionId} and run_id = ${runId} order by page_no, source_id`);
}

describe("webhook events resolved to per-record URLs", () => {
  it("attaches the parts a record's own URL lacks, fetched at the survivor's path after a move", async () => {
    const { eventId, inboxId } = await event([61, 62], true);
    const { result, h } = await process(inboxId, (url) => {
      const path = new URL(url).pathname;
      if (path === "/v1/people/61") return moved("/v1/people/69?include=x");
      if (path === "/v1/people/69/extra") return Response.json({ section: { label: "69" } });
      if (path === "/v1/people/62/extra") return new Response("not found", { status: 404 });
      return Response.json(person(Number(path.split("/").at(-1))));
    });
    expect(result).toMatchObject({ status: "processed", staged: 2 });
    // Each part is a request of its own through the gate, at the record's final path without its query.
    expect(h.fetches.map((f) => [f.url, f.redirect])).toEqual([
      [`${BASE}/v1/people/61`, "manual"],
      [`${BASE}/v1/people/69?include=x`, "manual"],
      [`${BASE}/v1/people/69/extra`, "manual"],
      [`${BASE}/v1/people/62`, "manual"],
      [`${BASE}/v1/people/62/extra`, "manual"],
    ]);
    const staged = await stagedOf(webhookRunId(eventId));
    const survivor = staged.find((s) => s.source_id === "69");
    expect(survivor?.payload.extra).toEqual({ section: { label: "69" } });
    // A part that is gone is left out; the record still lands.
    const other = staged.find((s) => s.source_id === "62");
    expect(other?.op).toBe("upsert");
    expect(other?.payload).not.toHaveProperty("extra");
  });

  it("fetches each record at its own URL through the gate and stages it as its own page", async () => {
    const { eventId, inboxId } = await event([31, 32]);
    const { result, h } = await process(inboxId, (url) => {
      const id = Number(new URL(url).pathname.split("/").at(-1));
      return Response.json(person(id));
    });
    expect(result).toEqual({ status: "processed", staged: 2 });
    expect(h.fetches).toEqual([
      { url: `${BASE}/v1/people/31`, redirect: "manual" },
      { url: `${BASE}/v1/people/32`, redirect: "manual" },
    ]);
    const staged = await stagedOf(webhookRunId(eventId));
    expect(staged.map((s) => [s.source_id, s.op, s.page_no])).toEqual([
      ["31", "upsert", 0],
      ["32", "upsert", 1],
    ]);
    expect(h.messages.map((m) => [m.pageNo, m.records])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it("is not grouped with other events: each event fetches its own records", async () => {
    const a = await event([41]);
    const b = await event([42]);
    const { result, h } = await inObject(
      (url) => Response.json(person(Number(new URL(url).pathname.split("/").at(-1)))),
      (deps) =>
        processWebhookEvents(
          deps,
          [a, b].map(({ inboxId }) => ({ inboxId, accountId, connectionId, provider: "fub" })),
        ),
    );
    expect([...result.values()]).toEqual([
      { status: "processed", staged: 1 },
      { status: "processed", staged: 1 },
    ]);
    expect(h.fetches.map((f) => f.url)).toEqual([`${BASE}/v1/people/41`, `${BASE}/v1/people/42`]);
  });
});

describe("HTTP 301 on a merged record", () => {
  it("follows the Location, stages the survivor and retires the old id with the reason", async () => {
    // The old record is in core, live; the provider merged it into 59.
    await withTestDb((db) =>
      db.execute(sql`
        insert into fub_people (account_id, connection_id, source_id, raw)
        values (${accountId}, ${connectionId}, 51, ${JSON.stringify(person(51))}::jsonb)`),
    );
    const { eventId, inboxId } = await event([51, 52]);
    const { result, h } = await process(inboxId, (url) => {
      const path = new URL(url).pathname;
      if (path === "/v1/people/51") return moved("/v1/people/59");
      return Response.json(person(Number(path.split("/").at(-1))));
    });
    expect(result).toEqual({ status: "processed", staged: 2, note: "1 merged record(s) retired" });
    // The redirect is a request of its own through the gate, never followed by the runtime.
    expect(h.fetches.map((f) => [f.url, f.redirect])).toEqual([
      [`${BASE}/v1/people/51`, "manual"],
      [`${BASE}/v1/people/59`, "manual"],
      [`${BASE}/v1/people/52`, "manual"],
    ]);
    const staged = await stagedOf(webhookRunId(eventId));
    expect(staged.map((s) => [s.source_id, s.op, s.page_no])).toEqual([
      ["59", "upsert", 0],
      ["52", "upsert", 1],
      ["51", "delete", 2],
    ]);
    expect(staged[2]?.payload).toMatchObject({ id: "51", retired: "merged", mergedInto: "59" });
    // The run's completion applied the retirement: a tombstone of kind "merged" and the core row soft-deleted.
    const tomb = await rows<{ kind: string }>(sql`
      select kind from core_tombstones
      where connection_id = ${connectionId} and entity = 'people' and source_id = '51'`);
    expect(tomb).toEqual([{ kind: "merged" }]);
    const core = await rows<{ deleted: boolean }>(sql`
      select deleted_at is not null as deleted from fub_people
      where connection_id = ${connectionId} and source_id = 51`);
    expect(core).toEqual([{ deleted: true }]);
  });

  it("never follows a redirect off the connection's origin, and bounds a chain of moves", async () => {
    const off = await event([61]);
    const away = await process(off.inboxId, () => moved("https://elsewhere.test/v1/people/69"));
    expect(away.result).toEqual({
      status: "processed",
      staged: 0,
      note: "a redirect leaves the connection's API origin",
    });
    expect(away.h.fetches.map((f) => f.url)).toEqual([`${BASE}/v1/people/61`]);
    expect(await stagedOf(webhookRunId(off.eventId))).toEqual([]);

    const loop = await event([71]);
    const chain = await process(loop.inboxId, (url) => {
      const id = Number(new URL(url).pathname.split("/").at(-1));
      return moved(`/v1/people/${id + 1}`);
    });
    expect((chain.result as IngestOutcome & { status: "pending" }).status).toBe("pending");
    expect((chain.result as { error: string }).error).toMatch(/redirects/);
    expect(chain.h.fetches).toHaveLength(MAX_RECORD_MOVES + 1);
    expect(await stagedOf(webhookRunId(loop.eventId))).toEqual([]);
  });
});

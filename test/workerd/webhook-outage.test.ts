import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  drainWebhookWork,
  MAX_WORK_ATTEMPTS,
  recordWebhookEvents,
  webhookEventCounts,
} from "../../durable-objects/webhook-inbox";
import { completeRun } from "../../src/pipeline/run-completion";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { rows, withTestDb } from "../support/db";
import { fubAccount, sim, stubFor } from "./account-sync-fixtures";

// A Postgres outage while webhook events wait in the account object: none may be parked for it, all are
// processed once Postgres is back, and the bounds that remain count only rounds Postgres took part in.

async function personIds(apiKey: string): Promise<number[]> {
  const res = await fetch(`${sim()}/v1/people?limit=3`, {
    headers: { authorization: `Basic ${btoa(`${apiKey}:`)}` },
  });
  return (await res.json<{ people: { id: number }[] }>()).people.map((p) => p.id);
}

const fubEvent = (personId: number) => {
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
};

/** Postgres down, as the Worker sees it: nothing listens on the database's port. */
function postgresDown(): typeof env {
  const down = (value: string) => {
    const url = new URL(value);
    url.port = "1";
    return url.toString();
  };
  return {
    ...env,
    DATABASE_URL: down(env.DATABASE_URL),
    SYSTEM_DATABASE_URL: down(env.SYSTEM_DATABASE_URL ?? env.DATABASE_URL),
  };
}

const inbox = (connectionId: string) =>
  rows<{ event_id: string; status: string; attempts: number }>(
    sql`select event_id, status, attempts from webhook_inbox where connection_id = ${connectionId}
        order by event_id`,
  );

describe("webhook events and a Postgres outage", () => {
  it("a 6-minute outage parks nothing and spends no attempts; everything is processed afterwards", async () => {
    const account = await fubAccount({ tenant: { counts: { people: 3 } } });
    const { accountId, connectionId } = account;
    const [p1, p2, p3] = await personIds(account.apiKey);
    const stub = stubFor(accountId);
    // A: already copied to the Postgres inbox and waiting in the work table. B and C: acknowledged during the
    // outage, recorded only in the object's SQLite.
    const a = fubEvent(p1 as number);
    const { id: inboxA } = await withTestDb((db) =>
      recordInboxEvent(db, { accountId, connectionId, provider: "fub", ...a, eventType: "peopleUpdated" }),
    );
    const b = fubEvent(p2 as number);
    const c = fubEvent(p3 as number);
    // A clock an hour ahead keeps the real alarm out of the way.
    let now = Date.now() + 3_600_000;
    await runInDurableObject(stub, (_i, state) => {
      webhookEventCounts(state.storage.sql);
      state.storage.sql.exec(
        "insert into webhook_work (inbox_id, account_id, connection_id, provider, due_at) values (?, ?, ?, 'fub', ?)",
        inboxA,
        accountId,
        connectionId,
        now,
      );
      const recorded = recordWebhookEvents(
        state.storage,
        [b, c].map((e) => ({
          accountId,
          connectionId,
          provider: "fub",
          eventId: e.eventId,
          eventType: "peopleUpdated",
          body: JSON.stringify(e.payload),
        })),
        now,
      );
      // Recorded durably in the object before any answer: this is what the route's 2xx stands for.
      expect(recorded.outcomes).toEqual([{ duplicate: false }, { duplicate: false }]);
    });

    // Six minutes of rounds, each when the object's timer would fire, with Postgres refusing connections.
    const outageEnd = now + 6 * 60_000;
    let rounds = 0;
    let providerCalls = 0;
    const provider: typeof fetch = async (input, init) => {
      providerCalls++;
      return fetch(input, init);
    };
    while (now < outageEnd) {
      const report = await runInDurableObject(stub, (_i, state) =>
        drainWebhookWork(state, postgresDown(), { completeRun, fetch: provider, now: () => now }),
      );
      expect(report).toMatchObject({ processed: 0, mirrored: 0, mirrorFailed: true });
      rounds++;
      const next = await runInDurableObject(stub, (_i, state) =>
        state.storage.sql.exec<{ due: number }>("select min(due_at) as due from webhook_work").one(),
      );
      expect(next.due).toBeGreaterThan(now);
      now = next.due;
    }
    // More rounds than the work table's bound allows: under a bound that counted them, A would be worn out.
    expect(rounds).toBeGreaterThan(MAX_WORK_ATTEMPTS);
    expect(providerCalls).toBe(0);
    const during = await runInDurableObject(stub, (_i, state) => ({
      counts: webhookEventCounts(state.storage.sql),
      attempts: state.storage.sql
        .exec<{ attempts: number }>("select attempts from webhook_work where inbox_id = ?", inboxA)
        .one().attempts,
    }));
    expect(during).toEqual({
      counts: { recorded: 2, unmirrored: 2, work: 1, mirrorParked: 0 },
      attempts: 0,
    });

    // Postgres back: one round copies B and C and processes all three.
    const after = await runInDurableObject(stub, (_i, state) =>
      drainWebhookWork(state, env, { completeRun, fetch: provider, now: () => now }),
    );
    expect(after).toMatchObject({ mirrored: 2, processed: 3, pending: 0, mirrorFailed: false });
    expect((await inbox(connectionId)).map(({ status, attempts }) => ({ status, attempts }))).toEqual([
      { status: "processed", attempts: 1 },
      { status: "processed", attempts: 1 },
      { status: "processed", attempts: 1 },
    ]);
    expect(
      await rows(sql`select 1 from failed_records where account_id = ${accountId} and entity = 'webhook'`),
    ).toEqual([]);
    const left = await runInDurableObject(stub, (_i, state) => webhookEventCounts(state.storage.sql).work);
    expect(left).toBe(0);
  });
});

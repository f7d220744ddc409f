import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { INVOCATION_CONNECTIONS } from "../../src/sync/concurrency";
import { DELTA_CRON, runCron } from "../../src/sync/cron";
import { recordInboxEvent } from "../../src/webhooks/inbox";
import { sweepWebhookInbox } from "../../src/webhooks/sweep";
import { rows, uniqueId, withTestDb } from "../support/db";
import { fubAccount, sim, waitFor } from "./account-sync-fixtures";

async function oldInboxRow(
  accountId: string,
  connectionId: string,
  opts: { status?: string; receivedAgo: string; processedAgo?: string; resourceId?: number },
) {
  const eventId = crypto.randomUUID();
  const { id } = await withTestDb((db) =>
    recordInboxEvent(db, {
      accountId,
      connectionId,
      provider: "fub",
      eventId,
      eventType: "peopleUpdated",
      payload: {
        eventId,
        eventCreated: "2026-11-01T10:00:00+00:00",
        event: "peopleUpdated",
        resourceIds: [opts.resourceId ?? 1],
        uri: `${sim()}/v1/people/${opts.resourceId ?? 1}`,
      },
    }),
  );
  await withTestDb((db) =>
    db.execute(sql`update webhook_inbox set status = ${opts.status ?? "pending"},
                     received_at = now() - ${opts.receivedAgo}::interval,
                     processed_at = ${opts.processedAgo ? sql`now() - ${opts.processedAgo}::interval` : null}
                   where id = ${id}`),
  );
  return id;
}

const statusOf = async (id: number) =>
  (
    await rows<{ status: string; attempts: number }>(
      sql`select status, attempts from webhook_inbox where id = ${id}`,
    )
  )[0];

describe("the 15-minute cron sweeps the webhook inbox", () => {
  it("hands events left pending back to their account's object, which processes them, and prunes past retention", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 3 } } });
    const list = await fetch(`${sim()}/v1/people?limit=1`, {
      headers: { authorization: `Basic ${btoa(`${apiKey}:`)}` },
    });
    const personId = (await list.json<{ people: { id: number }[] }>()).people[0]?.id;
    expect(personId).toBeDefined();
    const stranded = await oldInboxRow(accountId, connectionId, {
      receivedAgo: "10 minutes",
      resourceId: personId,
    });
    const expired = await oldInboxRow(accountId, connectionId, {
      status: "processed",
      receivedAgo: "9 days",
      processedAgo: "9 days",
    });
    // Another account's stranded event: outside this run's scope, untouched.
    const other = await fubAccount({ tenant: { counts: { people: 1 } } });
    const foreign = await oldInboxRow(other.accountId, other.connectionId, { receivedAgo: "10 minutes" });

    const ctx = createExecutionContext();
    const result = await runCron(DELTA_CRON, env, ctx, { accountIds: [accountId] });
    await waitOnExecutionContext(ctx);
    expect(result).toMatchObject({ job: "delta", connections: 1, failed: 0 });

    await waitFor(async () => (await statusOf(stranded))?.status === "processed");
    const staged = await rows<{ source_id: string }>(
      sql`select distinct source_id from stage_records where connection_id = ${connectionId}
          and run_id like 'webhook:%'`,
    );
    expect(staged).toEqual([{ source_id: String(personId) }]);
    expect(await statusOf(expired)).toBeUndefined();
    expect(await statusOf(foreign)).toEqual({ status: "pending", attempts: 0 });
  });

  it("keeps at most the invocation's connection limit of hand-offs in flight", async () => {
    const accountId = uniqueId("acc");
    const connectionId = uniqueId("con");
    await withTestDb(async (db) => {
      await db.execute(sql`insert into accounts (id, name) values (${accountId}, 'sweep')`);
      await db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                           values (${connectionId}, ${accountId}, 'fub', 'unused')`);
    });
    for (let i = 0; i < 20; i++) await oldInboxRow(accountId, connectionId, { receivedAgo: "5 minutes" });
    let inFlight = 0;
    let peak = 0;
    const report = await withTestDb((db) =>
      sweepWebhookInbox(
        db,
        async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
        },
        { accountIds: [accountId] },
      ),
    );
    expect(report.dispatched).toBe(20);
    expect(report.failed).toBe(0);
    expect(peak).toBe(INVOCATION_CONNECTIONS);
  });
});

import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { RECONCILE_CRON, runCron } from "../../src/sync/cron";
import { rows } from "../support/db";
import { entityState, fubAccount, simSummary, stubFor, waitFor } from "./account-sync-fixtures";

async function cron(accountIds: string[]) {
  const ctx = createExecutionContext();
  const result = await runCron(RECONCILE_CRON, env, ctx, { accountIds });
  await waitOnExecutionContext(ctx);
  return result;
}

/**
 * The simulator for everything but text messages, which answer like FUB: 400 unless filtered. Every texts
 * request is recorded.
 */
function fubLikeTexts() {
  const seen = { texts: [] as string[], paths: [] as string[] };
  const fetcher: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    seen.paths.push(url.pathname);
    if (url.pathname !== "/v1/textMessages") return fetch(req);
    seen.texts.push(url.search);
    if (!url.searchParams.get("personId") && !url.searchParams.get("id"))
      return Response.json({ errorMessage: "personId is required" }, { status: 400 });
    return Response.json({
      _metadata: { collection: "textMessages", total: 0, next: null },
      textMessages: [],
    });
  };
  return { fetcher, seen };
}

describe("daily reconciliation repairs drift", () => {
  it("starts a complete scan of a drifting entity and of texts, and never lists texts unfiltered", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 40 } } });
    const truth = (await simSummary(apiKey)).counts.people ?? -1;
    expect(truth).toBeGreaterThan(30);
    const { fetcher, seen } = fubLikeTexts();
    const object = stubFor(accountId);
    // Paused: the runs are started and recorded, but this test looks at what reconciliation starts, not at them.
    await object.pause();
    await runInDurableObject(object, (instance) => {
      instance.providerFetch = fetcher;
    });

    const result = await cron([accountId]);
    // people: the provider has `truth`, we have none. texts: no cheap count, so a complete scan every day.
    expect(result).toMatchObject({ job: "reconcile", connections: 1, failed: 0, mismatches: 1, repairs: 2 });
    // The stub did carry the reconciliation's requests: one count per countable entity, none for texts.
    expect(seen.paths).toContain("/v1/people");
    expect(seen.paths).toHaveLength(8);
    expect(seen.texts).toEqual([]);
    for (const entity of ["people", "textMessages"]) {
      expect(await entityState(accountId, connectionId, entity), entity).toMatchObject({
        mode: "onboarding",
        status: "IN_PROGRESS",
        origin: "reconcile",
      });
    }
    // Entities whose counts agree (all empty here) are left alone.
    expect(await entityState(accountId, connectionId, "deals")).toBeUndefined();
    const [counts] = await rows(
      sql`select people_fub::int as fub, people_ad::int as ad, text_messages_fub as texts_fub
          from fub_sync_jobs where connection_id = ${connectionId}`,
    );
    expect(counts).toEqual({ fub: truth, ad: 0, texts_fub: null });

    // Runs already going are not started again.
    const again = await cron([accountId]);
    expect(again).toMatchObject({ mismatches: 1, repairs: 0 });
    expect(seen.texts).toEqual([]);
  });

  it("a drifting entity whose delta is running gets its complete scan when that delta ends, not a day later", async () => {
    const { accountId, connectionId, apiKey } = await fubAccount({ tenant: { counts: { people: 40 } } });
    const { fetcher } = fubLikeTexts();
    const object = stubFor(accountId);
    await object.pause();
    await runInDurableObject(object, (instance) => {
      instance.providerFetch = fetcher;
    });
    // The same scheduler tick started the connection's delta before its reconciliation came due.
    const delta = await object.startSync({
      accountId,
      connectionId,
      provider: "fub",
      entities: ["people"],
      mode: "delta",
    });
    expect(delta.started).toEqual(["people"]);
    const result = await cron([accountId]);
    expect(result).toMatchObject({ mismatches: 1, repairs: 2 });
    // Still the delta: the catch-up waits for it rather than being dropped.
    expect(await entityState(accountId, connectionId, "people")).toMatchObject({
      mode: "delta",
      status: "IN_PROGRESS",
    });

    await object.resume();
    const scan = await waitFor(async () => {
      const s = await entityState(accountId, connectionId, "people");
      return s?.mode === "onboarding" && s.status === "COMPLETED" ? s : undefined;
    }, 60_000);
    expect(scan).toMatchObject({ origin: "reconcile" });
    const truth = (await simSummary(apiKey)).counts.people;
    const people = await waitFor(async () => {
      const [r] = await rows<{ n: number }>(
        sql`select count(*)::int as n from fub_people where connection_id = ${connectionId} and deleted_at is null`,
      );
      return r?.n === truth ? r?.n : undefined;
    }, 60_000);
    expect(people).toBe(truth);
  });
});

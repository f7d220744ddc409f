// ZHL's hostile records, served by its seeds-derived simulator: the roster (loan officers, territory maps)
// through staging and the transform, and referrals with hostile strings through the transfer workflow. What
// Postgres can hold lands whole, the rest is parked with its reason; a hostile referral is transferred or
// parked, never wedging the job or retried forever.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { withTenant } from "../../src/accounts/tenant";
import type { JobContext } from "../../src/connectors/types";
import { runTransfers, TRANSFER_MAX_ATTEMPTS } from "../../src/connectors/zhl/transfers";
import { parseJsonExact } from "../../src/core/exact-json";
import type { Db } from "../../src/db/client";
import { HOSTILE_RECORD_KINDS } from "../../tools/lib/hostile";
import { createSimulator, type HostileMade } from "../../tools/simulator-zhl/app";
import { rows, uniqueId, withTestDb } from "../support/db";
import { expectFaithful, pageBody, stageAndTransform, storedRaws } from "../support/hostile";

const BASE = "http://zhl.test/v1";
const AUTH = { headers: { Authorization: "Bearer k" } };

function setup() {
  const sim = createSimulator({ accounts: { a: { apiKey: "k", territories: 2, referrals: 2 } } });
  return { sim, account: sim.account("a") };
}

type Ids = { accountId: string; connectionId: string };

/** Lists an entity's page and transforms it under the given connection. */
async function syncRoster(sim: ReturnType<typeof setup>["sim"], ids: Ids) {
  const officers = (await pageBody(await sim.app.request(`${BASE}/loan-officers?pageSize=100`, AUTH))) as {
    loanOfficers: { id: string }[];
  };
  const maps = (await pageBody(
    await sim.app.request(`${BASE}/dedicated-loan-officer-maps?pageSize=100`, AUTH),
  )) as { maps: { id: string }[] };
  const o = await stageAndTransform("zhl", "loanOfficers", officers.loanOfficers, ids);
  const m = await stageAndTransform("zhl", "territoryMaps", maps.maps, ids);
  return { officers: officers.loanOfficers, maps: maps.maps, failed: new Map([...o.failed, ...m.failed]) };
}

/** A job context as the Worker's runner builds one, calling the simulator in process. */
function jobContext(sim: ReturnType<typeof setup>["sim"], ids: Ids): JobContext {
  return {
    ...ids,
    runId: uniqueId("run"),
    now: Date.now,
    tenant: (fn) => withTestDb((db) => withTenant(db, ids.accountId, (tx) => fn(tx as unknown as Db))),
    async call(path, init = {}) {
      const res = await sim.app.request(`${BASE}${path}`, {
        method: init.method ?? "GET",
        headers: { ...AUTH.headers, "Content-Type": "application/json", ...init.headers },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? parseJsonExact(text) : null, headers: res.headers };
    },
  };
}

describe("ZHL hostile records from the simulator", () => {
  it("loan officers and territory maps: every kind stored whole or parked with its reason, page-mates land", async () => {
    const { sim, account } = setup();
    const madeOfficers = account.addHostile("officers");
    const madeMaps = account.addHostile("maps");
    expect(madeMaps.map((m) => m.kind)).toEqual([...HOSTILE_RECORD_KINDS]);
    const ids = { accountId: uniqueId("acc"), connectionId: uniqueId("con") };
    const { officers, maps, failed } = await syncRoster(sim, ids);
    const result = { ...ids, failed };
    expectFaithful(
      madeOfficers,
      new Map(officers.map((r) => [r.id, r])),
      result,
      await storedRaws("zhl_loan_officers", ids.accountId),
    );
    expectFaithful(
      madeMaps,
      new Map(maps.map((r) => [r.id, r])),
      result,
      await storedRaws("zhl_dedicated_loan_officer_map", ids.accountId),
    );
    expect(failed.size).toBe(4);
    const [counts] = await rows<{ officers: number; maps: number }>(sql`select
      (select count(*)::int from zhl_loan_officers where account_id = ${ids.accountId}) as officers,
      (select count(*)::int from zhl_dedicated_loan_officer_map where account_id = ${ids.accountId}) as maps`);
    expect(counts).toEqual({ officers: officers.length - 2, maps: maps.length - 2 });
  });

  it("transfers: hostile referrals are transferred or parked in one run, and the next run retries none", async () => {
    const { sim, account } = setup();
    const ids = { accountId: uniqueId("acc"), connectionId: uniqueId("con") };
    await syncRoster(sim, ids);
    const made: HostileMade[] = [
      ...account.addHostile("referrals", ["nul", "surrogate", "control", "emoji", "long"], "sender.name"),
      // A megabyte note, deep and huge-number structures beside the referral's fields.
      ...account.addHostile("referrals", ["long"], "details"),
      ...account.addHostile("referrals", ["deep", "bignum"]),
      // What the workflow writes to Postgres itself: the territory it routes by, and the id it keys by.
      ...account.addHostile("referrals", ["nul", "surrogate", "long"], "territory"),
      ...account.addHostile("referrals", ["nul", "surrogate", "long", "quote"], "id"),
    ];
    const first = await runTransfers(jobContext(sim, ids));
    const pending = 2 + made.length;
    expect(first.items).toBe(pending);
    type Row = { referral_id: string; status: string; last_error: string | null; attempts: number };
    const transfers = async () =>
      rows<Row>(sql`select referral_id, status, last_error, attempts from zhl_transfers
        where account_id = ${ids.accountId} order by referral_id`);
    const after = await transfers();
    expect(after).toHaveLength(pending);
    // Every referral is finished: notified (transferred and announced), ineligible or parked, with a reason.
    for (const r of after) expect(["notified", "ineligible", "parked"], r.referral_id).toContain(r.status);
    const truth = sim.truth("a");
    const transferred = new Set(truth.transfers.map((t) => t.referralId));
    const byField = (field: string, kind: string) =>
      made.find(
        (m) =>
          m.kind === kind && (m.field === field || (field === "structure" && m.field.startsWith("extra"))),
      );
    // The sender's name is not what the workflow stores: a NUL or lone surrogate there is handed over as sent.
    for (const kind of ["nul", "surrogate", "control", "emoji", "long"])
      expect(transferred.has(byField("sender.name", kind)?.id as string), `sender.name ${kind}`).toBe(true);
    expect(transferred.has(byField("details", "long")?.id as string)).toBe(true);
    for (const kind of ["deep", "bignum"])
      expect(transferred.has(byField("structure", kind)?.id as string)).toBe(true);
    // A territory Postgres can't hold routes nowhere: refused with its reason, never sent.
    const status = new Map(after.map((r) => [r.referral_id, r]));
    for (const kind of ["nul", "surrogate"]) {
      const id = byField("territory", kind)?.id as string;
      expect(transferred.has(id)).toBe(false);
      expect(status.get(id)).toMatchObject({ status: "ineligible", last_error: "territory_invalid" });
    }
    expect(status.get(byField("territory", "long")?.id as string)).toMatchObject({
      status: "ineligible",
      last_error: "territory_unmapped",
    });
    // An id that is no ZHL id is parked under a storable rendering of it, never sent.
    const idParked = after.filter((r) => r.last_error === "referral_id_invalid");
    expect(idParked).toHaveLength(4);
    for (const r of idParked) {
      expect(r.status).toBe("parked");
      expect(r.referral_id).not.toContain("\u0000");
      expect(r.referral_id.length).toBeLessThanOrEqual(100);
    }
    for (const kind of ["nul", "surrogate", "long", "quote"])
      expect(transferred.has(byField("id", kind)?.id as string)).toBe(false);
    expect(truth.transfers.every((t) => t.executions === 1)).toBe(true);
    expect(first.parked).toBe(4);

    // The next run finds nothing left to do: no transfer is tried again, no attempt counted.
    const posts = () => sim.requests.get("a")?.["POST /v1/transfers"] ?? 0;
    const before = posts();
    const second = await runTransfers(jobContext(sim, ids));
    expect(second).toEqual({ items: 0, itemErrors: 0, parked: 4 });
    expect(posts()).toBe(before);
    expect(await transfers()).toEqual(after);
  });

  it("transfers: an error no check foresaw counts an attempt of its referral only, bounded, then parks it", async () => {
    const { sim, account } = setup();
    const ids = { accountId: uniqueId("acc"), connectionId: uniqueId("con") };
    await syncRoster(sim, ids);
    const [poison] = account.addHostile("referrals", ["emoji"], "sender.name");
    const ctx = jobContext(sim, ids);
    // The provider answers this referral's transfer with a body the workflow cannot read at all.
    const call = ctx.call;
    ctx.call = async (path, init) => {
      const body = init?.body as { referralId?: string } | undefined;
      if (path === "/transfers" && body?.referralId === poison?.id) throw new TypeError("unreadable answer");
      return call(path, init);
    };
    for (let run = 1; run <= TRANSFER_MAX_ATTEMPTS; run++) {
      const result = await runTransfers({ ...ctx, runId: uniqueId("run") });
      // The others are done in the first run; the poisoned one fails alone, run after run, until parked.
      expect(result.itemErrors).toBe(1);
    }
    const [row] = await rows<{ status: string; attempts: number; last_error: string }>(sql`
      select status, attempts, last_error from zhl_transfers
      where account_id = ${ids.accountId} and referral_id = ${poison?.id}`);
    expect(row).toEqual({
      status: "parked",
      attempts: TRANSFER_MAX_ATTEMPTS,
      last_error: "internal_TypeError",
    });
    expect((await runTransfers({ ...ctx, runId: uniqueId("run") })).items).toBe(0);
    expect(sim.truth("a").transfers).toHaveLength(2);
  });
});

// reZEN's hostile records, served by its simulator, through staging and the transform for every mapping shape
// (a transaction's detail with money and participants, a downline agent, the key's own agent): what Postgres
// can hold lands whole, the rest is parked with its reason, page-mates land, nothing retries.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { BIGNUM_EXACT, HOSTILE_RECORD_KINDS } from "../../tools/lib/hostile";
import { createSimulator } from "../../tools/simulator-rezen/app";
import { rows } from "../support/db";
import { expectFaithful, pageBody, stageAndTransform, storedRaws } from "../support/hostile";

const KEY = { headers: { "X-API-KEY": "rezen-key" } };

describe("reZEN hostile records from the simulator", () => {
  it("transaction details: every kind stored whole (money exact) or parked with its reason in one transform", async () => {
    const sim = createSimulator({ seed: 5, counts: { transactions: 3 } });
    const clean = [...sim.store.transactions.keys()];
    const made = sim.hostile("transactions");
    expect(made.map((m) => m.kind)).toEqual([...HOSTILE_RECORD_KINDS]);
    const records = await Promise.all(
      [...clean, ...made.map((m) => m.id)].map(async (id) =>
        pageBody(await sim.app.request(`/arrakis/api/v1/transactions/${id}`, KEY)),
      ),
    );
    const result = await stageAndTransform("rezen", "transactions", records);
    const stored = await storedRaws("rezen_transactions", result.accountId);
    const served = new Map(records.map((r) => [(r as { id: string }).id, r]));
    expectFaithful(made, served, result, stored);
    // Page-mates land, and so does the unified transaction of every stored detail.
    for (const id of clean) expect(stored.has(id)).toBe(true);
    const unified = await rows<{ id: string }>(sql`select source_id as id from transactions
      where account_id = ${result.accountId} and provider = 'rezen'`);
    expect(unified.map((u) => u.id).sort()).toEqual([...stored.keys()].sort());
    expect(result.failed.size).toBe(2);
    // A price a double cannot hold keeps its digits in the money column and the raw record.
    const big = made.find((m) => m.kind === "bignum")?.id;
    const [money] = await rows<{ amount: string; numbers: string }>(sql`
      select price_amount::text as amount, (raw -> 'extraNumbers')::text as numbers from rezen_transactions
      where account_id = ${result.accountId} and source_id = ${big}`);
    expect(money?.amount).toBe("9007199254740993");
    expect(JSON.parse(money?.numbers ?? "null")).toEqual(BIGNUM_EXACT);
    const long = made.find((m) => m.kind === "long")?.id;
    const [lead] = await rows<{ len: number }>(sql`select length(lead_source) as len from rezen_transactions
      where account_id = ${result.accountId} and source_id = ${long}`);
    expect(lead?.len).toBeGreaterThan(800_000);
  });

  it("downline agents: every kind stored whole or parked with its reason, page-mates land", async () => {
    const sim = createSimulator({ seed: 6, counts: { downline: 4 } });
    const made = sim.hostile("downline");
    const me = sim.store.agent.id;
    const body = (await pageBody(
      await sim.app.request(`/yenta/api/v1/agents/${me}/down-line/1?pageSize=100`, KEY),
    )) as { downLineAgents: { id: string }[] };
    const records = body.downLineAgents;
    expect(records.length).toBe(4 + made.length);
    const result = await stageAndTransform("rezen", "downline", records);
    const stored = await storedRaws("rezen_network_downline", result.accountId);
    expectFaithful(made, new Map(records.map((r) => [r.id, r])), result, stored);
    expect(stored.size).toBe(records.length - 2);
  });

  it("the key's own agent: a hostile name is stored or parked with its reason", async () => {
    for (const kind of HOSTILE_RECORD_KINDS) {
      const sim = createSimulator({ seed: 100 + HOSTILE_RECORD_KINDS.indexOf(kind) });
      const made = sim.hostile("agent", [kind]);
      const record = await pageBody(await sim.app.request("/yenta/api/v1/agents/me", KEY));
      const result = await stageAndTransform("rezen", "agents", [record]);
      const stored = await storedRaws("rezen_agents", result.accountId);
      expectFaithful(made, new Map([[sim.store.agent.id, record]]), result, stored);
    }
  });
});

import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { TenantQuery } from "../../src/connectors/types";
import { zillow } from "../../src/connectors/zillow";
import { agentMethods, resolveAgents } from "../../src/connectors/zillow/resolution";
import { ResolutionCaches, ScopedCaches } from "../../src/core/agent-resolution";
import type { Db } from "../../src/db/client";
import { uniqueId, withTestDb } from "../support/db";

// Resolution's caches against real rows: a repeat within the TTLs reads the agents only; a team or grant
// changed by anyone (seen through the versions read with the agents) is never answered from the cache; the
// methods asked for come from the cache while it holds and from the stored resolutions otherwise.
const counting = (db: Db) => {
  const q = (async (query) => {
    q.statements++;
    return (await db.execute(query)).rows as Record<string, unknown>[];
  }) as TenantQuery & { statements: number };
  q.statements = 0;
  return q;
};

async function seed(db: Db, accountId: string, connectionId: string) {
  const raw = sql`'{}'::jsonb`;
  await db.execute(sql`
    insert into zillow_teams (account_id, connection_id, source_id, raw, parent_team_id, fetch_seq)
    values (${accountId}, ${connectionId}, 'T-top', ${raw}, null, 1),
           (${accountId}, ${connectionId}, 'T-leaf', ${raw}, 'T-top', 2),
           (${accountId}, ${connectionId}, 'T-apart', ${raw}, null, 3)`);
  await db.execute(sql`
    insert into zillow_agents (account_id, connection_id, source_id, raw, zuid, team_id, fetch_seq)
    values (${accountId}, ${connectionId}, 'ZU1', ${raw}, 'ZU1', 'T-top', 4),
           (${accountId}, ${connectionId}, 'ZU2', ${raw}, 'ZU2', 'T-leaf', 5),
           (${accountId}, ${connectionId}, 'ZU3', ${raw}, 'ZU3', 'T-apart', 6)`);
  await db.execute(sql`
    insert into zillow_auth (account_id, connection_id, source_id, raw, zuid, fetch_seq)
    values (${accountId}, ${connectionId}, 'A1', ${raw}, 'ZU1', 7)`);
}

const methodsOf = async (db: Db, accountId: string) =>
  Object.fromEntries(
    (
      await db.execute(sql`
        select agent_id, method from zillow_agent_resolutions where account_id = ${accountId} order by agent_id`)
    ).rows.map((r) => [r.agent_id, r.method]),
  );

describe("agent resolution caches on real rows", () => {
  it("the actions and the hourly job use them", () => {
    expect(Object.keys(zillow.spec.actions ?? {})).toContain("methods");
    expect(zillow.spec.jobs?.agentProfiles?.intervalMinutes).toBe(60);
  });

  it("a repeat within the TTLs reads only the agents; a moved team or grant is read again and resolves anew", async () => {
    await withTestDb(async (db) => {
      const accountId = uniqueId("acc");
      const connectionId = uniqueId("con");
      const scope = { accountId, connectionId };
      await seed(db, accountId, connectionId);
      const q = counting(db);
      const caches = new ResolutionCaches();
      let now = 1_000_000;

      // A cold pass reads agents (with versions), teams and grants, and writes the three resolutions.
      const first = await resolveAgents(q, scope, "test", { caches, now });
      expect(first.byMethod).toEqual({ CONNECTED: 1, INFERRED: 1, UNMATCHED: 1 });
      expect(q.statements).toBe(4);
      expect(await methodsOf(db, accountId)).toEqual({ ZU1: "CONNECTED", ZU2: "INFERRED", ZU3: "UNMATCHED" });

      // Warm, nothing changed: the agents' statement only (no transition, nothing written).
      q.statements = 0;
      now += 10_000;
      const warm = await resolveAgents(q, scope, "test", { caches, now });
      expect(warm.transitions).toEqual([]);
      expect(q.statements).toBe(1);

      // A team moved under the connected team's line, written as the sync writes a changed row (a new
      // fetch_seq): seen at once, though the hierarchy's 15 minutes are far from over.
      await db.execute(sql`
        update zillow_teams set parent_team_id = 'T-top', fetch_seq = 8
        where account_id = ${accountId} and source_id = 'T-apart'`);
      q.statements = 0;
      now += 10_000;
      const moved = await resolveAgents(q, scope, "test", { caches, now });
      expect(moved.transitions.map((t) => [t.agentId, t.from, t.to])).toEqual([
        ["ZU3", "UNMATCHED", "INFERRED"],
      ]);
      expect(q.statements).toBe(3); // agents, teams again, the write; grants were still valid (20 s < 30 s)

      // The token cascade refuses the grant: its validity is not taken from the cache though 30 s have not passed.
      await db.execute(
        sql`update zillow_auth set auth_state = 'auth_failed' where account_id = ${accountId}`,
      );
      q.statements = 0;
      now += 1_000;
      const refused = await resolveAgents(q, scope, "test", { caches, now });
      expect(refused.byMethod).toEqual({ CONNECTED: 0, INFERRED: 0, UNMATCHED: 3 });
      expect(q.statements).toBe(3); // agents, grants again, the write; the hierarchy still held

      // Past the TTLs with nothing changed: read again all the same.
      q.statements = 0;
      now += 15 * 60_000;
      await resolveAgents(q, scope, "test", { caches, now });
      expect(q.statements).toBe(3);

      // Without a cache nothing is remembered: every pass reads all three.
      q.statements = 0;
      await resolveAgents(q, scope, "test");
      expect(q.statements).toBe(3);
    });
  });

  it("methods come from the cache for 5 minutes, else from the stored resolutions; unknown agents are null", async () => {
    await withTestDb(async (db) => {
      const accountId = uniqueId("acc");
      const connectionId = uniqueId("con");
      const scope = { accountId, connectionId };
      await seed(db, accountId, connectionId);
      const q = counting(db);
      await resolveAgents(q, scope, "test");
      const caches = new ResolutionCaches();
      const now = 5_000_000;

      q.statements = 0;
      const cold = await agentMethods(q, scope, ["ZU1", "ZU2", "nobody"], { caches, now });
      expect(Object.fromEntries(cold.methods)).toEqual({ ZU1: "CONNECTED", ZU2: "INFERRED", nobody: null });
      expect([cold.cached, q.statements]).toEqual([0, 1]);

      q.statements = 0;
      const warm = await agentMethods(q, scope, ["ZU1", "ZU2"], { caches, now: now + 299_999 });
      expect([warm.cached, q.statements]).toEqual([2, 0]);

      const expired = await agentMethods(q, scope, ["ZU1"], { caches, now: now + 300_000 });
      expect([expired.cached, q.statements]).toEqual([0, 1]);
    });
  });

  it("scoped caches keep one set per connection and drop the least recently used past their bound", () => {
    const scoped = new ScopedCaches(2);
    const a = scoped.for("acc/a");
    const b = scoped.for("acc/b");
    expect(scoped.for("acc/a")).toBe(a);
    const c = scoped.for("acc/c"); // b was used least recently: it goes
    expect(scoped.size).toBe(2);
    expect(scoped.for("acc/c")).toBe(c);
    expect(scoped.for("acc/a")).toBe(a);
    expect(scoped.for("acc/b")).not.toBe(b);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { rows, uniqueId, withTestDb } from "../support/db";
import { admin, entityState, fubAccount, stubFor, waitFor } from "./account-sync-fixtures";

type Column = { table_name: string; column_name: string; data_type: string };
type Purge = { accountId: string; removed: Record<string, number>; objectStorage: Record<string, number> };

/** Every table with an account_id column, read as the tables' owner (what the purge must reach). */
async function accountTables(): Promise<string[]> {
  const found = await rows<{ name: string }>(sql`
    select c.table_name::text as name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'account_id' and t.table_type = 'BASE TABLE'
    order by 1`);
  return found.map((r) => r.name);
}

async function rowsPerTable(accountId: string, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const r = await rows<{ n: number }>(
      sql`select count(*)::int as n from ${sql.raw(`"${t}"`)} where account_id = ${accountId}`,
    );
    counts[t] = r[0]?.n ?? 0;
  }
  const acc = await rows<{ n: number }>(sql`select count(*)::int as n from accounts where id = ${accountId}`);
  counts.accounts = acc[0]?.n ?? 0;
  return counts;
}

/**
 * Gives the account a row in every account table that has none yet, built from the catalog alone (each
 * required column filled by its type), so a table added later is covered without editing this test.
 */
async function seedEveryTable(accountId: string, connectionId: string, tables: string[]) {
  const required = await rows<Column>(sql`
    select table_name::text, column_name::text, data_type::text from information_schema.columns
    where table_schema = 'public' and is_nullable = 'NO' and column_default is null`);
  for (const table of tables) {
    const [{ n } = { n: 0 }] = await rows<{ n: number }>(
      sql`select count(*)::int as n from ${sql.raw(`"${table}"`)} where account_id = ${accountId}`,
    );
    if (n > 0) continue;
    const cols = required.filter((c) => c.table_name === table);
    const names = cols.map((c) => `"${c.column_name}"`).join(", ");
    const values = cols.map((c) => {
      if (c.column_name === "account_id") return sql`${accountId}`;
      if (c.column_name === "connection_id") return sql`${connectionId}`;
      if (/int|numeric/.test(c.data_type)) return sql`${Math.floor(Math.random() * 1e9)}`;
      if (/timestamp/.test(c.data_type)) return sql`now()`;
      if (/json/.test(c.data_type)) return sql`'{}'`;
      if (c.data_type === "boolean") return sql`false`;
      return sql`${uniqueId("seed")}`;
    });
    await withTestDb((db) =>
      db.execute(
        sql`insert into ${sql.raw(`"${table}"`)} (${sql.raw(names)}) values (${sql.join(values, sql`, `)})`,
      ),
    );
  }
}

async function populatedAccount() {
  const made = await fubAccount({ tenant: { counts: { people: 12 } } });
  expect(
    (await admin("POST", `/accounts/${made.accountId}/sync`, { entity: "people", mode: "onboarding" }))
      .status,
  ).toBe(202);
  await waitFor(
    async () => (await entityState(made.accountId, made.connectionId, "people"))?.status === "COMPLETED",
  );
  return made;
}

function del(accountId: string, headers: Record<string, string>, query = "") {
  return exports.default.fetch(`http://etl.test/admin/accounts/${accountId}${query}`, {
    method: "DELETE",
    headers,
  });
}

describe("account purge", () => {
  let tables: string[];
  beforeAll(async () => {
    tables = await accountTables();
  });

  it("removes every row of the account in every account table and its object's storage; others keep theirs", async () => {
    const a = await populatedAccount();
    const b = await populatedAccount();
    await seedEveryTable(a.accountId, a.connectionId, tables);
    await seedEveryTable(b.accountId, b.connectionId, tables);
    // The catalog lists the tables the issue names; each now holds rows of both accounts.
    for (const t of [
      "fub_people",
      "contacts",
      "stage_records",
      "core_tombstones",
      "webhook_inbox",
      "sync_runs",
    ]) {
      expect(tables).toContain(t);
    }
    const before = await rowsPerTable(a.accountId, tables);
    const bBefore = await rowsPerTable(b.accountId, tables);
    for (const t of tables) expect(before[t], t).toBeGreaterThan(0);
    expect(before.fub_people).toBe(12);

    const res = await admin("DELETE", `/accounts/${a.accountId}`);
    expect(res.status).toBe(200);
    const body = await res.json<Purge>();
    expect(body.accountId).toBe(a.accountId);
    // The answer counts exactly what was there.
    expect(body.removed).toEqual(before);
    expect(Object.values(body.objectStorage).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);

    const after = await rowsPerTable(a.accountId, tables);
    for (const t of Object.keys(after)) expect(after[t], t).toBe(0);
    expect(await rowsPerTable(b.accountId, tables)).toEqual(bBefore);

    // The object holds no row in any table and no alarm.
    await runInDurableObject(stubFor(a.accountId), async (_instance, state) => {
      const names = state.storage.sql
        .exec<{ name: string }>(
          "select name from sqlite_master where type = 'table' and name not like 'sqlite%' and name not like '_cf%'",
        )
        .toArray();
      expect(names.length).toBeGreaterThan(0);
      for (const { name } of names) {
        expect(
          state.storage.sql.exec<{ n: number }>(`select count(*) as n from "${name}"`).one().n,
          name,
        ).toBe(0);
      }
      expect(await state.storage.getAlarm()).toBeNull();
    });
    // B's object is untouched.
    expect((await entityState(b.accountId, b.connectionId, "people"))?.status).toBe("COMPLETED");

    // Gone now: a second delete finds nothing.
    const again = await admin("DELETE", `/accounts/${a.accountId}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: "account_not_found" } });
    // Seeding costs a few round trips per account table, and every provider adds tables.
  }, 300_000);

  it("an account key must confirm with its own id; without it nothing is removed", async () => {
    const accountId = uniqueId("acc");
    const created = await admin("POST", "/accounts", { id: accountId, name: "self delete" });
    const { apiKey } = await created.json<{ apiKey: string }>();
    const key = { authorization: `Bearer ${apiKey}` };
    await withTestDb((db) =>
      db.execute(sql`insert into webhook_inbox (account_id, connection_id, provider, event_id, payload)
        values (${accountId}, ${`${accountId}_c1`}, 'fub', 'e1', '{}')`),
    );

    for (const query of ["", "?confirm=", `?confirm=${accountId}x`, "?confirm=other"]) {
      const res = await del(accountId, key, query);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "confirmation_required" } });
    }
    expect(await rows(sql`select 1 from accounts where id = ${accountId}`)).toHaveLength(1);
    expect(await rows(sql`select 1 from webhook_inbox where account_id = ${accountId}`)).toHaveLength(1);

    const res = await del(accountId, key, `?confirm=${accountId}`);
    expect(res.status).toBe(200);
    expect((await res.json<Purge>()).removed).toMatchObject({ accounts: 1, webhook_inbox: 1 });
    expect(await rows(sql`select 1 from webhook_inbox where account_id = ${accountId}`)).toHaveLength(0);
    // The key died with its account.
    expect((await del(accountId, key, `?confirm=${accountId}`)).status).toBe(401);
  });

  it("another account's key cannot delete an account, confirmed or not", async () => {
    const victim = uniqueId("acc");
    expect((await admin("POST", "/accounts", { id: victim, name: "victim" })).status).toBe(201);
    const other = await (await admin("POST", "/accounts", { id: uniqueId("acc"), name: "other" })).json<{
      apiKey: string;
    }>();
    const res = await del(victim, { authorization: `Bearer ${other.apiKey}` }, `?confirm=${victim}`);
    expect(res.status).toBe(404);
    expect(await rows(sql`select 1 from accounts where id = ${victim}`)).toHaveLength(1);
  });
});

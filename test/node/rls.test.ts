import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../tools/lib/migrate";
import { ensurePostgres, type PostgresHandle } from "../../tools/lib/postgres";

// Row-level security for real: a throwaway Postgres, migrated, and sessions that log in as etl_app (the
// Worker's role), not as the owner.
const APP_PASSWORD = "etl_app_test_password";

let pgHandle: PostgresHandle;
let owner: pg.Pool;
let app: pg.Pool;
const A = `acc_rls_a_${Date.now()}`;
const B = `acc_rls_b_${Date.now()}`;

function asRole(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

/** One transaction scoped to an account, as the Worker's withTenant does. */
async function asTenant<T>(accountId: string | null, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await app.connect();
  try {
    await c.query("begin");
    if (accountId) await c.query("select set_config('app.account_id', $1, true)", [accountId]);
    const out = await fn(c);
    await c.query("commit");
    return out;
  } catch (error) {
    await c.query("rollback");
    throw error;
  } finally {
    c.release();
  }
}

beforeAll(async () => {
  pgHandle = await ensurePostgres({ mode: "test" });
  await applyMigrations(pgHandle.url);
  owner = new pg.Pool({ connectionString: pgHandle.url, max: 2 });
  // Login is an operator step (the migration creates etl_app NOLOGIN); the test grants it a password.
  await owner.query(`alter role etl_app login password '${APP_PASSWORD}'`);
  app = new pg.Pool({ connectionString: asRole(pgHandle.url, "etl_app", APP_PASSWORD), max: 2 });
  for (const id of [A, B]) {
    await owner.query("insert into accounts (id, name) values ($1, $1)", [id]);
    await owner.query(
      "insert into connections (id, account_id, provider, credentials_enc) values ($1, $2, 'fub', 'v1.x.y.z')",
      [`con_${id}`, id],
    );
    await owner.query(
      `insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, payload)
       values ($1, $2, 'fub', 'people', 'r1', 0, 0, '{}'::jsonb)`,
      [id, `con_${id}`],
    );
    await owner.query(
      `insert into webhook_inbox (account_id, connection_id, provider, event_id, payload)
       values ($1, $2, 'fub', 'evt1', '{}'::jsonb)`,
      [id, `con_${id}`],
    );
  }
}, 120_000);

afterAll(async () => {
  await app?.end();
  await owner?.end();
  await pgHandle?.stop();
});

describe("row-level security for etl_app", () => {
  it("runs as a role that is neither superuser, owner nor BYPASSRLS", async () => {
    const r = await app.query(
      "select current_user as u, rolsuper, rolbypassrls from pg_roles where rolname = current_user",
    );
    expect(r.rows[0]).toEqual({ u: "etl_app", rolsuper: false, rolbypassrls: false });
    const owners = await app.query("select count(*)::int as n from pg_tables where tableowner = 'etl_app'");
    expect(owners.rows[0].n).toBe(0);
  });

  it("leaves no account-scoped table without the tenant policy", async () => {
    const gaps = await owner.query("select table_name from etl_rls_gaps()");
    expect(gaps.rows).toEqual([]);
    const covered = await owner.query(
      "select relname from pg_class where relrowsecurity and relnamespace = 'public'::regnamespace order by 1",
    );
    const names = covered.rows.map((r) => r.relname);
    for (const t of ["accounts", "connections", "stage_records", "failed_records", "webhook_inbox"]) {
      expect(names).toContain(t);
    }
  });

  it("a session for account A reads only A's rows", async () => {
    await asTenant(A, async (c) => {
      for (const table of ["connections", "stage_records", "webhook_inbox", "fub_sync_state"]) {
        const r = await c.query(`select distinct account_id from ${table}`);
        for (const row of r.rows) expect(row.account_id).toBe(A);
      }
      const accounts = await c.query("select id from accounts where id in ($1, $2)", [A, B]);
      expect(accounts.rows).toEqual([{ id: A }]);
      const other = await c.query("select * from connections where account_id = $1", [B]);
      expect(other.rowCount).toBe(0);
      const mine = await c.query("select id from connections where account_id = $1", [A]);
      expect(mine.rows).toEqual([{ id: `con_${A}` }]);
    });
  });

  it("a session without an account sees nothing", async () => {
    await asTenant(null, async (c) => {
      const r = await c.query("select count(*)::int as n from connections where account_id in ($1, $2)", [
        A,
        B,
      ]);
      expect(r.rows[0].n).toBe(0);
    });
  });

  it("a session for account A cannot insert, update or delete B's rows", async () => {
    await expect(
      asTenant(A, (c) =>
        c.query(
          `insert into stage_records (account_id, connection_id, provider, entity, run_id, page_no, seq, payload)
           values ($1, $2, 'fub', 'people', 'evil', 0, 0, '{}'::jsonb)`,
          [B, `con_${B}`],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
    const updated = await asTenant(A, (c) =>
      c.query("update connections set status = 'hijacked' where account_id = $1", [B]),
    );
    expect(updated.rowCount).toBe(0);
    const deleted = await asTenant(A, (c) => c.query("delete from webhook_inbox where account_id = $1", [B]));
    expect(deleted.rowCount).toBe(0);
    // Moving one's own row into another account is a write into that account too.
    await expect(
      asTenant(A, (c) => c.query("update connections set account_id = $1 where account_id = $2", [B, A])),
    ).rejects.toThrow(/row-level security/);

    const b = await owner.query("select status from connections where account_id = $1", [B]);
    expect(b.rows).toEqual([{ status: "active" }]);
    const inbox = await owner.query("select count(*)::int as n from webhook_inbox where account_id = $1", [
      B,
    ]);
    expect(inbox.rows[0].n).toBe(1);
    const staged = await owner.query("select count(*)::int as n from stage_records where run_id = 'evil'");
    expect(staged.rows[0].n).toBe(0);
  });

  it("a session for account A can write its own rows", async () => {
    const r = await asTenant(A, (c) =>
      c.query("update connections set status = 'paused' where account_id = $1", [A]),
    );
    expect(r.rowCount).toBe(1);
  });

  it("app.all_accounts spans accounts for system paths", async () => {
    const c = await app.connect();
    try {
      await c.query("begin");
      await c.query("select set_config('app.all_accounts', 'on', true)");
      const r = await c.query("select count(*)::int as n from connections where account_id in ($1, $2)", [
        A,
        B,
      ]);
      expect(r.rows[0].n).toBe(2);
      await c.query("commit");
      // Transaction-local: the next transaction on the same connection is back to no access.
      const after = await c.query("select count(*)::int as n from connections where account_id in ($1, $2)", [
        A,
        B,
      ]);
      expect(after.rows[0].n).toBe(0);
    } finally {
      c.release();
    }
  });

  it("resolves an API key hash to its account without exposing the accounts table", async () => {
    await owner.query("update accounts set api_key_hash = 'hash-of-a' where id = $1", [A]);
    const r = await app.query("select etl_account_for_api_key('hash-of-a') as id");
    expect(r.rows[0].id).toBe(A);
  });

  it("a table created later gets the policy (event trigger), and etl_enable_rls covers it explicitly too", async () => {
    await owner.query("create table later_things (account_id text not null, v int)");
    expect((await owner.query("select table_name from etl_rls_gaps()")).rows).toEqual([]);
    // Switching it off is an ALTER TABLE too: the trigger switches it straight back on.
    await owner.query("alter table later_things disable row level security");
    expect((await owner.query("select table_name from etl_rls_gaps()")).rows).toEqual([]);
    await owner.query("drop policy etl_tenant_isolation on later_things");
    expect((await owner.query("select table_name from etl_rls_gaps()")).rows).toEqual([
      { table_name: "later_things" },
    ]);
    await owner.query("select etl_enable_rls('later_things')");
    expect((await owner.query("select table_name from etl_rls_gaps()")).rows).toEqual([]);
    await owner.query("insert into later_things values ($1, 1), ($2, 2)", [A, B]);
    const r = await asTenant(B, (c) => c.query("select v from later_things"));
    expect(r.rows).toEqual([{ v: 2 }]);
  });
});

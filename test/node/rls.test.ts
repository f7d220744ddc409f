import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../tools/lib/migrate";
import { ensurePostgres, type PostgresHandle } from "../../tools/lib/postgres";

// Row-level security for real: a throwaway Postgres, migrated, and sessions that log in as etl_app (the
// Worker's request role) and etl_system (its system role), not as the owner.
const APP_PASSWORD = "etl_app_test_password";
const SYSTEM_PASSWORD = "etl_system_test_password";

let pgHandle: PostgresHandle;
let owner: pg.Pool;
let app: pg.Pool;
let system: pg.Pool;
const A = `acc_rls_a_${Date.now()}`;
const B = `acc_rls_b_${Date.now()}`;

function asRole(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

/** One transaction scoped to an account, as the Worker's withTenant does. */
async function asTenant<T>(
  accountId: string | null,
  fn: (c: pg.PoolClient) => Promise<T>,
  pool: pg.Pool = app,
): Promise<T> {
  const c = await pool.connect();
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
  await owner.query(`alter role etl_system login password '${SYSTEM_PASSWORD}'`);
  system = new pg.Pool({ connectionString: asRole(pgHandle.url, "etl_system", SYSTEM_PASSWORD), max: 2 });
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
  await system?.end();
  await owner?.end();
  await pgHandle?.stop();
});

describe("row-level security for etl_app and etl_system", () => {
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

  it("etl_app cannot span accounts: with app.all_accounts on it still reads 0 of another account's rows", async () => {
    const spanned = await asTenant(null, async (c) => {
      await c.query("select set_config('app.all_accounts', 'on', true)");
      const r = await c.query("select count(*)::int as n from connections where account_id in ($1, $2)", [
        A,
        B,
      ]);
      return r.rows[0].n;
    });
    expect(spanned).toBe(0);
    // Set at the session level and together with its own tenant: still only its own account.
    const c = await app.connect();
    try {
      await c.query("set app.all_accounts = 'on'");
      await c.query("begin");
      await c.query("select set_config('app.account_id', $1, true)", [A]);
      const r = await c.query("select distinct account_id from stage_records where account_id in ($1, $2)", [
        A,
        B,
      ]);
      expect(r.rows).toEqual([{ account_id: A }]);
      const moved = await c.query("update webhook_inbox set status = 'x' where account_id = $1", [B]);
      expect(moved.rowCount).toBe(0);
      await c.query("commit");
      await c.query("reset app.all_accounts");
    } finally {
      c.release();
    }
    expect((await app.query("select array(select etl_role_bypasses()) as r")).rows[0].r).toEqual([]);
  });

  it("etl_system spans accounts with app.all_accounts, transaction-locally, and is held to a tenant otherwise", async () => {
    const c = await system.connect();
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
    const mine = await asTenant(B, (t) => t.query("select distinct account_id from connections"), system);
    expect(mine.rows).toEqual([{ account_id: B }]);
    const r = await system.query(
      "select rolsuper, rolbypassrls, array(select etl_role_bypasses()) as reasons from pg_roles where rolname = current_user",
    );
    expect(r.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, reasons: ["spans_accounts"] });
  });

  it("both roles carry statement and idle-in-transaction timeouts", async () => {
    for (const pool of [app, system]) {
      const r = await pool.query(
        "select current_setting('statement_timeout') as st, current_setting('idle_in_transaction_session_timeout') as idle",
      );
      expect(r.rows[0]).toEqual({ st: "30s", idle: "1min" });
    }
  });

  it("row-level security is forced: an owner that is neither superuser nor BYPASSRLS is held to it too", async () => {
    const forced = await owner.query(
      `select count(*)::int as n from pg_class
       where relnamespace = 'public'::regnamespace and relrowsecurity and not relforcerowsecurity`,
    );
    expect(forced.rows[0].n).toBe(0);
    await owner.query("create role rls_plain_owner login password 'plain' nosuperuser nobypassrls");
    await owner.query("grant create, usage on schema public to rls_plain_owner");
    const plain = new pg.Pool({ connectionString: asRole(pgHandle.url, "rls_plain_owner", "plain"), max: 1 });
    try {
      await plain.query("create table owned_things (account_id text not null, v int)");
      expect((await owner.query("select table_name from etl_rls_gaps()")).rows).toEqual([]);
      await expect(plain.query("insert into owned_things values ($1, 1)", [A])).rejects.toThrow(
        /row-level security/,
      );
      await owner.query("insert into owned_things values ($1, 1), ($2, 2)", [A, B]);
      expect((await plain.query("select count(*)::int as n from owned_things")).rows[0].n).toBe(0);
      // Its own table makes it a role that could switch the policy off: the health check names that.
      expect((await plain.query("select array(select etl_role_bypasses()) as r")).rows[0].r).toEqual([
        "owns_account_table",
      ]);
      // Dropping FORCE is an ALTER TABLE: the DDL trigger puts it straight back.
      await plain.query("alter table owned_things no force row level security");
      expect((await owner.query("select table_name from etl_rls_gaps()")).rows).toEqual([]);
    } finally {
      await plain.end();
      await owner.query("drop table if exists owned_things");
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

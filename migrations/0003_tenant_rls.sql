-- Tenant isolation: row-level security on every account-scoped table, enforced for the role the Worker
-- connects as (etl_app: not the tables' owner, NOBYPASSRLS). The owner keeps running migrations and tools.
--
-- A transaction sees one account after `select set_config('app.account_id', '<id>', true)`, or every account
-- after `select set_config('app.all_accounts', 'on', true)` (system paths only: queue consumer, DLQ, cron
-- fan-out, webhook routing lookup, webhook inbox sweep/prune). With neither set, etl_app sees no rows.
--
-- Tables added later: call `select etl_enable_rls('<table>')` in the migration that creates them, or
-- `select etl_enable_rls_all()` after migrating; `select * from etl_rls_gaps()` lists what is still open.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'etl_app') THEN
    CREATE ROLE etl_app NOLOGIN NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
ALTER ROLE etl_app NOBYPASSRLS NOSUPERUSER;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO etl_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO etl_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO etl_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO etl_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION etl_tenant_visible(row_account_id text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.all_accounts', true), '') = 'on'
      OR row_account_id = nullif(current_setting('app.account_id', true), '')
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION etl_enable_rls(tbl regclass, account_column text DEFAULT 'account_id') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS etl_tenant_isolation ON %s', tbl);
  EXECUTE format(
    'CREATE POLICY etl_tenant_isolation ON %s AS PERMISSIVE FOR ALL TO etl_app '
    'USING (etl_tenant_visible(%I)) WITH CHECK (etl_tenant_visible(%I))',
    tbl, account_column, account_column);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO etl_app', tbl);
END
$$;
--> statement-breakpoint
-- Every public table with an account_id column, plus accounts itself (keyed by id).
CREATE OR REPLACE FUNCTION etl_enable_rls_all() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  t record;
  n integer := 0;
BEGIN
  FOR t IN
    SELECT c.table_name
    FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
    WHERE c.table_schema = 'public' AND c.column_name = 'account_id' AND tb.table_type = 'BASE TABLE'
  LOOP
    PERFORM etl_enable_rls(format('public.%I', t.table_name)::regclass);
    n := n + 1;
  END LOOP;
  IF to_regclass('public.accounts') IS NOT NULL THEN
    PERFORM etl_enable_rls('public.accounts'::regclass, 'id');
    n := n + 1;
  END IF;
  RETURN n;
END
$$;
--> statement-breakpoint
-- Account-scoped tables that etl_app could read without a tenant policy; must always be empty.
CREATE OR REPLACE FUNCTION etl_rls_gaps() RETURNS TABLE (table_name text)
LANGUAGE sql STABLE AS $$
  SELECT cls.relname::text
  FROM pg_class cls
  JOIN pg_namespace ns ON ns.oid = cls.relnamespace
  WHERE ns.nspname = 'public' AND cls.relkind IN ('r', 'p')
    AND (EXISTS (SELECT 1 FROM pg_attribute a
                 WHERE a.attrelid = cls.oid AND a.attname = 'account_id' AND NOT a.attisdropped)
         OR cls.relname = 'accounts')
    AND (NOT cls.relrowsecurity
         OR NOT EXISTS (SELECT 1 FROM pg_policy p
                        WHERE p.polrelid = cls.oid AND p.polname = 'etl_tenant_isolation'))
  ORDER BY 1
$$;
--> statement-breakpoint
-- API keys are looked up before any account is known; this answers only "which account owns this hash".
CREATE OR REPLACE FUNCTION etl_account_for_api_key(key_hash text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT id FROM accounts WHERE api_key_hash = key_hash LIMIT 1
$$;
--> statement-breakpoint
SELECT etl_enable_rls_all();

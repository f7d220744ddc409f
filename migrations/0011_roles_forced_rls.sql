-- Tenancy that request code cannot switch off. Two roles, neither the tables' owner, neither BYPASSRLS:
--   etl_app     serves requests (admin and account routes, webhooks, the account objects): it sees exactly the
--               account named by `app.account_id` and nothing else, whatever it sets.
--   etl_system  runs cross-account system work (queue consumer, dead letters, cron fan-out, sweeps, re-announce,
--               retention, the webhook routing lookup); it is a member of etl_app and may in addition span
--               accounts with `app.all_accounts = on`.
-- Log in as these roles themselves (or as login roles granted them). The all-accounts branch is a separate
-- policy granted to etl_system only, so setting the flag from an etl_app session changes nothing.
-- Row-level security is FORCED, so the tables' owner is held to the policies too unless it is a superuser or
-- BYPASSRLS (as migrations and operator tools are expected to be).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'etl_system') THEN
    CREATE ROLE etl_system NOLOGIN NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
ALTER ROLE etl_system NOBYPASSRLS NOSUPERUSER;
--> statement-breakpoint
GRANT etl_app TO etl_system;
--> statement-breakpoint
-- A hung query must not hold an alarm, a consumer or a connection. The largest statements are a transform
-- chunk's core upsert (about 1 s for 10,000 records on the bench machine) and a complete scan's soft deletes;
-- 30 s leaves them a wide margin. Setting role defaults needs CREATEROLE with admin rights on the roles (or a
-- superuser); where that is refused, set them by hand (README, Deploying).
DO $$
BEGIN
  ALTER ROLE etl_app SET statement_timeout = '30s';
  ALTER ROLE etl_app SET idle_in_transaction_session_timeout = '60s';
  ALTER ROLE etl_system SET statement_timeout = '30s';
  ALTER ROLE etl_system SET idle_in_transaction_session_timeout = '60s';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'role timeouts not set (insufficient privilege); set them as described in the README';
END
$$;
--> statement-breakpoint
-- Only the named account: no flag widens it any more (the all-accounts branch is etl_system's own policy).
CREATE OR REPLACE FUNCTION etl_tenant_visible(row_account_id text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT row_account_id = nullif(current_setting('app.account_id', true), '')
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION etl_enable_rls(tbl regclass, account_column text DEFAULT 'account_id') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- One command, so the DDL trigger it fires finds both flags set and does not recurse.
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS etl_tenant_isolation ON %s', tbl);
  EXECUTE format(
    'CREATE POLICY etl_tenant_isolation ON %s AS PERMISSIVE FOR ALL TO etl_app '
    'USING (etl_tenant_visible(%I)) WITH CHECK (etl_tenant_visible(%I))',
    tbl, account_column, account_column);
  EXECUTE format('DROP POLICY IF EXISTS etl_system_all_accounts ON %s', tbl);
  EXECUTE format(
    'CREATE POLICY etl_system_all_accounts ON %s AS PERMISSIVE FOR ALL TO etl_system '
    'USING (coalesce(current_setting(''app.all_accounts'', true), '''') = ''on'') '
    'WITH CHECK (coalesce(current_setting(''app.all_accounts'', true), '''') = ''on'')',
    tbl);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO etl_app', tbl);
END
$$;
--> statement-breakpoint
-- Account-scoped tables whose tenant policy is missing or not forced; must always be empty.
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
         OR NOT cls.relforcerowsecurity
         OR NOT EXISTS (SELECT 1 FROM pg_policy p
                        WHERE p.polrelid = cls.oid AND p.polname = 'etl_tenant_isolation'))
  ORDER BY 1
$$;
--> statement-breakpoint
-- Why the current role could read past its tenant: empty for etl_app. `spans_accounts` is expected of the
-- system role and wrong for the request role.
CREATE OR REPLACE FUNCTION etl_role_bypasses() RETURNS TABLE (reason text)
LANGUAGE sql STABLE AS $$
  SELECT 'superuser' FROM pg_roles WHERE rolname = current_user AND rolsuper
  UNION ALL
  SELECT 'bypassrls' FROM pg_roles WHERE rolname = current_user AND rolbypassrls
  UNION ALL
  SELECT 'owns_account_table' WHERE EXISTS (
    SELECT 1 FROM pg_class cls
    JOIN pg_namespace ns ON ns.oid = cls.relnamespace
    WHERE ns.nspname = 'public' AND cls.relkind IN ('r', 'p')
      AND (EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = cls.oid AND a.attname = 'account_id' AND NOT a.attisdropped)
           OR cls.relname = 'accounts')
      AND pg_has_role(current_user, cls.relowner, 'USAGE'))
  UNION ALL
  SELECT 'spans_accounts' WHERE pg_has_role(current_user, 'etl_system', 'USAGE')
$$;
--> statement-breakpoint
-- Runs as the owner, who under FORCE sees rows only as a superuser, with BYPASSRLS, or through etl_system's
-- all-accounts policy (hence the flag set for the call, and the owner's membership granted below).
CREATE OR REPLACE FUNCTION etl_account_for_api_key(key_hash text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public SET app.all_accounts = 'on' AS $$
  SELECT id FROM accounts WHERE api_key_hash = key_hash LIMIT 1
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE format('GRANT etl_system TO %I', current_user);
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
  RAISE NOTICE 'owner not granted etl_system; it needs BYPASSRLS for etl_account_for_api_key under FORCE';
END
$$;
--> statement-breakpoint
-- The DDL trigger of 0006 now also restores FORCE when an ALTER TABLE drops it.
CREATE OR REPLACE FUNCTION etl_rls_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands()
    WHERE command_tag IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS') AND object_type = 'table'
  LOOP
    -- The ALTER TABLE inside etl_enable_rls fires this trigger again; both flags are set by then.
    IF EXISTS (
      SELECT 1 FROM pg_class cls
      JOIN pg_namespace ns ON ns.oid = cls.relnamespace
      WHERE cls.oid = cmd.objid AND ns.nspname = 'public'
        AND (NOT cls.relrowsecurity OR NOT cls.relforcerowsecurity)
        AND EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = cls.oid AND a.attname = 'account_id' AND NOT a.attisdropped)
    ) THEN
      PERFORM etl_enable_rls(cmd.objid::regclass);
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
SELECT etl_enable_rls_all();

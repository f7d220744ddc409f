-- Tables created after 0003 get the tenant policy without anyone remembering to ask: an event trigger
-- enables it for any new or altered table that has an account_id column. Creating event triggers needs a
-- superuser (true locally and in tests; on a managed Postgres it may not be), so where it is refused the
-- migration carries on and etl_rls_gaps() (checked by the RLS tests) is the guard instead.
CREATE OR REPLACE FUNCTION etl_rls_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands()
    WHERE command_tag IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS') AND object_type = 'table'
  LOOP
    -- The ALTER TABLE inside etl_enable_rls fires this trigger again; relrowsecurity is true by then.
    IF EXISTS (
      SELECT 1 FROM pg_class cls
      JOIN pg_namespace ns ON ns.oid = cls.relnamespace
      WHERE cls.oid = cmd.objid AND ns.nspname = 'public' AND NOT cls.relrowsecurity
        AND EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = cls.oid AND a.attname = 'account_id' AND NOT a.attisdropped)
    ) THEN
      PERFORM etl_enable_rls(cmd.objid::regclass);
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  DROP EVENT TRIGGER IF EXISTS etl_rls_on_ddl;
  CREATE EVENT TRIGGER etl_rls_on_ddl ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS')
    EXECUTE FUNCTION etl_rls_on_ddl();
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'etl_rls_on_ddl not installed (needs superuser); rely on etl_enable_rls() and etl_rls_gaps()';
END
$$;
--> statement-breakpoint
SELECT etl_enable_rls_all();

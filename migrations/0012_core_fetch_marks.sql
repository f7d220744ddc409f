CREATE TABLE "core_fetch_marks" (
	"table_name" text NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_updated_at" timestamp with time zone,
	"fetch_seq" bigint NOT NULL,
	"marked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "core_fetch_marks_table_name_account_id_connection_id_source_id_pk" PRIMARY KEY("table_name","account_id","connection_id","source_id")
);
--> statement-breakpoint
-- Explicit, for databases where the DDL event trigger could not be installed.
SELECT etl_enable_rls('core_fetch_marks');

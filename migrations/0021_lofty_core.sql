CREATE TABLE "lofty_activities" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lead_id" bigint,
	"occurred_at" timestamp with time zone,
	"type" text,
	"content" text,
	CONSTRAINT "lofty_activities_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "lofty_calls" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lead_id" bigint,
	"occurred_at" timestamp with time zone,
	"direction" text,
	"duration_seconds" integer,
	"outcome" text,
	CONSTRAINT "lofty_calls_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "lofty_leads" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_name" text,
	"last_name" text,
	"emails" jsonb,
	"phones" jsonb,
	"primary_email" text,
	"primary_phone" text,
	"source" text,
	"stage_id" bigint,
	"stage" text,
	"assigned_user_id" bigint,
	"assigned_user" text,
	"lead_types" jsonb,
	"tags" jsonb,
	"score" numeric,
	"street_address" text,
	"city" text,
	"state" text,
	"zip_code" text,
	"pond_id" bigint,
	"last_touch_at" timestamp with time zone,
	CONSTRAINT "lofty_leads_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "lofty_members" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_name" text,
	"last_name" text,
	"email" text,
	"role" text,
	"active" boolean,
	CONSTRAINT "lofty_members_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "lofty_notes" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lead_id" bigint,
	"occurred_at" timestamp with time zone,
	"content" text,
	CONSTRAINT "lofty_notes_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "lofty_transactions" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lead_id" bigint,
	"name" text,
	"address" text,
	"status" text,
	"transaction_type" text,
	"price" numeric,
	"close_at" timestamp with time zone,
	CONSTRAINT "lofty_transactions_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "lofty_activities_lead_idx" ON "lofty_activities" USING btree ("account_id","connection_id","lead_id","occurred_at") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "lofty_calls_lead_idx" ON "lofty_calls" USING btree ("account_id","connection_id","lead_id","occurred_at") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "lofty_leads_updated_idx" ON "lofty_leads" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "lofty_leads_email_idx" ON "lofty_leads" USING btree ("account_id","primary_email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "lofty_leads_assigned_idx" ON "lofty_leads" USING btree ("account_id","connection_id","assigned_user_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "lofty_notes_lead_idx" ON "lofty_notes" USING btree ("account_id","connection_id","lead_id","occurred_at") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "lofty_transactions_lead_idx" ON "lofty_transactions" USING btree ("account_id","connection_id","lead_id") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('lofty_leads');--> statement-breakpoint
SELECT etl_enable_rls('lofty_members');--> statement-breakpoint
SELECT etl_enable_rls('lofty_transactions');--> statement-breakpoint
SELECT etl_enable_rls('lofty_notes');--> statement-breakpoint
SELECT etl_enable_rls('lofty_calls');--> statement-breakpoint
SELECT etl_enable_rls('lofty_activities');

CREATE TABLE "dotloop_accounts" (
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
	"default_profile_id" bigint,
	CONSTRAINT "dotloop_accounts_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_contacts" (
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
	"home" text,
	"office" text,
	"fax" text,
	"address" text,
	"city" text,
	"state" text,
	"zip_code" text,
	"country" text,
	CONSTRAINT "dotloop_contacts_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_loop_details" (
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
	"profile_id" bigint,
	"sections" jsonb NOT NULL,
	"address" text,
	"street_number" text,
	"street_name" text,
	"unit" text,
	"city" text,
	"state" text,
	"postal_code" text,
	"county" text,
	"country" text,
	"mls_number" text,
	"purchase_price" numeric,
	"original_price" numeric,
	"current_price" numeric,
	"contract_date" date,
	"closing_date" date,
	"offer_date" date,
	"listing_date" date,
	"expiration_date" date,
	"transaction_number" text,
	CONSTRAINT "dotloop_loop_details_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_loop_documents" (
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
	"folder_id" bigint,
	"loop_id" bigint,
	"profile_id" bigint,
	"name" text,
	CONSTRAINT "dotloop_loop_documents_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_loop_folders" (
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
	"loop_id" bigint,
	"profile_id" bigint,
	"name" text,
	CONSTRAINT "dotloop_loop_folders_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_loop_participants" (
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
	"loop_id" bigint,
	"profile_id" bigint,
	"full_name" text,
	"email" text,
	"role" text,
	"phone" text,
	"fields" jsonb,
	CONSTRAINT "dotloop_loop_participants_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_loop_tasks" (
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
	"task_list_id" bigint,
	"loop_id" bigint,
	"profile_id" bigint,
	"name" text,
	"due_at" timestamp with time zone,
	"completed" boolean,
	CONSTRAINT "dotloop_loop_tasks_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_loops" (
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
	"profile_id" bigint,
	"owner_profile_id" bigint,
	"name" text,
	"transaction_type" text,
	"status" text,
	"archived" boolean DEFAULT false NOT NULL,
	"loop_url" text,
	"total_task_count" integer,
	"completed_task_count" integer,
	CONSTRAINT "dotloop_loops_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "dotloop_profiles" (
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
	"name" text,
	"type" text,
	"company" text,
	"phone" text,
	"fax" text,
	"address" text,
	"city" text,
	"state" text,
	"zip_code" text,
	"is_default" boolean,
	"requires_template" boolean,
	CONSTRAINT "dotloop_profiles_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "dotloop_contacts_updated_idx" ON "dotloop_contacts" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "dotloop_contacts_email_idx" ON "dotloop_contacts" USING btree ("account_id","email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_details_closing_idx" ON "dotloop_loop_details" USING btree ("account_id","connection_id","closing_date") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_details_mls_idx" ON "dotloop_loop_details" USING btree ("account_id","mls_number") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_documents_loop_idx" ON "dotloop_loop_documents" USING btree ("account_id","connection_id","loop_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_folders_loop_idx" ON "dotloop_loop_folders" USING btree ("account_id","connection_id","loop_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_participants_loop_idx" ON "dotloop_loop_participants" USING btree ("account_id","connection_id","loop_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_participants_email_idx" ON "dotloop_loop_participants" USING btree ("account_id","email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loop_tasks_loop_idx" ON "dotloop_loop_tasks" USING btree ("account_id","connection_id","loop_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "dotloop_loops_updated_idx" ON "dotloop_loops" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "dotloop_loops_profile_idx" ON "dotloop_loops" USING btree ("account_id","connection_id","profile_id","status") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('dotloop_accounts');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_profiles');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loops');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loop_details');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loop_participants');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_contacts');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loop_folders');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loop_documents');--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loop_tasks');

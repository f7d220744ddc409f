CREATE TABLE "opentoclose_agents" (
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
	"phone" text,
	CONSTRAINT "opentoclose_agents_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_contacts" (
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
	"phone" text,
	CONSTRAINT "opentoclose_contacts_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_notes" (
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
	"property_id" bigint,
	"title" text,
	"content" text,
	CONSTRAINT "opentoclose_notes_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_properties" (
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
	"timezone" text,
	"fields" jsonb NOT NULL,
	"field_types" jsonb NOT NULL,
	"team_id" bigint,
	"team_name" text,
	"team_user_id" bigint,
	"team_user_name" text,
	"agent_id" bigint,
	"agent_name" text,
	"title" text,
	"contract_status" text,
	"listing_status" text,
	"client_type" text,
	"address" text,
	"city" text,
	"state" text,
	"zip" text,
	"purchase_amount" numeric,
	"listing_price" numeric,
	"contract_date" date,
	"listing_date" date,
	"closing_date" date,
	CONSTRAINT "opentoclose_properties_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_property_contacts" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"fetch_seq" bigint DEFAULT 0 NOT NULL,
	"deleted_seq" bigint,
	"content_hash" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"property_id" bigint,
	"contact_id" bigint,
	"role" text,
	"first_name" text,
	"last_name" text,
	"email" text,
	"phone" text,
	CONSTRAINT "opentoclose_property_contacts_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_tasks" (
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
	"property_id" bigint,
	"title" text,
	"due_date" date,
	"status" text,
	CONSTRAINT "opentoclose_tasks_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_teams" (
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
	CONSTRAINT "opentoclose_teams_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "opentoclose_users" (
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
	"phone" text,
	CONSTRAINT "opentoclose_users_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "opentoclose_contacts_email_idx" ON "opentoclose_contacts" USING btree ("account_id","email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "opentoclose_notes_property_idx" ON "opentoclose_notes" USING btree ("account_id","connection_id","property_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "opentoclose_properties_status_idx" ON "opentoclose_properties" USING btree ("account_id","connection_id","contract_status") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "opentoclose_properties_closing_idx" ON "opentoclose_properties" USING btree ("account_id","connection_id","closing_date") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "opentoclose_property_contacts_property_idx" ON "opentoclose_property_contacts" USING btree ("account_id","connection_id","property_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "opentoclose_tasks_property_idx" ON "opentoclose_tasks" USING btree ("account_id","connection_id","property_id") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_properties');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_property_contacts');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_notes');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_tasks');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_contacts');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_agents');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_users');--> statement-breakpoint
SELECT etl_enable_rls('opentoclose_teams');

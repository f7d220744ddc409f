CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"api_key_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "connections" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"base_url" text,
	"credentials_enc" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"delta_interval_minutes" integer DEFAULT 15 NOT NULL,
	"last_delta_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fub_people" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"first_name" text,
	"last_name" text,
	"stage" text,
	"stage_id" integer,
	"source" text,
	"assigned_user_id" integer,
	"price" numeric,
	"contacted" boolean,
	"last_activity" timestamp with time zone,
	"tags" jsonb,
	"emails" jsonb,
	"phones" jsonb,
	CONSTRAINT "fub_people_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_sync_state" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"entity" text NOT NULL,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"cursor" jsonb,
	"last_sync_at" timestamp with time zone,
	"last_started_at" timestamp with time zone,
	"last_finished_at" timestamp with time zone,
	"records_synced" bigint DEFAULT 0 NOT NULL,
	"error_message" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fub_sync_state_connection_id_entity_pk" PRIMARY KEY("connection_id","entity")
);
--> statement-breakpoint
CREATE TABLE "stage_records" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"page_no" integer NOT NULL,
	"seq" integer NOT NULL,
	"source_id" text,
	"op" text DEFAULT 'upsert' NOT NULL,
	"payload" jsonb NOT NULL,
	"staged_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "connections" ADD CONSTRAINT "connections_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "connections_account_idx" ON "connections" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "connections_due_idx" ON "connections" USING btree ("status","last_delta_at");--> statement-breakpoint
CREATE INDEX "fub_sync_state_account_idx" ON "fub_sync_state" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stage_records_page_uq" ON "stage_records" USING btree ("connection_id","entity","run_id","page_no","seq");--> statement-breakpoint
CREATE INDEX "stage_records_pending_idx" ON "stage_records" USING btree ("connection_id","entity","run_id","page_no") WHERE "stage_records"."done_at" is null;--> statement-breakpoint
CREATE INDEX "stage_records_done_idx" ON "stage_records" USING btree ("done_at") WHERE "stage_records"."done_at" is not null;
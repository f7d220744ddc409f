CREATE SEQUENCE "public"."fetch_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"mode" text NOT NULL,
	"status" text DEFAULT 'IN_PROGRESS' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"pages" integer DEFAULT 0 NOT NULL,
	"fetched" bigint DEFAULT 0 NOT NULL,
	"written" bigint DEFAULT 0 NOT NULL,
	"unchanged" bigint DEFAULT 0 NOT NULL,
	"failed" bigint DEFAULT 0 NOT NULL,
	"deleted" bigint DEFAULT 0 NOT NULL,
	"error_message" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fub_appointments" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_calls" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_deals" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_events" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_groups" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_people" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_stages" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_text_messages" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_users" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "activities" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "contacts" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "listings" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "transactions" ALTER COLUMN "source_updated_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_appointments" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_appointments" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_appointments" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_calls" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_calls" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_calls" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "projected_close_date" date;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "stage_name" text;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "pipeline_name" text;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "entered_stage_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "agent_commission" numeric;--> statement-breakpoint
ALTER TABLE "fub_deals" ADD COLUMN "team_commission" numeric;--> statement-breakpoint
ALTER TABLE "fub_events" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_events" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_events" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_groups" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_groups" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_groups" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_people" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_people" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_people" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_stages" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_stages" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_stages" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_text_messages" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_text_messages" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_text_messages" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "fub_users" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_users" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "fub_users" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "core_tombstones" ADD COLUMN "deleted_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "core_tombstones" ADD COLUMN "kind" text DEFAULT 'event' NOT NULL;--> statement-breakpoint
ALTER TABLE "failed_records" ADD COLUMN "run_id" text;--> statement-breakpoint
ALTER TABLE "stage_records" ADD COLUMN "fetch_seq" bigint DEFAULT nextval('fetch_seq') NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_sync_jobs" ADD COLUMN "error_list" jsonb;--> statement-breakpoint
ALTER TABLE "fub_sync_state" ADD COLUMN "records_failed" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_sync_state" ADD COLUMN "error_list" jsonb;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "projected_close_date" date;--> statement-breakpoint
ALTER TABLE "listings" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "listings" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "listings" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "fetch_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "deleted_seq" bigint;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "content_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "sync_runs_run_uq" ON "sync_runs" USING btree ("connection_id","entity","run_id");--> statement-breakpoint
CREATE INDEX "sync_runs_account_idx" ON "sync_runs" USING btree ("account_id","connection_id","entity","started_at");
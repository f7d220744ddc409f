CREATE TABLE "connection_job_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"job" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"outcome" text NOT NULL,
	"items" integer DEFAULT 0 NOT NULL,
	"item_errors" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "connection_jobs" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"job" text NOT NULL,
	"interval_minutes" integer NOT NULL,
	"next_run_at" timestamp with time zone,
	"last_started_at" timestamp with time zone,
	"last_finished_at" timestamp with time zone,
	"last_outcome" text,
	"last_error" text,
	"started" integer DEFAULT 0 NOT NULL,
	"completed" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"accounts_processed" integer DEFAULT 0 NOT NULL,
	"items" integer DEFAULT 0 NOT NULL,
	"item_errors" integer DEFAULT 0 NOT NULL,
	"parked" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "connection_jobs_connection_id_job_pk" PRIMARY KEY("connection_id","job")
);
--> statement-breakpoint
CREATE TABLE "zhl_dedicated_loan_officer_map" (
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
	"territory" text,
	"account_ref" text,
	"loan_officer_id" text,
	"role" text,
	"priority" integer,
	CONSTRAINT "zhl_dedicated_loan_officer_map_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "zhl_loan_officers" (
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
	"nmls_id" text,
	"first_name" text,
	"last_name" text,
	"email" text,
	"status" text,
	"territory" text,
	CONSTRAINT "zhl_loan_officers_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "zhl_status_changelog" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"referral_id" text,
	"loan_officer_id" text,
	"step" text NOT NULL,
	"from_status" text,
	"to_status" text,
	"detail" jsonb,
	"run_id" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zhl_transfers" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"referral_id" text NOT NULL,
	"territory" text,
	"status" text NOT NULL,
	"loan_officer_id" text,
	"fallback" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"provider_transfer_id" text,
	"external_contact_reference" text,
	"last_error" text,
	"claimed_by" text,
	"claimed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "zhl_transfers_account_id_connection_id_referral_id_pk" PRIMARY KEY("account_id","connection_id","referral_id")
);
--> statement-breakpoint
CREATE INDEX "connection_job_runs_recent_idx" ON "connection_job_runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "connection_jobs_due_idx" ON "connection_jobs" USING btree ("next_run_at");--> statement-breakpoint
CREATE INDEX "zhl_dlo_map_territory_idx" ON "zhl_dedicated_loan_officer_map" USING btree ("account_id","connection_id","territory") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "zhl_loan_officers_territory_idx" ON "zhl_loan_officers" USING btree ("account_id","connection_id","territory") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "zhl_status_changelog_referral_idx" ON "zhl_status_changelog" USING btree ("account_id","connection_id","referral_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "zhl_transfers_idempotency_key" ON "zhl_transfers" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "zhl_transfers_status_idx" ON "zhl_transfers" USING btree ("account_id","connection_id","status");--> statement-breakpoint
SELECT etl_enable_rls('connection_jobs');--> statement-breakpoint
SELECT etl_enable_rls('connection_job_runs');--> statement-breakpoint
SELECT etl_enable_rls('zhl_loan_officers');--> statement-breakpoint
SELECT etl_enable_rls('zhl_dedicated_loan_officer_map');--> statement-breakpoint
SELECT etl_enable_rls('zhl_transfers');--> statement-breakpoint
SELECT etl_enable_rls('zhl_status_changelog');

CREATE TABLE "metric_counters" (
	"name" text NOT NULL,
	"labels" text DEFAULT '' NOT NULL,
	"value" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "metric_counters_name_labels_pk" PRIMARY KEY("name","labels")
);
--> statement-breakpoint
CREATE TABLE "sync_run_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"level" text NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "trigger" text;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "requests" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "rate_limited" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "logs_dropped" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "sync_run_logs_run_idx" ON "sync_run_logs" USING btree ("connection_id","entity","run_id","id");--> statement-breakpoint
CREATE INDEX "sync_runs_history_idx" ON "sync_runs" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "sync_runs_finished_idx" ON "sync_runs" USING btree ("finished_at");--> statement-breakpoint
SELECT etl_enable_rls('sync_run_logs');--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON metric_counters TO etl_app;

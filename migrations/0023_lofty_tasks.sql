CREATE TABLE "lofty_tasks" (
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
	"assigned_user_id" bigint,
	"title" text,
	"task_type" text,
	"due_at" timestamp with time zone,
	"finished" boolean,
	CONSTRAINT "lofty_tasks_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "lofty_tasks_lead_idx" ON "lofty_tasks" USING btree ("account_id","connection_id","lead_id") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('lofty_tasks');

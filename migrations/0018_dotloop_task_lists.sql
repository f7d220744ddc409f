CREATE TABLE "dotloop_loop_task_lists" (
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
	CONSTRAINT "dotloop_loop_task_lists_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "dotloop_loop_task_lists_loop_idx" ON "dotloop_loop_task_lists" USING btree ("account_id","connection_id","loop_id") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('dotloop_loop_task_lists');

CREATE TABLE "scheduler_ticks" (
	"job" text PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"report" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "next_delta_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "next_reconcile_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "stage_pending_pages_account_idx" ON "stage_pending_pages" USING btree ("account_id","staged_at");--> statement-breakpoint
CREATE INDEX "connections_next_delta_idx" ON "connections" USING btree ("status","next_delta_at");--> statement-breakpoint
CREATE INDEX "connections_next_reconcile_idx" ON "connections" USING btree ("status","next_reconcile_at");
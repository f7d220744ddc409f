CREATE TABLE "alert_state" (
	"key" text PRIMARY KEY NOT NULL,
	"rule" text NOT NULL,
	"subject" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"value" double precision NOT NULL,
	"threshold" double precision NOT NULL,
	"firing_since" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"last_sent_at" timestamp with time zone,
	"sends" integer DEFAULT 0 NOT NULL,
	"delivery_failures" integer DEFAULT 0 NOT NULL,
	"last_delivery_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "provider_errors" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "alert_state_recent_idx" ON "alert_state" USING btree ("updated_at");--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON alert_state TO etl_app;

CREATE TABLE "failed_records" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"source_id" text NOT NULL,
	"payload" jsonb,
	"error_code" text NOT NULL,
	"error_message" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "failed_records_source_uq" ON "failed_records" USING btree ("connection_id","entity","source_id");--> statement-breakpoint
CREATE INDEX "failed_records_account_idx" ON "failed_records" USING btree ("account_id","entity","error_code","last_seen_at");
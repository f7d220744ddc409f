CREATE TABLE "connection_breakers" (
	"connection_id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"state" text NOT NULL,
	"open_since" timestamp with time zone,
	"gen" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
SELECT etl_enable_rls('connection_breakers');

CREATE TABLE "zillow_agent_resolutions" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"method" text NOT NULL,
	"priority" integer NOT NULL,
	"override_method" text,
	"override_by" text,
	"resolved_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "zillow_agent_resolutions_account_id_connection_id_agent_id_pk" PRIMARY KEY("account_id","connection_id","agent_id")
);
--> statement-breakpoint
CREATE TABLE "zillow_agents" (
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
	"zuid" text,
	"auth_zuid" text,
	"team_id" text,
	"name" text,
	"email" text,
	"status" text,
	"legacy_profile_id" text,
	"auth_state" text,
	CONSTRAINT "zillow_agents_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "zillow_auth" (
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
	"zuid" text,
	"expires_at" timestamp with time zone,
	"auth_state" text,
	CONSTRAINT "zillow_auth_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "zillow_connection_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"from_method" text,
	"to_method" text NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zillow_contact_sync_events" (
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
	"agent_zuid" text,
	"contact_id" text,
	"event_type" text,
	"occurred_at" timestamp with time zone,
	CONSTRAINT "zillow_contact_sync_events_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "zillow_sync_users" (
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
	"agent_zuid" text,
	"sync_team_id" text,
	"status" text,
	"last_synced_at" timestamp with time zone,
	"auth_state" text,
	CONSTRAINT "zillow_sync_users_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "zillow_teams" (
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
	"name" text,
	"parent_team_id" text,
	"lead_zuid" text,
	CONSTRAINT "zillow_teams_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "zillow_agents_updated_idx" ON "zillow_agents" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "zillow_agents_zuid_idx" ON "zillow_agents" USING btree ("account_id","zuid") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "zillow_agents_team_idx" ON "zillow_agents" USING btree ("account_id","connection_id","team_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "zillow_auth_zuid_idx" ON "zillow_auth" USING btree ("account_id","zuid") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "zillow_connection_logs_agent_idx" ON "zillow_connection_logs" USING btree ("account_id","connection_id","agent_id","at");--> statement-breakpoint
CREATE INDEX "zillow_contact_sync_events_updated_idx" ON "zillow_contact_sync_events" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "zillow_contact_sync_events_contact_idx" ON "zillow_contact_sync_events" USING btree ("account_id","connection_id","contact_id");--> statement-breakpoint
CREATE INDEX "zillow_sync_users_updated_idx" ON "zillow_sync_users" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "zillow_sync_users_agent_idx" ON "zillow_sync_users" USING btree ("account_id","agent_zuid") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "zillow_teams_updated_idx" ON "zillow_teams" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
SELECT etl_enable_rls('zillow_auth');--> statement-breakpoint
SELECT etl_enable_rls('zillow_agents');--> statement-breakpoint
SELECT etl_enable_rls('zillow_teams');--> statement-breakpoint
SELECT etl_enable_rls('zillow_sync_users');--> statement-breakpoint
SELECT etl_enable_rls('zillow_contact_sync_events');--> statement-breakpoint
SELECT etl_enable_rls('zillow_agent_resolutions');--> statement-breakpoint
SELECT etl_enable_rls('zillow_connection_logs');

CREATE TABLE "core_tombstones" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"source_id" text NOT NULL,
	"deleted_at" timestamp with time zone NOT NULL,
	"run_id" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pending_deletes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"mode" text NOT NULL,
	"tombstones" jsonb NOT NULL,
	"deletes" integer NOT NULL,
	"live_rows" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "activities" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone,
	"contact_source_id" text,
	"user_source_id" text,
	"summary" text,
	"direction" text,
	"duration_seconds" integer
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"first_name" text,
	"last_name" text,
	"primary_email" text,
	"primary_phone" text,
	"stage" text,
	"lead_source" text,
	"tags" jsonb,
	"assigned_to" text
);
--> statement-breakpoint
CREATE TABLE "deals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"stage" text,
	"status" text,
	"price" numeric,
	"close_date" date,
	"contact_source_ids" jsonb,
	"user_source_ids" jsonb
);
--> statement-breakpoint
CREATE TABLE "listings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"address" text,
	"city" text,
	"state" text,
	"postal_code" text,
	"mls_number" text,
	"price" numeric,
	"status" text,
	"listed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" text NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"address" text,
	"status" text,
	"transaction_type" text,
	"price" numeric,
	"contract_date" date,
	"close_date" date
);
--> statement-breakpoint
CREATE UNIQUE INDEX "core_tombstones_source_uq" ON "core_tombstones" USING btree ("connection_id","entity","source_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pending_deletes_run_uq" ON "pending_deletes" USING btree ("account_id","run_id","connection_id","entity");--> statement-breakpoint
CREATE INDEX "pending_deletes_status_idx" ON "pending_deletes" USING btree ("account_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "activities_source_uq" ON "activities" USING btree ("account_id","provider","connection_id","source_id");--> statement-breakpoint
CREATE INDEX "activities_contact_idx" ON "activities" USING btree ("account_id","provider","connection_id","contact_source_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_source_uq" ON "contacts" USING btree ("account_id","provider","connection_id","source_id");--> statement-breakpoint
CREATE INDEX "contacts_email_idx" ON "contacts" USING btree ("account_id","primary_email");--> statement-breakpoint
CREATE UNIQUE INDEX "deals_source_uq" ON "deals" USING btree ("account_id","provider","connection_id","source_id");--> statement-breakpoint
CREATE INDEX "deals_stage_idx" ON "deals" USING btree ("account_id","stage");--> statement-breakpoint
CREATE UNIQUE INDEX "listings_source_uq" ON "listings" USING btree ("account_id","provider","connection_id","source_id");--> statement-breakpoint
CREATE INDEX "listings_mls_idx" ON "listings" USING btree ("account_id","mls_number");--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_source_uq" ON "transactions" USING btree ("account_id","provider","connection_id","source_id");--> statement-breakpoint
CREATE INDEX "transactions_status_idx" ON "transactions" USING btree ("account_id","status");--> statement-breakpoint
CREATE INDEX "failed_records_open_idx" ON "failed_records" USING btree ("account_id","id") WHERE "failed_records"."resolved_at" is null;
CREATE TABLE "skyslope_listings" (
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
	"agent_guid" text,
	"created_by_guid" text,
	"office_guid" text,
	"office_id" integer,
	"mls_number" text,
	"status" text,
	"checklist_type" text,
	"listing_price" numeric,
	"street_number" text,
	"street_address" text,
	"city" text,
	"state" text,
	"zip" text,
	"file_email" text,
	"type" text,
	"listing_date" date,
	"expiration_date" date,
	CONSTRAINT "skyslope_listings_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "skyslope_offices" (
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
	CONSTRAINT "skyslope_offices_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "skyslope_transactions" (
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
	"agent_guid" text,
	"created_by_guid" text,
	"office_guid" text,
	"office_id" integer,
	"mls_number" text,
	"status" text,
	"checklist_type" text,
	"listing_price" numeric,
	"street_number" text,
	"street_address" text,
	"city" text,
	"state" text,
	"zip" text,
	"file_email" text,
	"listing_guid" text,
	"status_id" integer,
	"deal_type" text,
	"sale_price" numeric,
	"escrow_number" text,
	"contract_acceptance_date" date,
	"escrow_closing_date" date,
	"actual_closing_date" date,
	CONSTRAINT "skyslope_transactions_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "skyslope_users" (
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
	"public_id" text,
	"first_name" text,
	"last_name" text,
	"email" text,
	"phone" text,
	"user_type" text,
	"office_guid" text,
	CONSTRAINT "skyslope_users_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "skyslope_listings_updated_idx" ON "skyslope_listings" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "skyslope_listings_mls_idx" ON "skyslope_listings" USING btree ("account_id","mls_number") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "skyslope_transactions_updated_idx" ON "skyslope_transactions" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "skyslope_transactions_agent_idx" ON "skyslope_transactions" USING btree ("account_id","connection_id","agent_guid") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "skyslope_users_email_idx" ON "skyslope_users" USING btree ("account_id","email") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('skyslope_transactions');--> statement-breakpoint
SELECT etl_enable_rls('skyslope_listings');--> statement-breakpoint
SELECT etl_enable_rls('skyslope_users');--> statement-breakpoint
SELECT etl_enable_rls('skyslope_offices');

CREATE TABLE "rezen_agents" (
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
	"first_name" text,
	"last_name" text,
	"email_address" text,
	"phone_number" text,
	"status" text,
	"country" text,
	"account_country" text,
	CONSTRAINT "rezen_agents_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_contributions" (
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
	"yenta_id" text,
	"tier" integer,
	"contributor_yenta_id" text,
	"transaction_id" text,
	"amount" numeric,
	"currency" text,
	"contributed_at" timestamp with time zone,
	CONSTRAINT "rezen_contributions_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_equity" (
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
	"shares_owned" numeric,
	"equity_purchase_amount" numeric,
	"equity_purchase_currency" text,
	"equity_award_amount" numeric,
	"equity_award_currency" text,
	CONSTRAINT "rezen_equity_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_lifecycle_group_counts" (
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
	"yenta_id" text,
	"kind" text NOT NULL,
	"count" integer,
	CONSTRAINT "rezen_lifecycle_group_counts_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_listings" (
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
	"yenta_id" text,
	"lifecycle_group" text,
	"code" text,
	"lifecycle_state" text,
	"address_one_line" text,
	"city" text,
	"state" text,
	"zip" text,
	"mls_num" text,
	"price_amount" numeric,
	"price_currency" text,
	CONSTRAINT "rezen_listings_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_network_cap" (
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
	"cap_amount" numeric,
	"cap_currency" text,
	"paid_amount" numeric,
	"paid_currency" text,
	"cap_start_date" date,
	"cap_end_date" date,
	CONSTRAINT "rezen_network_cap_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_network_downline" (
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
	"sponsor_yenta_id" text,
	"tier" integer,
	"first_name" text,
	"last_name" text,
	"email_address" text,
	"status" text,
	"sponsor_id" text,
	CONSTRAINT "rezen_network_downline_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_network_frontline" (
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
	"yenta_id" text,
	"first_name" text,
	"last_name" text,
	"email_address" text,
	"status" text,
	"size_of_network" integer,
	CONSTRAINT "rezen_network_frontline_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_network_size" (
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
	"yenta_id" text,
	"tier" integer NOT NULL,
	"network_size" integer,
	CONSTRAINT "rezen_network_size_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_team_roster" (
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
	"status" text,
	"members" jsonb,
	"member_count" integer,
	CONSTRAINT "rezen_team_roster_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_transaction_list" (
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
	"yenta_id" text,
	"lifecycle_group" text,
	"code" text,
	"listed_updated_at" timestamp with time zone,
	CONSTRAINT "rezen_transaction_list_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "rezen_transactions" (
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
	"code" text,
	"transaction_type" text,
	"listing" boolean,
	"lifecycle_state" text,
	"compliance_status" text,
	"address_one_line" text,
	"street" text,
	"city" text,
	"state" text,
	"zip" text,
	"price_amount" numeric,
	"price_currency" text,
	"gross_commission_amount" numeric,
	"gross_commission_currency" text,
	"my_net_payout_amount" numeric,
	"my_net_payout_currency" text,
	"participants" jsonb,
	"contract_acceptance_date" date,
	"closing_date_estimated" date,
	"closing_date_actual" date,
	"mls_num" text,
	"lead_source" text,
	"office_name" text,
	CONSTRAINT "rezen_transactions_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "rezen_transactions_state_idx" ON "rezen_transactions" USING btree ("account_id","connection_id","lifecycle_state") WHERE deleted_at is null;--> statement-breakpoint
SELECT etl_enable_rls('rezen_agents');--> statement-breakpoint
SELECT etl_enable_rls('rezen_contributions');--> statement-breakpoint
SELECT etl_enable_rls('rezen_equity');--> statement-breakpoint
SELECT etl_enable_rls('rezen_lifecycle_group_counts');--> statement-breakpoint
SELECT etl_enable_rls('rezen_listings');--> statement-breakpoint
SELECT etl_enable_rls('rezen_network_cap');--> statement-breakpoint
SELECT etl_enable_rls('rezen_network_downline');--> statement-breakpoint
SELECT etl_enable_rls('rezen_network_frontline');--> statement-breakpoint
SELECT etl_enable_rls('rezen_network_size');--> statement-breakpoint
SELECT etl_enable_rls('rezen_team_roster');--> statement-breakpoint
SELECT etl_enable_rls('rezen_transaction_list');--> statement-breakpoint
SELECT etl_enable_rls('rezen_transactions');
--> statement-breakpoint
-- The replaced system's transaction-count columns, per lifecycle group: reZEN's count (tc_rezen, refreshed by
-- every run of lifecycleGroups) against our live list items in that group (tc_ad). Invoker's rights: the
-- tenant policies of the tables beneath apply.
CREATE VIEW "rezen_transaction_counts" WITH (security_invoker = true) AS
SELECT g.account_id, g.connection_id, g.source_id AS lifecycle_group, g.count AS tc_rezen,
  (SELECT count(*) FROM rezen_transaction_list l
   WHERE l.account_id = g.account_id AND l.connection_id = g.connection_id
     AND l.lifecycle_group = g.source_id AND l.deleted_at IS NULL)::int AS tc_ad,
  g.count IS DISTINCT FROM (SELECT count(*) FROM rezen_transaction_list l
   WHERE l.account_id = g.account_id AND l.connection_id = g.connection_id
     AND l.lifecycle_group = g.source_id AND l.deleted_at IS NULL)::int AS tc_mismatch
FROM rezen_lifecycle_group_counts g
WHERE g.kind = 'TRANSACTION' AND g.deleted_at IS NULL;--> statement-breakpoint
-- The replaced system's per-sync logs and webhook processing table, over the engine's generic ones.
CREATE VIEW "rezen_sync_jobs_logs" WITH (security_invoker = true) AS
SELECT id, account_id, connection_id, entity, run_id, at, level, message FROM sync_run_logs WHERE provider = 'rezen';--> statement-breakpoint
CREATE VIEW "rezen_process_webhook" WITH (security_invoker = true) AS
SELECT id, account_id, connection_id, event_id, event_type, payload, status, attempts, last_error, received_at, processed_at
FROM webhook_inbox WHERE provider = 'rezen';

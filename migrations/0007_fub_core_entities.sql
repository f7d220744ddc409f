CREATE TABLE "fub_appointments" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"title" text,
	"description" text,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"all_day" boolean,
	"location" text,
	"invitees" jsonb,
	"person_ids" jsonb,
	CONSTRAINT "fub_appointments_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_calls" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"person_id" integer,
	"user_id" integer,
	"duration_seconds" integer,
	"outcome" text,
	"is_incoming" boolean,
	"phone" text,
	"from_number" text,
	"to_number" text,
	"note" text,
	"recording_url" text,
	CONSTRAINT "fub_calls_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_deals" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"stage_id" integer,
	"pipeline_id" integer,
	"status" text,
	"price" numeric,
	"commission_value" numeric,
	"close_date" date,
	"description" text,
	"person_ids" jsonb,
	"user_ids" jsonb,
	CONSTRAINT "fub_deals_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_events" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"person_id" integer,
	"type" text,
	"source" text,
	"message" text,
	"description" text,
	"occurred_at" timestamp with time zone,
	"property" jsonb,
	CONSTRAINT "fub_events_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_groups" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"type" text,
	"user_ids" jsonb,
	CONSTRAINT "fub_groups_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_stages" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"order_weight" integer,
	CONSTRAINT "fub_stages_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_text_messages" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"person_id" integer,
	"user_id" integer,
	"message" text,
	"is_incoming" boolean,
	"from_number" text,
	"to_number" text,
	"status" text,
	CONSTRAINT "fub_text_messages_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
CREATE TABLE "fub_users" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"source_id" bigint NOT NULL,
	"source_created_at" timestamp with time zone,
	"source_updated_at" timestamp with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"first_name" text,
	"last_name" text,
	"email" text,
	"phone" text,
	"role" text,
	"status" text,
	"timezone" text,
	CONSTRAINT "fub_users_account_id_connection_id_source_id_pk" PRIMARY KEY("account_id","connection_id","source_id")
);
--> statement-breakpoint
ALTER TABLE "fub_people" ADD COLUMN "trashed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "fub_people" ADD COLUMN "primary_email" text;--> statement-breakpoint
ALTER TABLE "fub_people" ADD COLUMN "primary_phone" text;--> statement-breakpoint
CREATE INDEX "fub_appointments_updated_idx" ON "fub_appointments" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "fub_appointments_start_idx" ON "fub_appointments" USING btree ("account_id","connection_id","start_at") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_calls_updated_idx" ON "fub_calls" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "fub_calls_person_idx" ON "fub_calls" USING btree ("account_id","connection_id","person_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_calls_user_idx" ON "fub_calls" USING btree ("account_id","connection_id","user_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_deals_updated_idx" ON "fub_deals" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "fub_deals_stage_idx" ON "fub_deals" USING btree ("account_id","connection_id","pipeline_id","stage_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_events_updated_idx" ON "fub_events" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "fub_events_person_idx" ON "fub_events" USING btree ("account_id","connection_id","person_id","occurred_at") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_text_messages_updated_idx" ON "fub_text_messages" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "fub_text_messages_person_idx" ON "fub_text_messages" USING btree ("account_id","connection_id","person_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_users_email_idx" ON "fub_users" USING btree ("account_id","email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_people_updated_idx" ON "fub_people" USING btree ("account_id","connection_id","source_updated_at");--> statement-breakpoint
CREATE INDEX "fub_people_email_idx" ON "fub_people" USING btree ("account_id","primary_email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_people_assigned_idx" ON "fub_people" USING btree ("account_id","connection_id","assigned_user_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "fub_people_stage_idx" ON "fub_people" USING btree ("account_id","connection_id","stage_id") WHERE deleted_at is null;
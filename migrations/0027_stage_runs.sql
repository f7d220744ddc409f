CREATE TABLE "stage_runs" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"first_seq" bigint NOT NULL,
	"prior_rows" boolean DEFAULT true NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stage_runs_connection_id_entity_run_id_pk" PRIMARY KEY("connection_id","entity","run_id")
);
--> statement-breakpoint
CREATE INDEX "stage_runs_started_idx" ON "stage_runs" USING btree ("started_at");--> statement-breakpoint
SELECT etl_enable_rls('stage_runs');

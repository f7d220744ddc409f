CREATE TABLE "stage_pending_pages" (
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"page_no" integer NOT NULL,
	"records" integer NOT NULL,
	"staged_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stage_pending_pages_connection_id_entity_run_id_page_no_pk" PRIMARY KEY("connection_id","entity","run_id","page_no")
);
--> statement-breakpoint
DROP INDEX "stage_records_pending_idx";--> statement-breakpoint
DROP INDEX "stage_records_done_idx";--> statement-breakpoint
CREATE INDEX "stage_pending_pages_staged_idx" ON "stage_pending_pages" USING btree ("staged_at");--> statement-breakpoint
CREATE INDEX "stage_records_staged_idx" ON "stage_records" USING btree ("staged_at");--> statement-breakpoint
CREATE INDEX "stage_records_deletes_idx" ON "stage_records" USING btree ("connection_id","entity","run_id") WHERE "stage_records"."op" = 'delete';--> statement-breakpoint
-- Room on each page for a row's done version, so the done mark stays on the page (HOT).
ALTER TABLE "stage_records" SET (fillfactor = 50);
--> statement-breakpoint
-- Pages already pending when this runs get their marker, so the re-announce sweep still finds them.
INSERT INTO "stage_pending_pages" (account_id, connection_id, provider, entity, run_id, page_no, records, staged_at)
SELECT account_id, connection_id, provider, entity, run_id, page_no, count(*)::int, min(staged_at)
FROM "stage_records" WHERE done_at IS NULL AND op = 'upsert'
GROUP BY account_id, connection_id, provider, entity, run_id, page_no
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- The event trigger of 0006 does this where it is installed; where it could not be, this is the guard.
SELECT etl_enable_rls('stage_pending_pages');

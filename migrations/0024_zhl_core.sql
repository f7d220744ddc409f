ALTER TABLE "connection_jobs" ADD COLUMN "interval_minutes" integer NOT NULL;--> statement-breakpoint
SELECT etl_enable_rls('connection_jobs');--> statement-breakpoint
SELECT etl_enable_rls('connection_job_runs');--> statement-breakpoint
SELECT etl_enable_rls('zhl_loan_officers');--> statement-breakpoint
SELECT etl_enable_rls('zhl_dedicated_loan_officer_map');--> statement-breakpoint
SELECT etl_enable_rls('zhl_transfers');--> statement-breakpoint
SELECT etl_enable_rls('zhl_status_changelog');

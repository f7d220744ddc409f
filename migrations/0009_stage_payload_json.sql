-- Staged payloads are kept as their JSON text (json) instead of jsonb: the consumer reads them back whole, so
-- building the binary form on every staging insert and printing it again on every load was Postgres CPU spent
-- for nothing. Rewrites stage_records once.
ALTER TABLE "stage_records" ALTER COLUMN "payload" SET DATA TYPE json USING "payload"::json;

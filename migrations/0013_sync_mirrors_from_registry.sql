-- The sync-state mirrors (<provider>_sync_state, _sync_jobs, _onboarding_jobs) leave the drizzle schema: the
-- migration tooling now creates and completes them for every registered connector from its entity list
-- (src/sync/mirrors.ts, applied after these migrations). The tables already created here stay, with their
-- data; nothing is dropped.
SELECT 1;

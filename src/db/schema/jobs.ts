import { index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { tz } from "./columns";

/**
 * The schedule and counters of each periodic job a connector declares (ConnectorSpec.jobs), one row per
 * connection and job. The minute tick claims rows whose `next_run_at` has come and moves it on by the job's
 * interval; the counters are cumulative (started, completed, failed, and the accounts a completed run processed).
 */
export const connectionJobs = pgTable(
  "connection_jobs",
  {
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    job: text("job").notNull(),
    /** The job's interval as last declared; the next slot is computed from it. */
    intervalMinutes: integer("interval_minutes").notNull(),
    nextRunAt: tz("next_run_at"),
    lastStartedAt: tz("last_started_at"),
    lastFinishedAt: tz("last_finished_at"),
    /** completed | failed | running */
    lastOutcome: text("last_outcome"),
    /** The last failure's reason (an error class or code, never a payload). */
    lastError: text("last_error"),
    started: integer("started").notNull().default(0),
    completed: integer("completed").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    accountsProcessed: integer("accounts_processed").notNull().default(0),
    /** Items the runs processed and those that failed (parked or refused), as the job reports them. */
    items: integer("items").notNull().default(0),
    itemErrors: integer("item_errors").notNull().default(0),
    /** Items the job holds parked (exhausted or refused, waiting for an operator), as its last run counted. */
    parked: integer("parked").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.job] }), index("connection_jobs_due_idx").on(t.nextRunAt)],
);

/** One row per job run: what the error-rate alert reads over its window. */
export const connectionJobRuns = pgTable(
  "connection_job_runs",
  {
    runId: text("run_id").primaryKey(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    provider: text("provider").notNull(),
    job: text("job").notNull(),
    startedAt: tz("started_at").notNull().defaultNow(),
    finishedAt: tz("finished_at"),
    /** running | completed | failed */
    outcome: text("outcome").notNull(),
    items: integer("items").notNull().default(0),
    itemErrors: integer("item_errors").notNull().default(0),
    error: text("error"),
  },
  (t) => [index("connection_job_runs_recent_idx").on(t.startedAt)],
);

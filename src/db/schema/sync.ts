import { bigint, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { tz } from "./columns";

export const FUB_ENTITIES = [
  "people",
  "deals",
  "events",
  "calls",
  "textMessages",
  "appointments",
  "users",
  "groups",
  "stages",
] as const;

/** Column prefix of an entity in the per-entity job tables: `textMessages` → `text_messages`. */
export function entityColumnPrefix(entity: string): string {
  return entity.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const IDENT = /^[a-z][a-z0-9_]*$/;

/**
 * A quoted identifier built from the connector registry (`fub_sync_state`, `text_messages_status`), checked
 * anyway because it is spliced into SQL.
 */
export function mirrorIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return `"${name}"`;
}

/** Per (connection, entity) sync state, mirrored from the account's Durable Object for SQL reporting. */
export const fubSyncState = pgTable(
  "fub_sync_state",
  {
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    entity: text("entity").notNull(),
    mode: text("mode").notNull(),
    status: text("status").notNull(),
    cursor: jsonb("cursor"),
    lastSyncAt: tz("last_sync_at"),
    lastStartedAt: tz("last_started_at"),
    lastFinishedAt: tz("last_finished_at"),
    recordsSynced: bigint("records_synced", { mode: "number" }).notNull().default(0),
    /** Open failed records of the entity; with any, a finished run reads COMPLETED_WITH_ERRORS. */
    recordsFailed: bigint("records_failed", { mode: "number" }).notNull().default(0),
    errorMessage: text("error_message"),
    /** The open failures' reasons, `[{code, count, message}]`, as the old system's error_list. */
    errorList: jsonb("error_list"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.entity] }),
    index("fub_sync_state_account_idx").on(t.accountId),
  ],
);

// The job tables keep the wide one-row-per-connection shape of the system this platform replaces
// (`people_status`, `people_fub`, `people_ad`, ...), so existing reports keep working.
function perEntity<T>(make: (prefix: string) => Record<string, T>): Record<string, T> {
  return Object.assign({}, ...FUB_ENTITIES.map((e) => make(entityColumnPrefix(e))));
}

const statusColumns = (p: string) => ({
  [`${p}Status`]: text(`${p}_status`),
  [`${p}LastStartedAt`]: tz(`${p}_last_started_at`),
  [`${p}LastFinishedAt`]: tz(`${p}_last_finished_at`),
});

/**
 * One row per connection: the latest run of each entity (any mode), and the daily reconciliation's counts,
 * `{entity}_fub` (the provider's total) against `{entity}_ad` (our non-deleted core rows).
 */
export const fubSyncJobs = pgTable(
  "fub_sync_jobs",
  {
    connectionId: text("connection_id").primaryKey(),
    accountId: text("account_id").notNull(),
    ...perEntity((p) => ({
      ...statusColumns(p),
      [`${p}Fub`]: bigint(`${p}_fub`, { mode: "number" }),
      [`${p}Ad`]: bigint(`${p}_ad`, { mode: "number" }),
    })),
    reconciledAt: tz("reconciled_at"),
    /** Open failures of every entity of the connection, `[{entity, code, count, message}]`. */
    errorList: jsonb("error_list"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("fub_sync_jobs_account_idx").on(t.accountId)],
);

/** One row per connection: each entity's latest onboarding (backfill) run and its progress. */
export const fubOnboardingJobs = pgTable(
  "fub_onboarding_jobs",
  {
    connectionId: text("connection_id").primaryKey(),
    accountId: text("account_id").notNull(),
    ...perEntity((p) => ({
      ...statusColumns(p),
      [`${p}Pages`]: integer(`${p}_pages`),
      [`${p}Records`]: bigint(`${p}_records`, { mode: "number" }),
      [`${p}Total`]: bigint(`${p}_total`, { mode: "number" }),
    })),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("fub_onboarding_jobs_account_idx").on(t.accountId)],
);

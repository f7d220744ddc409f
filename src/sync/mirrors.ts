import { entityColumnPrefix, mirrorIdent } from "../db/schema/sync";

// The sync-state mirrors keep the wide shape of the system this platform replaces, one set per provider
// (`<provider>_sync_state`, `<provider>_sync_jobs`, `<provider>_onboarding_jobs`, with `people_status`,
// `people_<provider>`, `people_ad`, ...), so existing reports keep working. They are derived here from a
// connector's entity list, so a provider added to the registry gets its mirrors without an engine change.

/** The three mirror tables of a provider. */
export function mirrorTables(provider: string): { state: string; jobs: string; onboarding: string } {
  return {
    state: `${provider}_sync_state`,
    jobs: `${provider}_sync_jobs`,
    onboarding: `${provider}_onboarding_jobs`,
  };
}

type Column = { name: string; type: string };

const statusColumns = (p: string): Column[] => [
  { name: `${p}_status`, type: "text" },
  { name: `${p}_last_started_at`, type: "timestamp with time zone" },
  { name: `${p}_last_finished_at`, type: "timestamp with time zone" },
];

/**
 * Per-entity columns of the connection-wide job tables. `{entity}_<provider>` is the provider's own total,
 * `{entity}_ad` our non-deleted core rows, as the replaced system named them.
 */
export function mirrorEntityColumns(
  provider: string,
  entity: string,
): { jobs: Column[]; onboarding: Column[] } {
  const p = entityColumnPrefix(entity);
  return {
    jobs: [
      ...statusColumns(p),
      { name: `${p}_${provider}`, type: "bigint" },
      { name: `${p}_ad`, type: "bigint" },
    ],
    onboarding: [
      ...statusColumns(p),
      { name: `${p}_pages`, type: "integer" },
      { name: `${p}_records`, type: "bigint" },
      { name: `${p}_total`, type: "bigint" },
    ],
  };
}

const addColumns = (table: string, cols: Column[]) =>
  cols.map(
    (c) => `ALTER TABLE ${mirrorIdent(table)} ADD COLUMN IF NOT EXISTS ${mirrorIdent(c.name)} ${c.type}`,
  );

/**
 * Idempotent DDL creating (or completing, when the provider gained entities) a provider's mirrors: safe on
 * every migration run. Every statement is checked identifier by identifier, since each is spliced into SQL.
 * The tables hold account rows, so each gets the forced tenant policy.
 */
export function mirrorDdl(provider: string, entities: readonly string[]): string[] {
  const t = mirrorTables(provider);
  const state = mirrorIdent(t.state);
  const jobs = mirrorIdent(t.jobs);
  const onboarding = mirrorIdent(t.onboarding);
  const perEntity = entities.map((e) => mirrorEntityColumns(provider, e));
  return [
    `CREATE TABLE IF NOT EXISTS ${state} (
      "account_id" text NOT NULL,
      "connection_id" text NOT NULL,
      "entity" text NOT NULL,
      "mode" text NOT NULL,
      "status" text NOT NULL,
      "cursor" jsonb,
      "last_sync_at" timestamp with time zone,
      "last_started_at" timestamp with time zone,
      "last_finished_at" timestamp with time zone,
      "records_synced" bigint DEFAULT 0 NOT NULL,
      "records_failed" bigint DEFAULT 0 NOT NULL,
      "error_message" text,
      "error_list" jsonb,
      "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
      PRIMARY KEY ("connection_id", "entity"))`,
    `CREATE INDEX IF NOT EXISTS ${mirrorIdent(`${t.state}_account_idx`)} ON ${state} USING btree ("account_id")`,
    `CREATE TABLE IF NOT EXISTS ${jobs} (
      "connection_id" text PRIMARY KEY NOT NULL,
      "account_id" text NOT NULL,
      "reconciled_at" timestamp with time zone,
      "error_list" jsonb,
      "updated_at" timestamp with time zone DEFAULT now() NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${mirrorIdent(`${t.jobs}_account_idx`)} ON ${jobs} USING btree ("account_id")`,
    `CREATE TABLE IF NOT EXISTS ${onboarding} (
      "connection_id" text PRIMARY KEY NOT NULL,
      "account_id" text NOT NULL,
      "updated_at" timestamp with time zone DEFAULT now() NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${mirrorIdent(`${t.onboarding}_account_idx`)} ON ${onboarding} USING btree ("account_id")`,
    ...perEntity.flatMap((c) => addColumns(t.jobs, c.jobs)),
    ...perEntity.flatMap((c) => addColumns(t.onboarding, c.onboarding)),
    ...[t.state, t.jobs, t.onboarding].map((name) => `SELECT etl_enable_rls('${mirrorIdent(name)}')`),
  ];
}

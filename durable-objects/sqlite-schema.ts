/**
 * In-object schema, applied idempotently on first use. The object's SQLite is the source of truth for
 * cursors, leases and timers; Postgres only mirrors sync state for reporting.
 */
export const SQLITE_SCHEMA = [
  `create table if not exists meta (key text primary key, value text not null)`,
  `create table if not exists sync_state (
     connection_id text not null,
     entity text not null,
     provider text not null,
     mode text not null,
     status text not null,
     run_id text,
     page_no integer not null default 0,
     next_url text,
     cursor_json text,
     run_cursor_json text,
     last_sync_at integer,
     last_started_at integer,
     last_finished_at integer,
     records_synced integer not null default 0,
     run_records integer not null default 0,
     run_total integer,
     error_message text,
     fan_out_json text,
     parent_watermark text,
     origin text,
     primary key (connection_id, entity)
   )`,
  `create table if not exists leases (name text primary key, holder text not null, expires_at integer not null)`,
  // Breaker and rate budget live here, not in memory, so an evicted object resumes with the same verdicts.
  `create table if not exists breakers (
     connection_id text primary key, state_json text not null, config_json text,
     opened integer not null default 0, closed integer not null default 0
   )`,
  // What the breaker-open alert needs to know in Postgres (open since when, or closed), until it got there.
  `create table if not exists breaker_reports (
     connection_id text primary key, open integer not null, since integer, gen integer not null,
     pushed integer not null default 0, attempts integer not null default 0, last_error text
   )`,
  `create table if not exists budgets (connection_id text primary key, state_json text not null, config_json text)`,
  `create table if not exists timers (
     name text primary key, due_at integer not null, payload text not null, gen integer not null default 1
   )`,
];

/** Columns added to a table after objects already had it: `create table if not exists` leaves those alone. */
const ADDED_COLUMNS: { table: string; column: string; type: string }[] = [
  { table: "sync_state", column: "fan_out_json", type: "text" },
  { table: "sync_state", column: "parent_watermark", type: "text" },
  { table: "sync_state", column: "origin", type: "text" },
  { table: "sync_state", column: "run_cursor_json", type: "text" },
  { table: "sync_state", column: "run_requests", type: "integer not null default 0" },
  { table: "sync_state", column: "run_rate_limited", type: "integer not null default 0" },
  { table: "sync_state", column: "run_provider_errors", type: "integer not null default 0" },
];

export function applySqliteSchema(sql: SqlStorage): void {
  for (const statement of SQLITE_SCHEMA) sql.exec(statement);
  for (const { table, column, type } of ADDED_COLUMNS) {
    const present = sql
      .exec<{ name: string }>(`select name from pragma_table_info('${table}')`)
      .toArray()
      .some((c) => c.name === column);
    if (!present) sql.exec(`alter table ${table} add column ${column} ${type}`);
  }
}

import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { spanAccountsExpr } from "./tenant";

/** Why the request role could read past its tenant (see etl_role_bypasses in the migrations). */
export type Bypass = "superuser" | "bypassrls" | "owns_account_table" | "spans_accounts";

export type RequestRoleCheck = {
  /** Reasons the role is not held to its tenant; empty when it is. */
  bypasses: Bypass[];
  /** Account tables whose tenant policy is missing or not forced. */
  tablesWithoutForcedPolicy: number;
  /** The role's defaults, in milliseconds; 0 means none (a hung query would hold its caller). */
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
};

/** One round trip on the request role's own connection: what row-level security holds it to. */
export async function checkRequestRole(db: Db): Promise<RequestRoleCheck> {
  const result = await db.execute(sql`
    select array(select reason from etl_role_bypasses() order by 1) as bypasses,
           (select count(*)::int from etl_rls_gaps()) as gaps,
           (select setting::int from pg_settings where name = 'statement_timeout') as statement_ms,
           (select setting::int from pg_settings where name = 'idle_in_transaction_session_timeout') as idle_ms`);
  const row = result.rows[0] as { bypasses: Bypass[]; gaps: number; statement_ms: number; idle_ms: number };
  return {
    bypasses: row.bypasses,
    tablesWithoutForcedPolicy: row.gaps,
    statementTimeoutMs: row.statement_ms,
    idleInTransactionTimeoutMs: row.idle_ms,
  };
}

/** Whether the system connection's role may span accounts (it must, for the consumer, cron and routing). */
export async function checkSystemRole(db: Db): Promise<boolean> {
  return db.transaction(async (tx) => {
    const result = await tx.execute(sql`select ${spanAccountsExpr} as spans`);
    return (result.rows[0] as { spans: boolean }).spans === true;
  });
}

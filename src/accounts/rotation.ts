import type { SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import { blobKid, CryptoError, credentialAad, type Keyring, reencryptSecret } from "../core/crypto";

/** Anything that runs a drizzle SQL query: the Worker's Neon client or node-postgres in the tool. */
export type SqlExecutor = { execute(query: SQL): Promise<{ rows: unknown[] }> };

export type RotationReport = {
  currentKid: string;
  scanned: number;
  rotated: number;
  alreadyCurrent: number;
  /** Rewritten by someone else between our read and our write; checked again on the next run. */
  raced: number;
  /** Connection ids and a reason code only: never key material or plaintext. */
  failed: { connectionId: string; reason: string }[];
};

type Row = { id: string; account_id: string; credentials_enc: string };

/**
 * Re-encrypts every connection's credentials with the keyring's current key, so older keys can be dropped
 * from CREDENTIALS_KEY once a run reports nothing left on them. Keyset-paged and compare-and-set per row:
 * safe to run while the Worker writes credentials (OAuth refresh), and safe to re-run.
 * Spans accounts: run it as the tables' owner with app.all_accounts set (row-level security is forced, so an
 * owner without BYPASSRLS sees only through etl_system's all-accounts policy), or as etl_system.
 */
export async function rotateCredentialsKey(
  db: SqlExecutor,
  keyring: Keyring,
  opts: { accountId?: string; batchSize?: number; dryRun?: boolean } = {},
): Promise<RotationReport> {
  const report: RotationReport = {
    currentKid: keyring.currentKid,
    scanned: 0,
    rotated: 0,
    alreadyCurrent: 0,
    raced: 0,
    failed: [],
  };
  const batchSize = opts.batchSize ?? 200;
  let after = "";
  for (;;) {
    const page = (
      await db.execute(sql`
        select id, account_id, credentials_enc from connections
        where id > ${after} ${opts.accountId ? sql`and account_id = ${opts.accountId}` : sql``}
        order by id limit ${batchSize}`)
    ).rows as Row[];
    if (page.length === 0) return report;
    after = page[page.length - 1]?.id ?? after;
    for (const row of page) {
      report.scanned++;
      try {
        if (blobKid(row.credentials_enc) === keyring.currentKid) {
          report.alreadyCurrent++;
          continue;
        }
        const next = await reencryptSecret(
          keyring,
          row.credentials_enc,
          credentialAad(row.account_id, row.id),
        );
        if (opts.dryRun) {
          report.rotated++;
          continue;
        }
        const updated = await db.execute(sql`
          update connections set credentials_enc = ${next}
          where id = ${row.id} and credentials_enc = ${row.credentials_enc} returning id`);
        if (updated.rows.length === 1) report.rotated++;
        else report.raced++;
      } catch (error) {
        report.failed.push({
          connectionId: row.id,
          reason: error instanceof CryptoError ? error.code : "update_failed",
        });
      }
    }
  }
}

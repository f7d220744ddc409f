// Re-encrypts every connection's credentials with the current (first) key of CREDENTIALS_KEY.
//
//   1. Put the new key first, keep the old one after it:  CREDENTIALS_KEY="k2:<new>,k1:<old>"
//      and deploy the Worker with that value (it decrypts with both, encrypts with k2).
//   2. DATABASE_URL=<owner url> CREDENTIALS_KEY="k2:<new>,k1:<old>" npx tsx tools/rotate-credentials-key.ts
//   3. When the report says failed: 0 and a re-run rotates 0, drop k1 from CREDENTIALS_KEY everywhere.
//
// Flags: --account <id> (one account only), --dry-run (decrypt and re-encrypt, write nothing).
// The report names connection ids and counts only; no secret is ever printed.

import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { rotateCredentialsKey } from "../src/accounts/rotation";
import { parseKeyring } from "../src/core/crypto";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  const secret = process.env.CREDENTIALS_KEY;
  if (!url || !secret) {
    console.error("set DATABASE_URL (the tables' owner) and CREDENTIALS_KEY (new key first, old keys after)");
    return 2;
  }
  const keyring = await parseKeyring(secret);
  // Row-level security is forced: an owner without BYPASSRLS sees every account only through etl_system's
  // all-accounts policy (migration 0011 grants the owner etl_system), so the flag is set for the session.
  const pool = new pg.Pool({ connectionString: url, max: 2, options: "-c app.all_accounts=on" });
  try {
    const accountId = flag("--account");
    const report = await rotateCredentialsKey(drizzle(pool), keyring, {
      dryRun: process.argv.includes("--dry-run"),
      ...(accountId ? { accountId } : {}),
    });
    console.log(JSON.stringify(report, null, 2));
    if (report.failed.length > 0) {
      console.error(`${report.failed.length} connection(s) could not be re-encrypted; keep the old keys`);
      return 1;
    }
    return 0;
  } finally {
    await pool.end();
  }
}

process.exitCode = await main();

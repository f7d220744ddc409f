import { sql } from "drizzle-orm";
import { sha256Hex } from "../core/crypto";
import type { Db } from "../db/client";

/** Account keys look like `etl_<random>`; anything else is not worth a database round trip. */
export const API_KEY_PREFIX = "etl_";

/**
 * The account an API key belongs to, or null. Only the key's SHA-256 is stored; the lookup goes through a
 * SECURITY DEFINER function because no account is known yet, so row-level security would hide every row.
 */
export async function accountForApiKey(db: Db, apiKey: string): Promise<string | null> {
  if (!apiKey.startsWith(API_KEY_PREFIX) || apiKey.length > 200) return null;
  const result = await db.execute(sql`select etl_account_for_api_key(${await sha256Hex(apiKey)}) as id`);
  const id = (result.rows[0] as { id: string | null } | undefined)?.id;
  return id ?? null;
}

import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createAccount, createConnection } from "../../src/accounts/accounts";
import { loadConnection } from "../../src/accounts/connections";
import { rotateCredentialsKey } from "../../src/accounts/rotation";
import { blobKid, parseKeyring } from "../../src/core/crypto";
import { rows, uniqueId, withTestDb } from "../support/db";

const NEW_KEY = `k2:${btoa("N".repeat(32))}`;
const OLD_KEY = env.CREDENTIALS_KEY;
const SECRETS = { apiKey: "rotate-me-api-key", systemKey: "rotate-me-system-key" };

let accountId: string;
const connectionIds: string[] = [];

beforeAll(async () => {
  const keyring = await parseKeyring(OLD_KEY);
  accountId = uniqueId("acc");
  await withTestDb(async (db) => {
    await createAccount(db, { id: accountId, name: "rotation" });
    for (let i = 0; i < 3; i++) {
      const view = await createConnection(db, keyring, {
        accountId,
        id: uniqueId("con"),
        provider: "fub",
        credentials: { ...SECRETS, n: String(i) },
      });
      connectionIds.push(view.id);
    }
  });
});

async function blobs(): Promise<{ id: string; credentials_enc: string }[]> {
  return rows(sql`select id, credentials_enc from connections where account_id = ${accountId} order by id`);
}

describe("credentials at rest", () => {
  it("stores AES-GCM blobs under the current key id, never the plain values", async () => {
    for (const row of await blobs()) {
      expect(blobKid(row.credentials_enc)).toBe("test1");
      expect(row.credentials_enc).not.toContain(SECRETS.apiKey);
    }
  });

  it("a ciphertext moved to another account (or connection) does not decrypt", async () => {
    const keyring = await parseKeyring(OLD_KEY);
    const other = uniqueId("acc");
    const victim = connectionIds[0] ?? "";
    const [row] = await blobs();
    await withTestDb(async (db) => {
      await createAccount(db, { id: other, name: "thief" });
      // Same blob under another account, then under another connection id of the same account.
      await db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                           values (${`${victim}_copy`}, ${other}, 'fub', ${row?.credentials_enc ?? ""})`);
      await expect(loadConnection(db, keyring, other, `${victim}_copy`)).rejects.toMatchObject({
        code: "decrypt_failed",
      });
      await db.execute(sql`update connections set account_id = ${accountId} where id = ${`${victim}_copy`}`);
      await expect(loadConnection(db, keyring, accountId, `${victim}_copy`)).rejects.toMatchObject({
        code: "decrypt_failed",
      });
      await db.execute(sql`delete from connections where id = ${`${victim}_copy`}`);
      // The original still decrypts where it belongs.
      const loaded = await loadConnection(db, keyring, accountId, victim);
      expect(loaded.credentials).toMatchObject(SECRETS);
    });
  });

  it("rotates every blob to the new key, after which the old key can be removed", async () => {
    const both = await parseKeyring(`${NEW_KEY},${OLD_KEY}`);
    const report = await withTestDb((db) => rotateCredentialsKey(db, both, { accountId, batchSize: 2 }));
    expect(report).toEqual({
      currentKid: "k2",
      scanned: 3,
      rotated: 3,
      alreadyCurrent: 0,
      raced: 0,
      failed: [],
    });
    for (const row of await blobs()) expect(blobKid(row.credentials_enc)).toBe("k2");

    const newOnly = await parseKeyring(NEW_KEY);
    await withTestDb(async (db) => {
      for (const [i, id] of connectionIds.entries()) {
        const loaded = await loadConnection(db, newOnly, accountId, id);
        expect(loaded.credentials).toEqual({ ...SECRETS, n: String(i) });
      }
      const oldOnly = await parseKeyring(OLD_KEY);
      await expect(loadConnection(db, oldOnly, accountId, connectionIds[0] ?? "")).rejects.toMatchObject({
        code: "unknown_key",
      });
    });

    const again = await withTestDb((db) => rotateCredentialsKey(db, both, { accountId }));
    expect(again).toMatchObject({ scanned: 3, rotated: 0, alreadyCurrent: 3 });
  });

  it("reports a blob it cannot decrypt by connection id and reason only, leaving it untouched", async () => {
    const id = uniqueId("con");
    const bogus = "v1.k2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA";
    await withTestDb((db) =>
      db.execute(sql`insert into connections (id, account_id, provider, credentials_enc)
                     values (${id}, ${accountId}, 'fub', ${bogus})`),
    );
    const keyring = await parseKeyring(`k3:${btoa("T".repeat(32))},${NEW_KEY}`);
    const report = await withTestDb((db) => rotateCredentialsKey(db, keyring, { accountId }));
    expect(report.failed).toEqual([{ connectionId: id, reason: "decrypt_failed" }]);
    expect(report.rotated).toBe(3);
    expect(JSON.stringify(report)).not.toContain(SECRETS.apiKey);
    const kept = await rows<{ credentials_enc: string }>(
      sql`select credentials_enc from connections where id = ${id}`,
    );
    expect(kept[0]?.credentials_enc).toBe(bogus);
  });
});

import {
  blobKid,
  CryptoError,
  credentialAad,
  decryptSecret,
  encryptSecret,
  parseKeyring,
  randomToken,
  reencryptSecret,
  sha256Hex,
} from "../../src/core/crypto";
import { assertEqual, assertRejects, assertTrue, test } from "./harness";

function keyB64(fill: number): string {
  return btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
}

const K1 = `k1:${keyB64(1)}`;
const K2 = `k2:${keyB64(2)}`;

function isCrypto(code: string) {
  return (e: unknown) => e instanceof CryptoError && e.code === code;
}

test("crypto: roundtrip with AAD", async () => {
  const ring = await parseKeyring(K1);
  const aad = credentialAad("acct_1", "conn_1");
  const blob = await encryptSecret(ring, "api-key-123 ✓", aad);
  assertTrue(blob.startsWith("v1.k1."));
  assertEqual(blob.split(".").length, 4);
  assertTrue(!blob.includes("api-key"));
  assertEqual(await decryptSecret(ring, blob, aad), "api-key-123 ✓");
});

test("crypto: IV is random per encryption", async () => {
  const ring = await parseKeyring(K1);
  const a = await encryptSecret(ring, "same", "aad");
  const b = await encryptSecret(ring, "same", "aad");
  assertTrue(a !== b);
});

test("crypto: ciphertext moved to another account or connection fails", async () => {
  const ring = await parseKeyring(K1);
  const blob = await encryptSecret(ring, "secret", credentialAad("acct_1", "conn_1"));
  await assertRejects(
    () => decryptSecret(ring, blob, credentialAad("acct_2", "conn_1")),
    isCrypto("decrypt_failed"),
  );
  await assertRejects(
    () => decryptSecret(ring, blob, credentialAad("acct_1", "conn_2")),
    isCrypto("decrypt_failed"),
  );
  assertTrue(credentialAad("a:b", "c") !== credentialAad("a", "b:c"));
});

test("crypto: tampered ciphertext or IV fails", async () => {
  const ring = await parseKeyring(K1);
  const blob = await encryptSecret(ring, "secret", "aad");
  const [v, kid, iv, ct] = blob.split(".") as [string, string, string, string];
  const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
  await assertRejects(
    () => decryptSecret(ring, [v, kid, iv, flip(ct)].join("."), "aad"),
    isCrypto("decrypt_failed"),
  );
  await assertRejects(
    () => decryptSecret(ring, [v, kid, flip(iv), ct].join("."), "aad"),
    isCrypto("decrypt_failed"),
  );
  await assertRejects(() => decryptSecret(ring, "garbage", "aad"), isCrypto("bad_blob"));
});

test("crypto: rotation re-encrypts under the new key; old key can then be removed", async () => {
  const aad = credentialAad("acct_1", "conn_1");
  const oldRing = await parseKeyring(K1);
  const blob = await encryptSecret(oldRing, "refresh-token", aad);

  const rotating = await parseKeyring(`${K2},${K1}`);
  assertEqual(rotating.currentKid, "k2");
  assertEqual(await decryptSecret(rotating, blob, aad), "refresh-token");
  const rotated = await reencryptSecret(rotating, blob, aad);
  assertEqual(blobKid(rotated), "k2");

  const newOnly = await parseKeyring(K2);
  assertEqual(await decryptSecret(newOnly, rotated, aad), "refresh-token");
  const err = await assertRejects(() => decryptSecret(newOnly, blob, aad), isCrypto("unknown_key"));
  assertTrue(!String(err).includes(keyB64(1)));
});

test("crypto: bad keyrings are rejected without echoing key material", async () => {
  const shortKey = btoa("too-short-key");
  for (const bad of [
    "",
    "nokid",
    `k1:${shortKey}`,
    "k1:!!!notbase64",
    `${K1},${K1}`,
    `bad kid:${keyB64(3)}`,
  ]) {
    const err = await assertRejects(
      () => parseKeyring(bad),
      isCrypto("bad_keyring"),
      `keyring ${JSON.stringify(bad)}`,
    );
    assertTrue(!String((err as Error).message).includes(shortKey));
  }
});

test("crypto: sha256Hex and randomToken", async () => {
  assertEqual(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const t = randomToken();
  assertTrue(/^[A-Za-z0-9_-]{43}$/.test(t), t);
  assertTrue(randomToken() !== t);
  assertEqual(randomToken(16).length, 22);
});

// Provider credentials at rest: AES-256-GCM with a random 96-bit IV, a key id so
// keys can rotate, and additional authenticated data binding each ciphertext to the
// (account, connection) it belongs to, so a blob copied to another row won't decrypt.

import { fromBase64, fromBase64Url, fromUtf8, toBase64Url, toHex, utf8 } from "./encoding";

export type Keyring = { currentKid: string; keys: Map<string, CryptoKey> };

export type CryptoErrorCode = "bad_keyring" | "bad_blob" | "unknown_key" | "decrypt_failed";

/** Messages never carry plaintext or key material: they end up in logs. */
export class CryptoError extends Error {
  constructor(
    public readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CryptoError";
  }
}

const VERSION = "v1";
const IV_BYTES = 12;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export async function parseKeyring(secret: string): Promise<Keyring> {
  const entries = secret
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (entries.length === 0) throw new CryptoError("bad_keyring", "keyring is empty");

  const keys = new Map<string, CryptoKey>();
  let currentKid: string | undefined;
  for (const [index, entry] of entries.entries()) {
    const sep = entry.indexOf(":");
    const kid = sep === -1 ? "" : entry.slice(0, sep);
    if (!KID_PATTERN.test(kid)) {
      throw new CryptoError("bad_keyring", `keyring entry ${index + 1}: expected "<kid>:<base64 key>"`);
    }
    if (keys.has(kid))
      throw new CryptoError("bad_keyring", `keyring entry ${index + 1}: duplicate kid "${kid}"`);
    let raw: Uint8Array;
    try {
      raw = fromBase64(entry.slice(sep + 1));
    } catch {
      throw new CryptoError("bad_keyring", `keyring kid "${kid}": key is not base64`);
    }
    if (raw.length !== 32) {
      throw new CryptoError("bad_keyring", `keyring kid "${kid}": key must be 32 bytes, got ${raw.length}`);
    }
    const key = await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    keys.set(kid, key);
    currentKid ??= kid;
  }
  return { currentKid: currentKid!, keys };
}

export function credentialAad(accountId: string, connectionId: string): string {
  // Length-prefixed so ("a:b", "c") and ("a", "b:c") can never produce the same AAD.
  return `credential:${accountId.length}:${accountId}:${connectionId.length}:${connectionId}`;
}

export async function encryptSecret(keyring: Keyring, plaintext: string, aad: string): Promise<string> {
  const key = keyring.keys.get(keyring.currentKid);
  if (!key) throw new CryptoError("unknown_key", `current kid "${keyring.currentKid}" is not in the keyring`);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(aad) as Uint8Array<ArrayBuffer> },
    key,
    utf8(plaintext) as Uint8Array<ArrayBuffer>,
  );
  return [VERSION, keyring.currentKid, toBase64Url(iv), toBase64Url(new Uint8Array(ciphertext))].join(".");
}

type ParsedBlob = { kid: string; iv: Uint8Array; ciphertext: Uint8Array };

function parseBlob(blob: string): ParsedBlob {
  const parts = blob.split(".");
  const [version, kid, iv, ciphertext] = parts;
  if (parts.length !== 4 || version !== VERSION || !kid || iv === undefined || ciphertext === undefined) {
    throw new CryptoError("bad_blob", "encrypted value has an unknown format");
  }
  try {
    const parsed = { kid, iv: fromBase64Url(iv), ciphertext: fromBase64Url(ciphertext) };
    if (parsed.iv.length !== IV_BYTES) throw new Error("iv length");
    return parsed;
  } catch {
    throw new CryptoError("bad_blob", "encrypted value is malformed");
  }
}

/** The key id a blob was encrypted with, e.g. to find rows still on a retired key. */
export function blobKid(blob: string): string {
  return parseBlob(blob).kid;
}

export async function decryptSecret(keyring: Keyring, blob: string, aad: string): Promise<string> {
  const { kid, iv, ciphertext } = parseBlob(blob);
  const key = keyring.keys.get(kid);
  if (!key) throw new CryptoError("unknown_key", `no key with kid "${kid}" in the keyring`);
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: iv as Uint8Array<ArrayBuffer>,
        additionalData: utf8(aad) as Uint8Array<ArrayBuffer>,
      },
      key,
      ciphertext as Uint8Array<ArrayBuffer>,
    );
  } catch {
    // GCM does not say whether the key, the AAD or the bytes were wrong, and neither do we.
    throw new CryptoError("decrypt_failed", "could not decrypt value (wrong key, wrong context or tampered)");
  }
  return fromUtf8(new Uint8Array(plaintext));
}

/** Decrypts with whichever key the blob names and encrypts with the current key (fresh IV). */
export async function reencryptSecret(keyring: Keyring, blob: string, aad: string): Promise<string> {
  return encryptSecret(keyring, await decryptSecret(keyring, blob, aad), aad);
}

export async function sha256Hex(s: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(s) as Uint8Array<ArrayBuffer>)));
}

export function randomToken(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

// A provider that counts requests per credential (e.g. per API key) gives every holder of that credential one
// budget, whichever connection or account the request comes from. The budget is found by a fingerprint of the
// credential, never by the credential itself: the fingerprint names a Durable Object and appears (shortened) in
// the status, and neither may carry the secret.

import { sha256Hex } from "./crypto";

/** Separates these digests from every other SHA-256 the platform takes (API key hashes, content hashes). */
const DOMAIN = "edge-etl/rate-budget/v1";

/**
 * The name of the budget a credential shares: SHA-256 of the provider and the credential's value. One-way, so the
 * name reveals nothing of a key, and stable across deploys and keyring rotations (a keyed hash would split a
 * shared budget whenever its key changed). The same key at two providers is two budgets.
 */
export async function rateBudgetFingerprint(provider: string, identity: string): Promise<string> {
  return sha256Hex(`${DOMAIN}\u0000${provider}\u0000${identity}`);
}

/** The short form shown to operators: enough to tell two budgets apart, not a usable digest. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

import type { Credentials } from "../connectors/types";
import { credentialAad, decryptSecret, type Keyring, parseKeyring } from "../core/crypto";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { findWebhookTarget } from "./inbox";

/** Where a webhook URL routes and the secret its signature is checked with. In memory only, never logged. */
export type ResolvedTarget = {
  accountId: string;
  connectionId: string;
  provider: string;
  credentials: Credentials;
  /** when this copy was read from Postgres (epoch ms) */
  loadedAt: number;
};

/**
 * How long a routing entry may be served from memory. Bounds how long a deleted connection keeps accepting
 * events (they are recorded, then finished as "connection no longer exists") and how long a rotated secret
 * takes to show up; a bad signature against a cached entry re-reads it at once, so rotation costs no 401s.
 */
export const TARGET_TTL_MS = 60_000;
const MAX_ENTRIES = 1_000;

type Entry = { target: ResolvedTarget; expiresAt: number };

/**
 * Per-isolate caches. The database URL is part of the key so an isolate serving two configurations (tests do)
 * never answers one from the other's rows. Misses are single-flight: a burst of deliveries for a cold
 * connection makes one Postgres lookup, not one per request.
 */
const targets = new Map<string, Entry>();
const loading = new Map<string, Promise<ResolvedTarget | null>>();
const keyrings = new Map<string, Promise<Keyring>>();

export type TargetSource = {
  /** The connection row (system path: no account is known yet). Throws when Postgres can't be read. */
  find(env: Env, provider: string, connectionId: string): ReturnType<typeof findWebhookTarget>;
};

export const postgresTargets: TargetSource = {
  find: (env, provider, connectionId) => withDb(env, (db) => findWebhookTarget(db, provider, connectionId)),
};

/**
 * The account and verification credentials for POST /webhooks/:provider/:connectionId; null when no such
 * connection exists for that provider. `fresh` skips the cache (a signature failed against a cached copy).
 * Postgres unreachable → 503 `unavailable`; credentials that don't decrypt → 503 `credentials_unavailable`:
 * neither is the sender's fault, so the provider should retry.
 */
export async function resolveTarget(
  env: Env,
  provider: string,
  connectionId: string,
  opts: { now: number; fresh?: boolean; source?: TargetSource },
): Promise<ResolvedTarget | null> {
  const key = `${env.DATABASE_URL}\u0000${provider}\u0000${connectionId}`;
  const hit = targets.get(key);
  if (hit && !opts.fresh && hit.expiresAt > opts.now) return hit.target;
  const running = loading.get(key);
  if (running) return running;
  const load = loadTarget(env, provider, connectionId, opts.now, opts.source ?? postgresTargets)
    .then((target) => {
      if (target) remember(key, { target, expiresAt: opts.now + TARGET_TTL_MS });
      else targets.delete(key);
      return target;
    })
    .finally(() => loading.delete(key));
  loading.set(key, load);
  return load;
}

async function loadTarget(
  env: Env,
  provider: string,
  connectionId: string,
  now: number,
  source: TargetSource,
): Promise<ResolvedTarget | null> {
  let row: Awaited<ReturnType<TargetSource["find"]>>;
  try {
    row = await source.find(env, provider, connectionId);
  } catch {
    throw new AppError(503, "unavailable", "the event could not be recorded; retry the delivery later");
  }
  if (!row) return null;
  try {
    const plain = await decryptSecret(
      await keyringFor(env.CREDENTIALS_KEY),
      row.credentialsEnc,
      credentialAad(row.accountId, row.connectionId),
    );
    return {
      accountId: row.accountId,
      connectionId: row.connectionId,
      provider: row.provider,
      credentials: JSON.parse(plain) as Credentials,
      loadedAt: now,
    };
  } catch {
    // Our keyring or the stored blob is wrong, not the sender: let the provider retry once it is fixed.
    throw new AppError(503, "credentials_unavailable", "the connection's webhook secret could not be read");
  }
}

/** The parsed keyring, once per isolate per secret value (importing AES keys is not free). */
export function keyringFor(secret: string): Promise<Keyring> {
  let parsed = keyrings.get(secret);
  if (!parsed) {
    parsed = parseKeyring(secret);
    // A bad keyring is not cached: fixing the secret must take effect without a restart.
    parsed.catch(() => keyrings.delete(secret));
    keyrings.set(secret, parsed);
  }
  return parsed;
}

function remember(key: string, entry: Entry): void {
  targets.delete(key);
  targets.set(key, entry);
  // Map order is insertion order: the first key is the least recently loaded.
  while (targets.size > MAX_ENTRIES) {
    const oldest = targets.keys().next().value;
    if (oldest === undefined) break;
    targets.delete(oldest);
  }
}

/** Tests: forget every cached route and keyring. */
export function clearTargetCache(): void {
  targets.clear();
  keyrings.clear();
}

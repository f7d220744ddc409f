import type { Credentials } from "../connectors/types";
import { credentialAad, decryptSecret, type Keyring, parseKeyring } from "../core/crypto";
import { AppError } from "../core/errors";
import { systemDb, withDb } from "../db/client";
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
 * How long "no such connection" is served from memory, so a sender hammering an unknown URL costs no Postgres
 * connection per request. Short: a connection created meanwhile is found once the entry expires (and at once
 * in the isolate that created it, which forgets the miss).
 */
export const MISSING_TTL_MS = 60_000;
/** Misses are cheap to keep but unbounded in number (any URL): the oldest go first. */
const MAX_MISSES = 10_000;

/**
 * Per-isolate caches. The database URL is part of the key so an isolate serving two configurations (tests do)
 * never answers one from the other's rows.
 */
const targets = new Map<string, Entry>();
/** Keys known not to name a connection, with when that stops being trusted (epoch ms). */
const misses = new Map<string, number>();
const keyrings = new Map<string, Keyring>();
/**
 * Keys some request is reading from Postgres right now: a flag, never a shared promise. A request that awaits
 * a promise only another request's I/O can settle has nothing pending of its own, and the runtime cancels it
 * as hung (a 500 the sender never caused); probes at 64 concurrent deliveries hit that when a cached copy
 * expired. So a burst still makes one Postgres read: the others serve the expired copy meanwhile, or, with no
 * copy at all, wait on timers of their own for the read to land.
 */
const loading = new Set<string>();
const WAIT_STEP_MS = 5;
/** A read that takes longer than this stops being waited for: the waiter reads for itself. */
const MAX_WAIT_MS = 2_000;

export type TargetSource = {
  /** The connection row (system path: no account is known yet). Throws when Postgres can't be read. */
  find(env: Env, provider: string, connectionId: string): ReturnType<typeof findWebhookTarget>;
};

export const postgresTargets: TargetSource = {
  find: (env, provider, connectionId) =>
    withDb(systemDb(env), (db) => findWebhookTarget(db, provider, connectionId)),
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
  const key = targetKey(env, provider, connectionId);
  const hit = targets.get(key);
  if (hit && !opts.fresh && hit.expiresAt > opts.now) return hit.target;
  if (!opts.fresh && knownMissing(key, opts.now)) return null;
  if (!opts.fresh && loading.has(key)) {
    if (hit) return hit.target;
    for (let waited = 0; loading.has(key) && waited < MAX_WAIT_MS; waited += WAIT_STEP_MS)
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
    const landed = targets.get(key);
    if (landed) return landed.target;
    if (knownMissing(key, opts.now)) return null;
  }
  loading.add(key);
  try {
    const target = await loadTarget(env, provider, connectionId, opts.now, opts.source ?? postgresTargets);
    if (target) {
      misses.delete(key);
      remember(key, { target, expiresAt: opts.now + TARGET_TTL_MS });
    } else {
      targets.delete(key);
      rememberMissing(key, opts.now + MISSING_TTL_MS);
    }
    return target;
  } finally {
    loading.delete(key);
  }
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

/**
 * The parsed keyring, once per isolate per secret value (importing AES keys is not free). Only parsed keyrings
 * are kept, never a pending parse, for the reason `loading` is a flag: two first uses at once both parse.
 */
export async function keyringFor(secret: string): Promise<Keyring> {
  const cached = keyrings.get(secret);
  if (cached) return cached;
  // A bad keyring throws here and is not cached: fixing the secret must take effect without a restart.
  const parsed = await parseKeyring(secret);
  keyrings.set(secret, parsed);
  return parsed;
}

function targetKey(env: Env, provider: string, connectionId: string): string {
  return `${env.DATABASE_URL}\u0000${provider}\u0000${connectionId}`;
}

function knownMissing(key: string, now: number): boolean {
  const until = misses.get(key);
  if (until === undefined) return false;
  if (until > now) return true;
  misses.delete(key);
  return false;
}

function rememberMissing(key: string, until: number): void {
  misses.delete(key);
  misses.set(key, until);
  while (misses.size > MAX_MISSES) {
    const oldest = misses.keys().next().value;
    if (oldest === undefined) break;
    misses.delete(oldest);
  }
}

/** A connection was just created: stop answering its URL from a cached miss in this isolate. */
export function forgetMissingTarget(env: Env, provider: string, connectionId: string): void {
  misses.delete(targetKey(env, provider, connectionId));
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
  misses.clear();
  keyrings.clear();
  loading.clear();
}

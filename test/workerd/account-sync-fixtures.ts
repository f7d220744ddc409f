// Shared by the account-sync, breaker, admin and scheduled tests (not a test file itself).
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { AccountSync } from "../../durable-objects/account-sync";
import { syncSettingsFrom } from "../../durable-objects/settings";
import type { StepDeps } from "../../durable-objects/sync-runner";
import { mirrorSyncState, type SyncState } from "../../durable-objects/sync-state";
import { loadConnection } from "../../src/accounts/connections";
import { inTenant } from "../../src/accounts/tenant";
import { parseKeyring } from "../../src/core/crypto";
import { openDb } from "../../src/db/client";
import { uniqueId } from "../support/db";

export const sim = () => {
  if (!env.SIMULATOR_URL) throw new Error("SIMULATOR_URL binding missing (test/setup/workerd-global.ts)");
  return env.SIMULATOR_URL;
};

const ZERO_COUNTS = {
  people: 0,
  deals: 0,
  events: 0,
  calls: 0,
  textMessages: 0,
  appointments: 0,
  users: 0,
  groups: 0,
  stages: 0,
};

/** A fresh simulator tenant (its own API key and data); every entity not named starts empty. */
export async function simTenant(config: { counts?: Record<string, number>; [k: string]: unknown } = {}) {
  const apiKey = uniqueId("key");
  const res = await fetch(`${sim()}/_sim/tenants/${apiKey}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...config, counts: { ...ZERO_COUNTS, ...config.counts } }),
  });
  expect(res.status).toBe(201);
  return apiKey;
}

export async function simPut(apiKey: string, what: "faults", body: unknown) {
  const res = await fetch(`${sim()}/_sim/tenants/${apiKey}/${what}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

export async function simPost<T = Record<string, unknown>>(apiKey: string, what: string, body: unknown) {
  const res = await fetch(`${sim()}/_sim/tenants/${apiKey}/${what}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return res.json<T>();
}

export async function simSummary(apiKey: string) {
  const res = await fetch(`${sim()}/_sim/tenants/${apiKey}`);
  return res.json<{
    counts: Record<string, number>;
    requests: { served: number; rateLimited: number; byStatus: Record<string, number> };
  }>();
}

export async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return exports.default.fetch(`http://etl.test/admin${path}`, {
    method,
    headers: {
      authorization: "Bearer test-admin-token",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An account with one FUB connection pointing at a fresh simulator tenant. */
export async function fubAccount(
  opts: { tenant?: Record<string, unknown>; settings?: Record<string, unknown>; apiKey?: string } = {},
) {
  const apiKey = opts.apiKey ?? (await simTenant(opts.tenant));
  const accountId = uniqueId("acc");
  const connectionId = uniqueId("con");
  expect((await admin("POST", "/accounts", { id: accountId, name: "Test Realty" })).status).toBe(201);
  const res = await admin("POST", `/accounts/${accountId}/connections`, {
    id: connectionId,
    provider: "fub",
    credentials: { apiKey },
    baseUrl: sim(),
    settings: opts.settings ?? {},
  });
  expect(res.status).toBe(201);
  return { apiKey, accountId, connectionId };
}

export const stubFor = (accountId: string): DurableObjectStub<AccountSync> =>
  env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));

/** Polls until check returns a value (not undefined/false) or the time runs out. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}

export async function entityState(accountId: string, connectionId: string, entity: string) {
  const status = await stubFor(accountId).status([connectionId]);
  return status.connections
    .find((c) => c.connectionId === connectionId)
    ?.entities.find((e) => e.entity === entity);
}

/** Deps for calling runSyncStep directly inside the object (runInDurableObject), with overrides. */
export async function stepDeps(
  state: DurableObjectState,
  accountId: string,
  connectionId: string,
  overrides: Partial<StepDeps> = {},
): Promise<{ deps: StepDeps; close(): Promise<void> }> {
  const handle = openDb(env);
  const connection = await loadConnection(
    handle.db,
    await parseKeyring(env.CREDENTIALS_KEY),
    accountId,
    connectionId,
  );
  const deps: StepDeps = {
    sql: state.storage.sql,
    tenantDb: (fn) => inTenant(handle.db, accountId, fn),
    queue: env.TRANSFORMS,
    fetch: (i, init) => fetch(i, init),
    now: Date.now,
    accountId,
    connection,
    settings: syncSettingsFrom(connection.settings),
    pagesPerStep: 5,
    leaseTtlMs: 60_000,
    overlapMs: 60_000,
    onState: (s) => inTenant(handle.db, accountId, (db) => mirrorSyncState(db, accountId, s)),
    onComplete: async () => {},
    ...overrides,
  };
  return { deps, close: () => handle.close() };
}

/** A FUB run just started in the object's state (people, onboarding unless overridden), as tests set it up. */
export function freshRun(connectionId: string, fields: Partial<SyncState> = {}): SyncState {
  return {
    connectionId,
    entity: "people",
    provider: "fub",
    mode: "onboarding",
    status: "IN_PROGRESS",
    runId: crypto.randomUUID(),
    pageNo: 0,
    nextUrl: null,
    cursor: null,
    lastSyncAt: null,
    lastStartedAt: Date.now(),
    lastFinishedAt: null,
    recordsSynced: 0,
    runRecords: 0,
    runTotal: null,
    errorMessage: null,
    ...fields,
  };
}

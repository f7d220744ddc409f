import { env as workerEnv } from "cloudflare:workers";
import type { LoadedConnection } from "../src/accounts/connections";
import type { RateLimitPolicy } from "../src/connectors/types";
import { logger } from "../src/core/log";
import type { Priority } from "../src/core/rate-budget";
import { rateBudgetFingerprint, shortFingerprint } from "../src/core/rate-scope";
import { safeErrorMessage } from "../src/core/safe-error";
import type { Env } from "../src/env";
import {
  type Acquired,
  type BudgetFeedback,
  budgetStore,
  type RateBudgetView,
  type Settled,
} from "./budget-store";
import type { RateBudget } from "./rate-budget";

const log = logger("budget");

/** Where a connection's requests are granted and where each response's feedback goes: always the same budget. */
export interface BudgetGate {
  acquire(priority: Priority, policy: RateLimitPolicy, context: string): Promise<Acquired>;
  settle(feedback: BudgetFeedback): Promise<Settled>;
}

/** The shared budget named by a credential fingerprint (a RateBudget object, or a test's stand-in). */
export type SharedBudget = Pick<RateBudget, "acquire" | "settle" | "snapshot">;
export type SharedBudgets = (fingerprint: string) => SharedBudget;

/** The budget view of a connection in the status: its figures, and whose budget they are. */
export type BudgetView = RateBudgetView & {
  /** "credential": shared by every connection holding the same credential (any account); else the connection's. */
  scope: "connection" | "credential";
  shared: boolean;
  /** Short fingerprint of the shared budget (equal for connections that share it); null for a connection's own. */
  budgetId: string | null;
  /** The shared budget's object did not answer; the figures are then this object's empty ones. */
  unavailable?: true;
};

/** A fresh stub per call: a stub that threw may be broken, and stubs are cheap. */
export function sharedBudgetsOf(env: Pick<Env, "RATE_BUDGET">): SharedBudgets {
  return (fingerprint) => env.RATE_BUDGET.get(env.RATE_BUDGET.idFromName(fingerprint));
}

/** Every object of this Worker reaches the same RATE_BUDGET binding, so callers need not pass it along. */
const runtimeBudgets: SharedBudgets = (fingerprint) => sharedBudgetsOf(workerEnv as Env)(fingerprint);

/** The object's note of which shared budget a connection last used, for the status. */
const refKey = (connectionId: string) => `budget_ref:${connectionId}`;

function sharedRef(sql: SqlStorage, connectionId: string): string | null {
  return (
    sql.exec<{ value: string }>("select value from meta where key = ?", refKey(connectionId)).toArray()[0]
      ?.value ?? null
  );
}

function noteSharedRef(sql: SqlStorage, connectionId: string, fingerprint: string | null): void {
  if (sharedRef(sql, connectionId) === fingerprint) return;
  if (fingerprint === null) sql.exec("delete from meta where key = ?", refKey(connectionId));
  else
    sql.exec(
      "insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
      refKey(connectionId),
      fingerprint,
    );
}

/** Fingerprints per credentials object: a connection loaded once serves many calls. */
const fingerprints = new WeakMap<object, Promise<string | null>>();

/**
 * The fingerprint of the credential the provider counts this connection's requests by, or null when it counts
 * per connection (or the credential is missing: nothing to share by).
 */
export function budgetFingerprint(
  connection: Pick<LoadedConnection, "provider" | "credentials">,
  policy: RateLimitPolicy,
): Promise<string | null> {
  const scope = policy.scope;
  if (!scope || scope === "connection") return Promise.resolve(null);
  let known = fingerprints.get(connection.credentials);
  if (!known) {
    const identity = connection.credentials[scope.credential];
    known = identity ? rateBudgetFingerprint(connection.provider, identity) : Promise.resolve(null);
    fingerprints.set(connection.credentials, known);
  }
  return known;
}

function localGate(sql: SqlStorage, connectionId: string, now: () => number): BudgetGate {
  return {
    acquire: async (priority, policy, context) =>
      budgetStore.acquire(sql, connectionId, priority, now(), policy, context),
    settle: async (feedback) => budgetStore.settle(sql, connectionId, now(), feedback),
  };
}

/**
 * The budget a connection's request goes through: the shared budget of its credential when the provider counts
 * per credential, else the connection's own in this object. Notes which one, so the status shows the same budget.
 */
export async function budgetGateFor(
  deps: { sql: SqlStorage; now: () => number; sharedBudgets?: SharedBudgets },
  connection: Pick<LoadedConnection, "id" | "provider" | "credentials">,
  policy: RateLimitPolicy,
): Promise<BudgetGate> {
  const fingerprint = await budgetFingerprint(connection, policy);
  noteSharedRef(deps.sql, connection.id, fingerprint);
  if (fingerprint === null) return localGate(deps.sql, connection.id, deps.now);
  const shared = (deps.sharedBudgets ?? runtimeBudgets)(fingerprint);
  return { acquire: (...args) => shared.acquire(...args), settle: (feedback) => shared.settle(feedback) };
}

/** The budget a connection's last request went through, as the status shows it. */
export async function budgetView(
  sql: SqlStorage,
  connectionId: string,
  now: number,
  sharedBudgets: SharedBudgets = runtimeBudgets,
): Promise<BudgetView> {
  const fingerprint = sharedRef(sql, connectionId);
  if (fingerprint === null) {
    return {
      ...budgetStore.snapshot(sql, connectionId, now),
      scope: "connection",
      shared: false,
      budgetId: null,
    };
  }
  const whose = { scope: "credential", shared: true, budgetId: shortFingerprint(fingerprint) } as const;
  try {
    return { ...(await sharedBudgets(fingerprint).snapshot()), ...whose };
  } catch (error) {
    // The status must still answer: this budget shows as unavailable, the rest of the status as it is.
    log.warn("shared rate budget unreadable", { connectionId, error: safeErrorMessage(error) });
    return { ...budgetStore.snapshot(sql, connectionId, now), ...whose, unavailable: true };
  }
}

/** Forgets which shared budget a deleted connection used (the shared budget itself belongs to the credential). */
export function forgetBudgetRef(sql: SqlStorage, connectionId: string): void {
  noteSharedRef(sql, connectionId, null);
}

/** The shared budget a connection last used, for callers that act on the connection's budget directly. */
export function sharedBudgetOf(
  sql: SqlStorage,
  connectionId: string,
  sharedBudgets: SharedBudgets = runtimeBudgets,
): SharedBudget | null {
  const fingerprint = sharedRef(sql, connectionId);
  return fingerprint === null ? null : sharedBudgets(fingerprint);
}

import { DurableObject } from "cloudflare:workers";
import { loadConnection } from "../src/accounts/connections";
import type { SyncMode } from "../src/connectors/types";
import { fullJitterBackoffMs } from "../src/core/backoff";
import { parseKeyring } from "../src/core/crypto";
import { openDb } from "../src/db/client";
import type { Env } from "../src/env";
import { listLeases } from "./lease";
import { applySqliteSchema } from "./sqlite-schema";
import { runSyncStep, type StepOutcome } from "./sync-runner";
import { getSyncState, listSyncStates, mirrorSyncState, putSyncState, type SyncState } from "./sync-state";
import { completeTimer, dueTimers, listTimers, setTimer, syncAlarm } from "./timers";

export type StartSyncRequest = {
  accountId: string;
  connectionId: string;
  provider: string;
  entities: string[];
  mode: SyncMode;
};
export type StartSyncResult = { started: string[]; alreadyRunning: string[] };
type RunTimerPayload = { accountId: string; connectionId: string; entity: string; attempt?: number };

const LEASE_TTL_MS = 60_000;
const OVERLAP_MS = 60_000;

/**
 * One object per customer account: owns that account's cursors, leases and timers, and runs its syncs in
 * bounded steps driven by the single alarm.
 */
export class AccountSync extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => applySqliteSchema(ctx.storage.sql));
  }

  async startSync(req: StartSyncRequest): Promise<StartSyncResult> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const result: StartSyncResult = { started: [], alreadyRunning: [] };
    for (const entity of req.entities) {
      const current = getSyncState(sql, req.connectionId, entity);
      if (current?.status === "IN_PROGRESS") {
        result.alreadyRunning.push(entity);
        continue;
      }
      const next: SyncState = {
        connectionId: req.connectionId,
        entity,
        provider: req.provider,
        mode: req.mode,
        status: "IN_PROGRESS",
        runId: crypto.randomUUID(),
        pageNo: 0,
        nextUrl: null,
        // Onboarding is a full backfill: it starts from nothing but keeps the cursor it builds for deltas.
        cursor: req.mode === "onboarding" ? null : (current?.cursor ?? null),
        lastSyncAt: current?.lastSyncAt ?? null,
        lastStartedAt: now,
        lastFinishedAt: current?.lastFinishedAt ?? null,
        recordsSynced: current?.recordsSynced ?? 0,
        runRecords: 0,
        runTotal: null,
        errorMessage: null,
      };
      putSyncState(sql, next);
      setTimer(this.ctx.storage, runTimerName(req.connectionId, entity), now, {
        accountId: req.accountId,
        connectionId: req.connectionId,
        entity,
      } satisfies RunTimerPayload);
      result.started.push(entity);
    }
    await syncAlarm(this.ctx.storage);
    return result;
  }

  async status(): Promise<{
    states: SyncState[];
    leases: ReturnType<typeof listLeases>;
    timers: { name: string; dueAt: number }[];
  }> {
    const now = Date.now();
    return {
      states: listSyncStates(this.ctx.storage.sql),
      leases: listLeases(this.ctx.storage.sql, now),
      timers: listTimers(this.ctx.storage).map((t) => ({ name: t.name, dueAt: t.dueAt })),
    };
  }

  override async alarm(): Promise<void> {
    for (const timer of dueTimers(this.ctx.storage, Date.now())) {
      if (timer.name.startsWith("run:")) await this.runTimer(JSON.parse(timer.payload) as RunTimerPayload);
      completeTimer(this.ctx.storage, timer);
    }
    await syncAlarm(this.ctx.storage);
  }

  private async runTimer(payload: RunTimerPayload): Promise<void> {
    const handle = openDb(this.env);
    try {
      const keyring = await parseKeyring(this.env.CREDENTIALS_KEY);
      const connection = await loadConnection(handle.db, keyring, payload.accountId, payload.connectionId);
      const outcome = await runSyncStep(
        {
          sql: this.ctx.storage.sql,
          db: handle.db,
          queue: this.env.TRANSFORMS,
          fetch: (input, init) => fetch(input, init),
          now: Date.now,
          accountId: payload.accountId,
          connection,
          pagesPerStep: Number(this.env.SYNC_PAGES_PER_STEP ?? 25),
          leaseTtlMs: LEASE_TTL_MS,
          overlapMs: OVERLAP_MS,
        },
        payload.entity,
      );
      await this.afterStep(handle.db, payload, outcome);
    } catch (error) {
      await this.afterStep(handle.db, payload, {
        kind: "failed",
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.ctx.waitUntil(handle.close().catch(() => {}));
    }
  }

  private async afterStep(db: ReturnType<typeof openDb>["db"], p: RunTimerPayload, outcome: StepOutcome) {
    const name = runTimerName(p.connectionId, p.entity);
    const now = Date.now();
    switch (outcome.kind) {
      case "continue":
        setTimer(this.ctx.storage, name, now, { ...p, attempt: 0 });
        return;
      case "busy":
        // Another holder works on it; look again once its lease could have expired.
        setTimer(this.ctx.storage, name, now + LEASE_TTL_MS, p);
        return;
      case "rate_limited":
        setTimer(this.ctx.storage, name, outcome.retryAt, p);
        return;
      case "failed": {
        const attempt = (p.attempt ?? 0) + 1;
        const state = getSyncState(this.ctx.storage.sql, p.connectionId, p.entity);
        if (!state) return;
        if (attempt >= 6) {
          const failed: SyncState = {
            ...state,
            status: "ERROR",
            errorMessage: outcome.error,
            lastFinishedAt: now,
          };
          putSyncState(this.ctx.storage.sql, failed);
          await mirrorSyncState(db, p.accountId, failed).catch(() => {});
          return;
        }
        putSyncState(this.ctx.storage.sql, { ...state, errorMessage: outcome.error });
        const delay = fullJitterBackoffMs(attempt, { baseMs: 1_000, capMs: 60_000 });
        setTimer(this.ctx.storage, name, now + delay, { ...p, attempt });
        return;
      }
      default:
        return;
    }
  }
}

const runTimerName = (connectionId: string, entity: string) => `run:${connectionId}:${entity}`;

import type { RunLogLevel, RunLogLine } from "../src/pipeline/run-history";
import type { StepOutcome } from "./sync-runner";
import type { SyncState } from "./sync-state";

/** A line of the run `s` belongs to; null when the state carries no run. */
export function runLine(
  accountId: string,
  s: SyncState,
  level: RunLogLevel,
  message: string,
): RunLogLine | null {
  if (!s.runId) return null;
  return {
    accountId,
    connectionId: s.connectionId,
    provider: s.provider,
    entity: s.entity,
    runId: s.runId,
    level,
    message,
  };
}

const progress = (s: SyncState) =>
  `${s.pageNo} pages, ${s.runRecords} records, ${s.runRequests ?? 0} requests (${s.runRateLimited ?? 0} answered 429)`;

export const startedLine = (accountId: string, s: SyncState) =>
  runLine(accountId, s, "info", `${s.mode} run started (${s.origin ?? "manual"})`);

export const finishedLine = (accountId: string, s: SyncState) =>
  s.status === "ERROR"
    ? runLine(accountId, s, "error", `run failed: ${s.errorMessage ?? "unknown error"}; ${progress(s)}`)
    : runLine(accountId, s, "info", `run completed: ${progress(s)}`);

/** What a sync step came to, from the run's state after it (error texts are already safe messages). */
export function stepLine(accountId: string, s: SyncState, outcome: StepOutcome): RunLogLine | null {
  switch (outcome.kind) {
    case "continue":
      return runLine(accountId, s, "info", `step done: ${progress(s)} so far`);
    case "completed":
      return finishedLine(accountId, s);
    case "parked":
      return runLine(
        accountId,
        s,
        "warn",
        `paused (${outcome.reason}) until ${new Date(outcome.retryAt).toISOString()}; ${progress(s)} so far`,
      );
    case "waiting":
      return runLine(
        accountId,
        s,
        "info",
        `${outcome.reason}; next look ${new Date(outcome.retryAt).toISOString()}`,
      );
    case "failed":
      return runLine(
        accountId,
        s,
        "warn",
        outcome.unreachable ? "Postgres unreachable; retrying in 10 s" : `step failed: ${outcome.error}`,
      );
    default:
      return null;
  }
}

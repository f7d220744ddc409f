import type { BackoffOptions } from "../src/core/backoff";
import type { BreakerConfig } from "../src/core/breaker";
import { breakerConfigFrom } from "./breaker-store";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./provider-call";

export type RetryPolicy = BackoffOptions & { maxAttempts: number };

export type SyncSettings = { breaker: BreakerConfig; requestTimeoutMs: number; retry: RetryPolicy };

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1_000, capMs: 60_000, maxAttempts: 8 };

function bounded(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? v : fallback;
}

/**
 * Per-connection tuning from `connection.settings`: `breaker` ({windowMs, minCalls, failureRateThreshold,
 * openMs, halfOpenProbes}), `requestTimeoutMs`, and `retry` ({baseMs, capMs, maxAttempts}); anything missing
 * or out of range takes the default.
 */
export function syncSettingsFrom(settings: Record<string, unknown> | undefined): SyncSettings {
  const retry = (settings?.retry ?? {}) as Record<string, unknown>;
  return {
    breaker: breakerConfigFrom(settings),
    requestTimeoutMs: bounded(settings?.requestTimeoutMs, 100, 120_000, DEFAULT_REQUEST_TIMEOUT_MS),
    retry: {
      baseMs: bounded(retry.baseMs, 1, 600_000, DEFAULT_RETRY.baseMs),
      capMs: bounded(retry.capMs, 1, 3_600_000, DEFAULT_RETRY.capMs),
      maxAttempts: bounded(retry.maxAttempts, 1, 100, DEFAULT_RETRY.maxAttempts),
    },
  };
}

// Transport faults per user, drawn from one seeded stream with a fixed number of draws per
// request, so a seed and a request sequence always give the same faults.

import { hash, normalizeSeed, Rng } from "../simulator/prng";

export interface FaultConfig {
  seed?: number | string;
  /** probability of a 500/502/503 instead of the answer */
  errorRate?: number;
  /** added latency per request, ms */
  latencyMs?: number;
  /** probability the request hangs `timeoutMs` (default 30 s) and then answers 504 */
  timeoutRate?: number;
  timeoutMs?: number;
  /** every N-th request starts a 429 storm of durationSec (default 10) */
  storm?: { everyN?: number; durationSec?: number } | null;
  /** probability a webhook delivery is sent twice (same eventId, same body) */
  webhookDuplicateRate?: number;
  /** probability a webhook delivery attempt is dropped before it reaches the receiver (then retried) */
  webhookDropRate?: number;
}

export interface RequestFaults {
  error: 0 | 500 | 502 | 503;
  timeout: boolean;
}

export class Faults {
  config: FaultConfig = {};
  private rng: Rng;
  private seed: number;
  private count = 0;
  stormUntil = 0;

  constructor(private readonly userSeed: number) {
    this.seed = userSeed;
    this.rng = new Rng(hash(userSeed, 0xfa17));
  }

  set(config: FaultConfig): void {
    this.config = { ...config };
    this.seed = config.seed === undefined ? this.userSeed : normalizeSeed(config.seed);
    this.rng = new Rng(hash(this.seed, 0xfa17));
    this.count = 0;
    this.stormUntil = 0;
  }

  next(): RequestFaults {
    this.count++;
    const dError = this.rng.next();
    const dTimeout = this.rng.next();
    const dAux = this.rng.next();
    const c = this.config;
    return {
      error: dError < (c.errorRate ?? 0) ? (([500, 502, 503] as const)[Math.floor(dAux * 3)] ?? 500) : 0,
      timeout: dTimeout < (c.timeoutRate ?? 0),
    };
  }

  /** ms left in a 429 storm (starting one every N-th request), or 0. */
  storm(now: number): number {
    const s = this.config.storm;
    if (s?.everyN && s.everyN > 0 && this.count > 0 && this.count % s.everyN === 0) {
      this.stormUntil = Math.max(this.stormUntil, now + (s.durationSec ?? 10) * 1000);
    }
    return Math.max(0, this.stormUntil - now);
  }

  webhookRng(salt: number): Rng {
    return new Rng(hash(this.seed, 0x3e6b, salt));
  }
}

// Fault injection per tenant. Request-level faults draw from one seeded stream,
// a fixed number of draws per request whatever is enabled, so a given seed and
// request sequence always produce the same faults. Record-level malformation is a
// pure function of (fault seed, entity, id): the same record is malformed on every
// fetch.

import { type EntityName, entityCode, type Rec } from "./data";
import { HOSTILE_CONTENT_KINDS, type HostileKind } from "./hostile";
import { hash, normalizeSeed, Rng, unit } from "./prng";

export interface FaultConfig {
  /** seed of the fault streams (default: the tenant seed) */
  seed?: number | string;
  /** probability of a 5xx (500, 502 or 503) instead of the real answer */
  errorRate?: number;
  /** added latency per request, in ms */
  latencyMs?: number;
  /** extra random latency in [0, latencyJitterMs) */
  latencyJitterMs?: number;
  /** probability the request hangs until the client gives up or `timeoutMs` passes (then 504) */
  timeoutRate?: number;
  timeoutMs?: number;
  /** probability a given record (by entity and id) is served malformed */
  malformedRate?: number;
  /** probability a 200 body is cut mid-JSON */
  truncateRate?: number;
  /** every N-th request starts a 429 storm lasting durationSec (default 10) */
  storm?: { everyN?: number; durationSec?: number } | null;
  /** probability a webhook delivery is sent twice (same eventId, same body) */
  webhookDuplicateRate?: number;
  /** shuffle the events of one mutation batch and jitter their delivery */
  webhookReorder?: boolean;
  /**
   * Hostile base records: each base record (entity, id) is hostile with probability `rate`,
   * with one of `kinds` (default every content kind). This changes the provider's data, not
   * the transport: the record is the same on every fetch and in the ground truth.
   */
  hostile?: { rate: number; kinds?: HostileKind[] } | null;
}

export type MalformKind = "id-string" | "updated-missing" | "updated-garbage";

export interface RequestFaults {
  error: 0 | 500 | 502 | 503;
  timeout: boolean;
  truncateAt: number | null; // fraction of the body to keep
  latencyMs: number;
}

export class Faults {
  config: FaultConfig = {};
  private seed: number;
  private rng: Rng;
  private requestCount = 0;
  stormUntil = 0;
  /** ids served malformed, per entity */
  readonly malformedServed = new Map<EntityName, Set<number>>();

  constructor(private readonly tenantSeed: number) {
    this.seed = tenantSeed;
    this.rng = new Rng(tenantSeed);
  }

  set(config: FaultConfig): void {
    this.config = { ...config };
    this.seed = config.seed === undefined ? this.tenantSeed : normalizeSeed(config.seed);
    this.rng = new Rng(hash(this.seed, 0xfa17));
    this.requestCount = 0;
    this.stormUntil = 0;
    this.malformedServed.clear();
  }

  /** Decide the request-level faults of the next API request (four draws, always). */
  nextRequest(): RequestFaults {
    const c = this.config;
    this.requestCount++;
    const dError = this.rng.next();
    const dTimeout = this.rng.next();
    const dTruncate = this.rng.next();
    const dAux = this.rng.next();
    const error: RequestFaults["error"] =
      dError < (c.errorRate ?? 0) ? (([500, 502, 503] as const)[Math.floor(dAux * 3)] ?? 500) : 0;
    return {
      error,
      timeout: dTimeout < (c.timeoutRate ?? 0),
      truncateAt: dTruncate < (c.truncateRate ?? 0) ? 0.1 + 0.8 * dAux : null,
      latencyMs: (c.latencyMs ?? 0) + Math.floor(dAux * (c.latencyJitterMs ?? 0)),
    };
  }

  /** Storm check for the current request: returns seconds left in a storm, or 0. */
  storm(now: number): number {
    const s = this.config.storm;
    if (s?.everyN && s.everyN > 0 && this.requestCount > 0 && this.requestCount % s.everyN === 0) {
      this.stormUntil = Math.max(this.stormUntil, now + (s.durationSec ?? 10) * 1000);
    }
    return this.stormUntil > now ? Math.max(1, Math.ceil((this.stormUntil - now) / 1000)) : 0;
  }

  malformKind(entity: EntityName, id: number): MalformKind | null {
    const rate = this.config.malformedRate ?? 0;
    if (rate <= 0) return null;
    const h = hash(this.seed, 0x3a1f, entityCode(entity), id);
    if (unit(h) >= rate) return null;
    return (["id-string", "updated-missing", "updated-garbage"] as const)[hash(h, 3) % 3] ?? "id-string";
  }

  /** Returns the record as served: malformed (and recorded) when its id is picked. */
  serve(entity: EntityName, rec: Rec): Rec {
    const id = rec.id as number;
    const kind = this.malformKind(entity, id);
    if (!kind) return rec;
    let set = this.malformedServed.get(entity);
    if (!set) {
      set = new Set();
      this.malformedServed.set(entity, set);
    }
    set.add(id);
    const out: Rec = { ...rec };
    if (kind === "id-string") out.id = `fub-${id.toString(36)}`;
    else if (kind === "updated-missing") delete out.updated;
    else out.updated = "0000-00-00 00:00:00";
    return out;
  }

  hostileActive(): boolean {
    return (this.config.hostile?.rate ?? 0) > 0;
  }

  /** The hostile kind of a base record under the knob, a pure function of (fault seed, entity, id). */
  hostileKind(entity: EntityName, id: number): HostileKind | null {
    const h = this.config.hostile;
    if (!h || h.rate <= 0) return null;
    const x = hash(this.seed, 0x4057, entityCode(entity), id);
    if (unit(x) >= h.rate) return null;
    const kinds = (h.kinds ?? HOSTILE_CONTENT_KINDS).filter((k) => k !== "bigId");
    return kinds.length === 0 ? null : (kinds[hash(x, 5) % kinds.length] as HostileKind);
  }

  webhookRng(salt: number): Rng {
    return new Rng(hash(this.seed, 0x3e6b, salt));
  }
}

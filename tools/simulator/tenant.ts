// A tenant is one FUB account (one API key): its dataset, rate-limit buckets,
// faults, webhook registrations and counters.

import { DEFAULT_COUNTS, ENTITIES, type EntityName, entityCode, type GenContext, Timeline } from "./data";
import { Faults } from "./faults";
import { normalizeSeed } from "./prng";
import { DEFAULT_RATE_LIMIT, type RateLimitConfig, RateLimiter } from "./ratelimit";
import { EntityStore } from "./store";

export interface TenantConfig {
  seed?: number | string;
  /** the X-System-Key this account accepts (and signs webhooks with) */
  systemKey?: string;
  /** base record counts per entity (missing entities get DEFAULT_COUNTS) */
  counts?: Partial<Record<EntityName, number>>;
  /** override the FUB limits, or false to disable limiting (benchmarks) */
  rateLimit?: Partial<RateLimitConfig> | false;
  /** webhook retry delays = FUB schedule (1, 5, 5, 10, 30 min) x this factor; default 1/60 (minutes → seconds) */
  webhookRetryScale?: number;
  /** artificial delay for offset paging: ms per 1000 records skipped (default 10) */
  offsetPenaltyMsPer1000?: number;
  /** deepest `offset` accepted before answering 400 "use next" (default 10000) */
  maxOffset?: number;
}

export interface WebhookRegistration {
  id: number;
  event: string;
  url: string;
  status: "Active" | "Disabled";
  system: string | null;
  created: string;
}

export interface DeliveryLogEntry {
  eventId: string;
  event: string;
  webhookId: number;
  url: string;
  attempt: number;
  status: number | null;
  error?: string;
  at: string;
  duplicate?: boolean;
}

export interface TenantStats {
  served: number;
  rateLimited: number;
  stormRateLimited: number;
  unauthorized: number;
  byStatus: Record<string, number>;
  webhooks: {
    events: number;
    attempts: number;
    acknowledged: number;
    failedAttempts: number;
    gaveUp: number;
    duplicates: number;
  };
}

function emptyStats(): TenantStats {
  return {
    served: 0,
    rateLimited: 0,
    stormRateLimited: 0,
    unauthorized: 0,
    byStatus: {},
    webhooks: { events: 0, attempts: 0, acknowledged: 0, failedAttempts: 0, gaveUp: 0, duplicates: 0 },
  };
}

export class Tenant {
  readonly seed: number;
  readonly systemKey: string;
  readonly counts: Record<EntityName, number>;
  readonly ctx: GenContext;
  readonly stores: Record<EntityName, EntityStore>;
  readonly limiter = new RateLimiter();
  readonly faults: Faults;
  readonly webhooks = new Map<number, WebhookRegistration>();
  nextWebhookId = 1;
  readonly deliveryLog: DeliveryLogEntry[] = [];
  stats: TenantStats = emptyStats();
  mutationSeq = 0;
  eventSeq = 0;

  constructor(
    readonly apiKey: string,
    readonly config: TenantConfig,
  ) {
    this.seed = normalizeSeed(config.seed ?? apiKey);
    this.systemKey = config.systemKey ?? `sk-${apiKey}`;
    const counts = { ...DEFAULT_COUNTS };
    for (const e of ENTITIES) {
      const n = config.counts?.[e];
      if (n !== undefined) counts[e] = Math.max(0, Math.floor(n));
    }
    this.counts = counts;
    const timelines = {} as Record<EntityName, Timeline>;
    for (const e of ENTITIES) timelines[e] = new Timeline(this.seed, entityCode(e), counts[e]);
    this.ctx = { seed: this.seed, counts, timelines };
    const stores = {} as Record<EntityName, EntityStore>;
    for (const e of ENTITIES) stores[e] = new EntityStore(this.ctx, e, counts[e]);
    this.stores = stores;
    this.faults = new Faults(this.seed);
  }

  /** Effective limit for a request, or null when limiting is disabled. */
  rateLimit(withSystemKey: boolean): { limit: number; windowSec: number } | null {
    const rl = this.config.rateLimit;
    if (rl === false) return null;
    const limit = rl?.limit ?? DEFAULT_RATE_LIMIT.limit;
    const without =
      rl?.limitWithoutSystemKey ?? (rl?.limit !== undefined ? Math.max(1, Math.floor(limit / 2)) : 125);
    return {
      limit: withSystemKey ? limit : without,
      windowSec: rl?.windowSec ?? DEFAULT_RATE_LIMIT.windowSec,
    };
  }

  get webhookRetryScale(): number {
    return this.config.webhookRetryScale ?? 1 / 60;
  }

  get maxOffset(): number {
    return this.config.maxOffset ?? 10_000;
  }

  get offsetPenaltyMsPer1000(): number {
    return this.config.offsetPenaltyMsPer1000 ?? 10;
  }

  logDelivery(entry: DeliveryLogEntry): void {
    this.deliveryLog.push(entry);
    if (this.deliveryLog.length > 2000) this.deliveryLog.splice(0, this.deliveryLog.length - 2000);
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  summary(): Record<string, unknown> {
    const counts: Record<string, number> = {};
    const deleted: Record<string, number> = {};
    for (const e of ENTITIES) {
      counts[e] = this.stores[e].count({ includeTrash: false });
      deleted[e] = this.stores[e].deletedIds().length;
    }
    const malformedIds: Record<string, number[]> = {};
    for (const [e, ids] of this.faults.malformedServed) malformedIds[e] = [...ids].sort((a, b) => a - b);
    return {
      apiKey: this.apiKey,
      seed: this.seed,
      systemKey: this.systemKey,
      baseCounts: this.counts,
      counts,
      deleted,
      trashedPeople: this.stores.people.count({ includeTrash: true }) - (counts.people ?? 0),
      rateLimit: this.config.rateLimit === false ? false : this.rateLimit(true),
      requests: {
        served: this.stats.served,
        rateLimited: this.stats.rateLimited,
        stormRateLimited: this.stats.stormRateLimited,
        unauthorized: this.stats.unauthorized,
        byStatus: this.stats.byStatus,
      },
      webhooks: { registered: this.webhooks.size, ...this.stats.webhooks },
      faults: this.faults.config,
      malformedIds,
      mutations: this.mutationSeq,
    };
  }
}

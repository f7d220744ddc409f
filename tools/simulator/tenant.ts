// A tenant is one FUB account (one API key): its dataset, rate-limit buckets,
// faults, webhook registrations and counters.

import {
  DEFAULT_COUNTS,
  ENTITIES,
  type EntityName,
  entityCode,
  type GenContext,
  PERSON_CHILDREN,
  type PersonChild,
  PersonLinks,
  Timeline,
} from "./data";
import { Faults } from "./faults";
import { normalizeSeed } from "./prng";
import {
  DEFAULT_CONTEXTS,
  DEFAULT_RATE_LIMIT,
  type RateContextConfig,
  type RateLimitConfig,
  RateLimiter,
  SlidingWindow,
} from "./ratelimit";
import { EntityStore } from "./store";

export interface TenantConfig {
  seed?: number | string;
  /** the X-System-Key this account accepts (and signs webhooks with) */
  systemKey?: string;
  /** base record counts per entity (missing entities get DEFAULT_COUNTS) */
  counts?: Partial<Record<EntityName, number>>;
  /** override the FUB limits (global, and per context), or false to disable limiting (benchmarks) */
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

/** Per rate context: what passed the limiter, what was refused, and the busiest window. */
export interface ContextStats {
  /** requests admitted (passed the limiter and any storm) */
  served: number;
  /** 429s: over the limit or in a storm */
  rateLimited: number;
  stormRateLimited: number;
  /** most admitted requests in any sliding window of the context's length */
  maxInWindow: number;
  /** most requests attempted (admitted or refused) in any sliding window of that length */
  maxAttemptsInWindow: number;
  windowSec: number;
}

export interface TenantStats {
  served: number;
  rateLimited: number;
  stormRateLimited: number;
  unauthorized: number;
  byStatus: Record<string, number>;
  contexts: Record<string, ContextStats>;
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
    contexts: {},
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
  /** sliding windows behind ContextStats (admitted, attempted), by context */
  private statWindows = new Map<string, { admitted: SlidingWindow; attempted: SlidingWindow }>();
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
    const links = {} as Record<PersonChild, PersonLinks>;
    for (const e of PERSON_CHILDREN) links[e] = new PersonLinks(this.seed, entityCode(e), counts.people);
    this.ctx = { seed: this.seed, counts, timelines, links };
    this.faults = new Faults(this.seed);
    const stores = {} as Record<EntityName, EntityStore>;
    const hostile = {
      active: () => this.faults.hostileActive(),
      kind: (e: EntityName, id: number) => this.faults.hostileKind(e, id),
    };
    for (const e of ENTITIES) stores[e] = new EntityStore(this.ctx, e, counts[e], hostile);
    this.stores = stores;
  }

  /** Effective limit of a rate context for a request, or null when limiting is disabled. */
  rateLimit(withSystemKey: boolean, context = "global"): { limit: number; windowSec: number } | null {
    const rl = this.config.rateLimit;
    if (rl === false) return null;
    const windowSec = rl?.windowSec ?? DEFAULT_RATE_LIMIT.windowSec;
    const spec: RateContextConfig | undefined =
      context === "global"
        ? {
            limit: rl?.limit ?? DEFAULT_RATE_LIMIT.limit,
            limitWithoutSystemKey: rl?.limitWithoutSystemKey ?? (rl?.limit !== undefined ? undefined : 125),
          }
        : (rl?.contexts?.[context] ?? DEFAULT_CONTEXTS[context]);
    if (!spec) return null;
    const without = spec.limitWithoutSystemKey ?? Math.max(1, Math.floor(spec.limit / 2));
    return { limit: withSystemKey ? spec.limit : without, windowSec: spec.windowSec ?? windowSec };
  }

  /** Count one request of a context in the stats; `admitted` false for a 429. */
  noteRequest(context: string, now: number, admitted: boolean, storm = false): void {
    const windowSec = this.rateLimit(true, context)?.windowSec ?? DEFAULT_RATE_LIMIT.windowSec;
    let st = this.stats.contexts[context];
    if (!st) {
      st = {
        served: 0,
        rateLimited: 0,
        stormRateLimited: 0,
        maxInWindow: 0,
        maxAttemptsInWindow: 0,
        windowSec,
      };
      this.stats.contexts[context] = st;
    }
    let w = this.statWindows.get(context);
    if (!w) {
      w = { admitted: new SlidingWindow(), attempted: new SlidingWindow() };
      this.statWindows.set(context, w);
    }
    const ms = windowSec * 1000;
    st.maxAttemptsInWindow = Math.max(st.maxAttemptsInWindow, w.attempted.record(now, ms));
    if (admitted) {
      st.served++;
      st.maxInWindow = Math.max(st.maxInWindow, w.admitted.record(now, ms));
    } else {
      st.rateLimited++;
      if (storm) st.stormRateLimited++;
    }
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
    this.statWindows.clear();
  }

  /** Whether any served record may hold RawJson parts (hostile deep nesting or big numbers). */
  mayHoldRaw(entity?: EntityName): boolean {
    return entity ? this.stores[entity].mayHoldRaw() : ENTITIES.some((e) => this.stores[e].mayHoldRaw());
  }

  summary(): Record<string, unknown> {
    const counts: Record<string, number> = {};
    const deleted: Record<string, number> = {};
    for (const e of ENTITIES) {
      // What the truth counts: trashed people and Deleted deals are out, Archived deals are in.
      counts[e] = this.stores[e].count({ includeTrash: false, includeArchived: true });
      deleted[e] = this.stores[e].deletedIds().length;
    }
    const hostileIds: Record<string, number[]> = {};
    for (const e of ENTITIES) {
      const ids = this.stores[e].hostile;
      if (ids.size > 0) hostileIds[e] = [...ids.keys()].sort((a, b) => a - b);
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
      rateLimit:
        this.config.rateLimit === false
          ? false
          : { ...this.rateLimit(true), contexts: { events: this.rateLimit(true, "events") } },
      requests: {
        served: this.stats.served,
        rateLimited: this.stats.rateLimited,
        stormRateLimited: this.stats.stormRateLimited,
        unauthorized: this.stats.unauthorized,
        byStatus: this.stats.byStatus,
        byContext: this.stats.contexts,
      },
      webhooks: { registered: this.webhooks.size, ...this.stats.webhooks },
      faults: this.faults.config,
      malformedIds,
      hostileCreatedIds: hostileIds,
      mutations: this.mutationSeq,
    };
  }
}

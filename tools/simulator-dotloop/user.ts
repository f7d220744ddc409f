// One Dotloop user (account): the dataset, what left it (merged loops, deleted contacts and
// participants), the user's rate window, fault knobs and counters. Tokens and subscriptions
// belong to the simulator (they join an OAuth client to a user).

import { normalizeSeed } from "../simulator/prng";
import { type DataCounts, type Dataset, generate, type HostileConfig, type LoopRec } from "./data";
import { Faults } from "./faults";
import { DEFAULT_RATE_LIMIT, FixedWindow, type RateLimitConfig } from "./ratelimit";

export type SignatureMode = "body" | "timestamp.body";

export interface UserConfig {
  seed?: number | string;
  counts?: DataCounts;
  /** hostile strings in loop names, participant names and contact first names (data, not transport) */
  hostile?: HostileConfig | null;
  /** default 100 per 60 s; false disables limiting */
  rateLimit?: Partial<RateLimitConfig> | false;
  /** largest batch_size honoured; larger values are clamped (default 100) */
  maxBatchSize?: number;
  /** batch_size when absent (default 20) */
  defaultBatchSize?: number;
  /** what X-DOTLOOP-SIGNATURE signs: the raw body (default) or `${timestamp}.${rawBody}` */
  signatureMode?: SignatureMode;
  /** multiplies the published retry delays (default 1/60: 30 s becomes 0.5 s) */
  webhookRetryScale?: number;
}

export interface DeliveryLog {
  eventId: string;
  eventType: string;
  subscriptionId: number;
  url: string;
  attempt: number;
  status: number | null;
  error?: string;
  at: string;
  duplicate?: true;
}

export class User {
  readonly seed: number;
  readonly data: Dataset;
  /** merged loop id -> surviving loop id (and its profile) */
  readonly merged = new Map<number, { toId: number; profileId: number }>();
  readonly deletedContacts = new Set<number>();
  /** profiles the user lost access to (their loops went with them) */
  readonly lostProfiles = new Set<number>();
  /** deleted participant id -> loop id */
  readonly deletedParticipants = new Map<number, number>();
  readonly rate: FixedWindow;
  readonly faults: Faults;
  readonly maxBatchSize: number;
  readonly defaultBatchSize: number;
  signatureMode: SignatureMode;
  webhookRetryScale: number;
  mutationSeq = 0;
  eventSeq = 0;
  readonly stats = {
    served: 0,
    rateLimited: 0,
    stormRateLimited: 0,
    unauthorized: 0,
    byStatus: {} as Record<string, number>,
    webhooks: { events: 0, attempts: 0, acknowledged: 0, failedAttempts: 0, failed: 0, duplicates: 0 },
  };
  readonly deliveries: DeliveryLog[] = [];

  constructor(
    readonly id: number,
    readonly config: UserConfig = {},
  ) {
    this.seed = normalizeSeed(config.seed ?? id);
    this.data = generate(id, config.seed ?? id, config.counts ?? {}, config.hostile ?? null);
    this.rate = new FixedWindow(
      config.rateLimit === false ? false : { ...DEFAULT_RATE_LIMIT, ...(config.rateLimit ?? {}) },
    );
    this.faults = new Faults(this.seed);
    this.maxBatchSize = config.maxBatchSize ?? 100;
    this.defaultBatchSize = Math.min(config.defaultBatchSize ?? 20, this.maxBatchSize);
    this.signatureMode = config.signatureMode ?? "body";
    this.webhookRetryScale = config.webhookRetryScale ?? 1 / 60;
  }

  loopsOf(profileId: number): LoopRec[] {
    const out: LoopRec[] = [];
    for (const l of this.data.loops.values()) if (l.loop.profileId === profileId) out.push(l);
    return out;
  }

  /** Follows merges to the loop that holds a merged id now (chains of merges included). */
  survivorOf(loopId: number): { toId: number; profileId: number } | null {
    let m = this.merged.get(loopId);
    if (!m) return null;
    for (let hops = 0; hops < 100; hops++) {
      const next = this.merged.get(m.toId);
      if (!next) return m;
      m = next;
    }
    return m;
  }

  logDelivery(d: DeliveryLog): void {
    this.deliveries.push(d);
    if (this.deliveries.length > 2000) this.deliveries.shift();
  }

  countStatus(status: number): void {
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
  }
}

import type { Connector } from "../connectors/types";
import { type BackoffOptions, equalJitterBackoffMs } from "../core/backoff";
import { logger, withIds } from "../core/log";
import { openDb, systemDb } from "../db/client";
import type { Env } from "../env";
import { transformBatch } from "./batch";
import { settleDeadLetters } from "./dead-letter";
import { databaseError } from "./failures";
import { type TransformMessage, transformMessageSchema } from "./messages";

const log = logger("pipeline");

/** wrangler.toml `max_retries` of the transforms queue: deliveries after the first before the dead-letter queue. */
export const TRANSFORM_MAX_RETRIES = 5;
/** Default first ceiling of the retry schedule (TRANSFORM_RETRY_BASE_SECONDS). */
export const DEFAULT_RETRY_BASE_SECONDS = 6;
/** Cloudflare Queues refuse a longer delay. */
const MAX_DELAY_SECONDS = 43_200;

/**
 * The transform retry schedule: equal jitter with ceilings base·4^k (k = 0 for the first retry), capped at
 * 300·base. With the default base of 6 s the five retries wait at least 3 + 12 + 48 + 192 + 768 = 1,023 s
 * (17 min) and at most 2,046 s in total, so a Postgres outage shorter than that never exhausts a page's
 * retries, while a passing failure (a dropped connection) is retried within seconds, not minutes. Full jitter
 * (an earlier schedule) could collapse to a few seconds in total.
 */
export function transformRetrySchedule(baseSeconds = DEFAULT_RETRY_BASE_SECONDS): BackoffOptions {
  const baseMs = baseSeconds * 1000;
  return { baseMs, factor: 4, capMs: Math.min(300 * baseMs, MAX_DELAY_SECONDS * 1000) };
}

/** TRANSFORM_RETRY_BASE_SECONDS (local harnesses shorten it), falling back to the default on absent or bad values. */
export function retryScheduleOf(value: string | undefined): BackoffOptions {
  const n = Number(value);
  return transformRetrySchedule(value && Number.isFinite(n) && n > 0 ? n : DEFAULT_RETRY_BASE_SECONDS);
}

/** Delay before the next delivery; `attempts` counts deliveries so far (1 on the first). */
export function retryDelaySeconds(
  attempts: number,
  schedule: BackoffOptions = transformRetrySchedule(),
  random: () => number = Math.random,
): number {
  const ms = equalJitterBackoffMs(Math.max(0, attempts - 1), schedule, random);
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(ms / 1000));
}

/**
 * Queue entry: the main queue transforms staged pages, acking and retrying each message on its own; the
 * dead-letter queue settles what exhausted its retries (see settleDeadLetters).
 */
export async function handleTransformBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
  connectorFor: (provider: string) => Connector,
): Promise<void> {
  const valid: { message: Message<unknown>; body: TransformMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = transformMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, body: parsed.data });
    else {
      // A message we can't read will never become readable; retrying it only delays its batch-mates.
      log.error("dropping unreadable transform message", { messageId: message.id });
      message.ack();
    }
  }
  if (valid.length === 0) return;
  const handle = openDb(systemDb(env));
  const schedule = retryScheduleOf(env.TRANSFORM_RETRY_BASE_SECONDS);
  const retry = (message: Message<unknown>) =>
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts, schedule) });
  try {
    if (batch.queue.endsWith("-dlq")) {
      try {
        const outcomes = await settleDeadLetters(
          handle.db,
          valid.map((v) => v.body),
          connectorFor,
        );
        valid.forEach((v, i) => {
          // Postgres unreachable: the page stays pending. A retry here tries again later; once the
          // dead-letter queue's own retries run out the message is dropped and re-announce sends the page.
          if (outcomes[i] === "unreachable") retry(v.message);
          else v.message.ack();
        });
      } catch (error) {
        log.error("dead-letter batch failed", { error: databaseError(error).message });
        for (const v of valid) retry(v.message);
      }
      return;
    }
    const outcomes = await transformBatch(
      handle.db,
      valid.map((v) => v.body),
      connectorFor,
    );
    valid.forEach((v, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) v.message.ack();
      else {
        withIds(log, v.body).error("transform message failed", {
          messageId: v.message.id,
          page: v.body.pageNo,
          error: outcome?.error ?? "no outcome",
        });
        retry(v.message);
      }
    });
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

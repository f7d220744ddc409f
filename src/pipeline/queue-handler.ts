import type { Connector } from "../connectors/types";
import { fullJitterBackoffMs } from "../core/backoff";
import { openDb, systemDb } from "../db/client";
import type { Env } from "../env";
import { transformBatch } from "./batch";
import { deadLetterPages } from "./dead-letter";
import { databaseError } from "./failures";
import { type TransformMessage, transformMessageSchema } from "./messages";

const RETRY = { baseMs: 1_000, capMs: 300_000 };

/** Delay before the next delivery; `attempts` counts deliveries so far (1 on the first). */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  return Math.ceil(fullJitterBackoffMs(Math.max(0, attempts - 1), RETRY, random) / 1000);
}

/**
 * Queue entry: the main queue transforms staged pages, acking and retrying each message on its own; the
 * dead-letter queue records what exhausted its retries.
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
      console.error("dropping unreadable transform message", message.id);
      message.ack();
    }
  }
  if (valid.length === 0) return;
  const handle = openDb(systemDb(env));
  const retry = (message: Message<unknown>) =>
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  try {
    if (batch.queue.endsWith("-dlq")) {
      try {
        await deadLetterPages(
          handle.db,
          valid.map((v) => v.body),
        );
        for (const v of valid) v.message.ack();
      } catch (error) {
        console.error("dead-letter batch failed", databaseError(error).message);
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
        console.error("transform message failed", v.message.id, outcome?.error ?? "no outcome");
        retry(v.message);
      }
    });
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

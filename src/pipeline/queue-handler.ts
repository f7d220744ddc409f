import type { Connector } from "../connectors/types";
import { fullJitterBackoffMs } from "../core/backoff";
import { openDb } from "../db/client";
import type { Env } from "../env";
import { transformPages } from "./consumer";
import { deadLetterPages } from "./dead-letter";
import { type TransformMessage, transformMessageSchema } from "./messages";

/**
 * Queue entry: the main queue transforms staged pages; the dead-letter queue records what exhausted its
 * retries. Retries use capped exponential backoff with full jitter from the delivery attempt count.
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
  const handle = openDb(env);
  try {
    if (batch.queue.endsWith("-dlq")) {
      await deadLetterPages(
        handle.db,
        valid.map((v) => v.body),
      );
    } else {
      await transformPages(
        handle.db,
        valid.map((v) => v.body),
        connectorFor,
      );
    }
    for (const v of valid) v.message.ack();
  } catch (error) {
    console.error("transform batch failed", error instanceof Error ? error.message : String(error));
    for (const v of valid) {
      v.message.retry({
        delaySeconds: Math.ceil(
          fullJitterBackoffMs(v.message.attempts, { baseMs: 1_000, capMs: 300_000 }) / 1000,
        ),
      });
    }
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

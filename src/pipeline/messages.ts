import { z } from "zod";

/** Ids and names are short; bounding them bounds the whole message. */
const name = z.string().min(1).max(256);

/**
 * A transform message names a staged page; the records stay in Postgres so a message is a few hundred bytes,
 * far below the 128 KB message limit.
 */
export const transformMessageSchema = z.object({
  v: z.literal(1),
  accountId: name,
  connectionId: name,
  provider: name,
  entity: name,
  runId: name,
  pageNo: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
});

export type TransformMessage = z.infer<typeof transformMessageSchema>;

export const SEND_BATCH_MAX_MESSAGES = 100;
export const SEND_BATCH_MAX_BYTES = 256 * 1024;
/** Per-message overhead the platform may count beyond the JSON body; generous on purpose. */
const MESSAGE_OVERHEAD_BYTES = 1024;

export const messageBytes = (m: TransformMessage) => new TextEncoder().encode(JSON.stringify(m)).length;

/** Splits messages into sendBatch calls within its limits (100 messages / 256 KB). */
export function sendBatches(messages: TransformMessage[]): TransformMessage[][] {
  const batches: TransformMessage[][] = [];
  let current: TransformMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = messageBytes(m) + MESSAGE_OVERHEAD_BYTES;
    if (
      current.length > 0 &&
      (current.length === SEND_BATCH_MAX_MESSAGES || bytes + size > SEND_BATCH_MAX_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export async function sendTransforms(
  queue: Queue<TransformMessage>,
  messages: TransformMessage[],
): Promise<void> {
  for (const batch of sendBatches(messages)) {
    await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
  }
}

import { z } from "zod";

/**
 * A transform message names a staged page; the records stay in Postgres so a message is a few hundred bytes,
 * far below the 128 KB message limit.
 */
export const transformMessageSchema = z.object({
  v: z.literal(1),
  accountId: z.string().min(1),
  connectionId: z.string().min(1),
  provider: z.string().min(1),
  entity: z.string().min(1),
  runId: z.string().min(1),
  pageNo: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
});

export type TransformMessage = z.infer<typeof transformMessageSchema>;

/** Producers send in chunks within sendBatch's limits (100 messages / 256 KB). */
export async function sendTransforms(
  queue: Queue<TransformMessage>,
  messages: TransformMessage[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
  }
}

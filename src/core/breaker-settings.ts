import { z } from "zod";
import { type BreakerConfig, DEFAULT_BREAKER_CONFIG } from "./breaker";

const DAY_MS = 86_400_000;

/**
 * `settings.breaker` of a connection, as the admin API accepts it. Unknown keys are refused rather than
 * ignored, so a caller still sending the count-based `windowSize` learns that it no longer applies.
 */
export const breakerSettingsSchema = z.strictObject({
  windowMs: z
    .int()
    .min(1_000)
    .max(DAY_MS)
    .optional()
    .describe("sliding window the failure share is taken over"),
  minCalls: z
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe("calls the window must hold before it may open"),
  failureRateThreshold: z.number().gt(0).max(1).optional().describe("failure share (0-1] that opens it"),
  openMs: z.int().min(1).max(DAY_MS).optional().describe("time open before half-open probes"),
  halfOpenProbes: z.int().min(1).max(100).optional().describe("probe successes that close it again"),
});

export type BreakerSettings = z.infer<typeof breakerSettingsSchema>;

/**
 * The config a stored `settings` object asks for. Settings saved before a key existed, or under a key
 * that no longer exists, must not stop a sync: each key that does not validate takes its default.
 */
export function breakerConfigFrom(settings: Record<string, unknown> | undefined): BreakerConfig {
  const raw = settings?.breaker;
  const cfg = { ...DEFAULT_BREAKER_CONFIG };
  if (!raw || typeof raw !== "object") return cfg;
  const r = raw as Record<string, unknown>;
  const shape = breakerSettingsSchema.shape;
  for (const key of Object.keys(cfg) as (keyof BreakerConfig)[]) {
    const parsed = shape[key].safeParse(r[key]);
    if (parsed.success && parsed.data !== undefined) cfg[key] = parsed.data;
  }
  return cfg;
}

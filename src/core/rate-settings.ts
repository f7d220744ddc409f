import { z } from "zod";
import type { RateLimitPolicy } from "../connectors/types";
import { DEFAULT_CONTEXT } from "./rate-contexts";

/**
 * `settings.rateLimits` of a connection, as the admin API accepts it: requests per window by rate context name
 * (the provider's default context by its own name, e.g. `global`, or `default`). For a provider that publishes
 * no limits the connector's are safe guesses; an operator who knows the account's real limit sets it here.
 */
export const rateLimitSettingsSchema = z
  .record(z.string().min(1).max(64), z.int().min(1).max(1_000_000))
  .refine((r) => Object.keys(r).length <= 32, "at most 32 contexts")
  .describe("requests per window by rate context name; the default context by its name");

/**
 * The policy with the connection's own limits applied. A stored value that no longer validates (or names a
 * context the provider no longer has) is ignored: settings must never stop a sync.
 */
export function withRateLimitSettings(
  policy: RateLimitPolicy,
  settings: Record<string, unknown> | undefined,
): RateLimitPolicy {
  const parsed = rateLimitSettingsSchema.safeParse(settings?.rateLimits);
  if (!parsed.success) return policy;
  const limits = parsed.data;
  const defaultName = policy.defaultContext ?? DEFAULT_CONTEXT;
  return {
    ...policy,
    limit: limits[defaultName] ?? policy.limit,
    ...(policy.contexts
      ? { contexts: policy.contexts.map((c) => ({ ...c, limit: limits[c.name] ?? c.limit })) }
      : {}),
  };
}

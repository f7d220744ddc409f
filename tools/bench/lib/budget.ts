import { createTenant, runBackfill } from "./backfill";
import type { BenchStack } from "./bench-stack";
import { type BudgetUse, budgetUse } from "./sim-tap";

export type BudgetResult = BudgetUse & { people: number; limit: number; windowSec: number; seconds: number };

/**
 * Onboarding against a tenant enforcing a rate limit (FUB: 250 requests per 10 s with a system key): how
 * much of what the limit allows the sync actually used, and how many 429s it ran into.
 */
export async function runBudget(
  b: BenchStack,
  opts: { people: number; limit: number; windowSec: number; name: string },
): Promise<BudgetResult> {
  const t = await createTenant(b, {
    name: opts.name,
    people: opts.people,
    rateLimit: { limit: opts.limit, windowSec: opts.windowSec },
  });
  const pages = Math.ceil(opts.people / 100);
  const timeoutMs = ((pages / opts.limit) * opts.windowSec + 120) * 1000;
  const run = await runBackfill(b, t, { timeoutMs, pollIntervalMs: 1000 });
  // runBackfill drained the tap; the budget needs the timestamps, so read them from its run instead.
  return {
    ...budgetUse(run.requests, opts.limit, opts.windowSec),
    people: run.people,
    limit: opts.limit,
    windowSec: opts.windowSec,
    seconds: run.seconds,
  };
}

import { createTenant } from "./backfill";
import type { BenchStack } from "./bench-stack";
import { type BudgetUse, budgetUse } from "./sim-tap";

export type BudgetResult = BudgetUse & { people: number; limit: number; windowSec: number; seconds: number };

/**
 * Onboarding against a tenant enforcing a rate limit (FUB: 250 requests per 10 s with a system key), observed
 * for a fixed time: how much of what the limit allows the sync used, and how many 429s it ran into. The
 * tenant is big enough that the run is still going when the observation ends.
 */
export async function runBudget(
  b: BenchStack,
  opts: { seconds: number; limit: number; windowSec: number; name: string },
): Promise<BudgetResult> {
  const people = Math.ceil((opts.limit / opts.windowSec) * opts.seconds * 100 * 2);
  const t = await createTenant(b, {
    name: opts.name,
    people,
    rateLimit: { limit: opts.limit, windowSec: opts.windowSec },
  });
  b.tap.take();
  const t0 = performance.now();
  await b.admin.sync(t.accountId, { entity: "people", mode: "onboarding" });
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  const endAt = Date.now();
  const requests = b.tap.take();
  // Stop the run so it doesn't compete with what is measured next.
  await b.admin.request("POST", `/admin/accounts/${t.accountId}/pause`).catch(() => {});
  return {
    ...budgetUse(requests, opts.limit, opts.windowSec, endAt),
    people,
    limit: opts.limit,
    windowSec: opts.windowSec,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

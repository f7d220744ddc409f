import type { ProviderCallResult } from "./provider-call";

/** What a run's provider calls came to: requests sent, of those refused with 429, and failed ones. */
export type CallTally = { requests: number; rateLimited: number; errors: number };

export const newTally = (): CallTally => ({ requests: 0, rateLimited: 0, errors: 0 });

/** Counts one call's result: a park by the breaker or the budget sent nothing; a 429 is a refused request. */
export function countCall(tally: CallTally, call: ProviderCallResult): void {
  if (call.kind !== "parked" || call.reason === "rate_limited") tally.requests++;
  if (call.kind === "parked" && call.reason === "rate_limited") tally.rateLimited++;
  // A failure is what the provider (or the way to it) did wrong: 5xx, timeout, network error.
  if (call.kind === "failure") tally.errors++;
}

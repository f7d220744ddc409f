// A connection's own rate limits (settings.rateLimits), for providers whose limits are unpublished guesses:
// the named contexts take the operator's figure, the rest keep the connector's, and a stored value that no
// longer validates changes nothing.
import { describe, expect, it } from "vitest";
import { connectorFor } from "../../src/connectors/registry";
import { withRateLimitSettings } from "../../src/core/rate-settings";

describe("connection rate limit settings", () => {
  it("replace the limits of the contexts they name, the default one by its name", () => {
    const fub = connectorFor("fub").rateLimit({ apiKey: "k" });
    const set = withRateLimitSettings(fub, { rateLimits: { global: 60, events: 5 } });
    expect(set.limit).toBe(60);
    expect(set.contexts?.find((c) => c.name === "events")?.limit).toBe(5);
    expect(set.windowMs).toBe(fub.windowMs);
    const onlyEvents = withRateLimitSettings(fub, { rateLimits: { events: 7 } });
    expect(onlyEvents.limit).toBe(fub.limit);
    expect(onlyEvents.contexts?.find((c) => c.name === "events")?.limit).toBe(7);
  });

  it("leave the policy alone when absent or invalid", () => {
    const fub = connectorFor("fub").rateLimit({ apiKey: "k" });
    expect(withRateLimitSettings(fub, {})).toEqual(fub);
    expect(withRateLimitSettings(fub, undefined)).toEqual(fub);
    expect(withRateLimitSettings(fub, { rateLimits: { global: -1 } })).toEqual(fub);
    expect(withRateLimitSettings(fub, { rateLimits: "fast" })).toEqual(fub);
  });
});

import { parseJsonExact } from "../../src/core/exact-json";

/** Drives the provider simulator's /_sim control API from Node tools and tests. */
export class SimulatorClient {
  constructor(public baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/_sim${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator ${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  putTenant(apiKey: string, config: Record<string, unknown>) {
    return this.call("PUT", `/tenants/${encodeURIComponent(apiKey)}`, config);
  }

  tenant<T = Record<string, unknown>>(apiKey: string) {
    return this.call<T>("GET", `/tenants/${encodeURIComponent(apiKey)}`);
  }

  mutate(apiKey: string, body: Record<string, unknown>) {
    return this.call("POST", `/tenants/${encodeURIComponent(apiKey)}/mutate`, body);
  }

  setFaults(apiKey: string, faults: Record<string, unknown>) {
    return this.call("PUT", `/tenants/${encodeURIComponent(apiKey)}/faults`, faults);
  }

  /** Existing hostile records of an entity: id, kind and the field holding it. */
  hostile(apiKey: string, entity: string) {
    return this.call<{
      entity: string;
      records: { id: number; kind: string; field: string; trashed: boolean }[];
    }>("GET", `/tenants/${encodeURIComponent(apiKey)}/truth/${entity}/hostile`);
  }

  /** Signed webhook deliveries with hostile bodies; returns what was sent. */
  sendHostileWebhooks(apiKey: string, body: Record<string, unknown> = {}) {
    return this.call<{
      sent: { kind: string; eventId: string; event: string; uri: string; bytes: number; urls: string[] }[];
    }>("POST", `/tenants/${encodeURIComponent(apiKey)}/hostile-webhooks`, body);
  }

  /** Request counters per rate context (served, 429s, busiest sliding window). */
  stats(apiKey: string) {
    return this.call<{
      served: number;
      rateLimited: number;
      contexts: Record<
        string,
        {
          served: number;
          rateLimited: number;
          stormRateLimited: number;
          maxInWindow: number;
          maxAttemptsInWindow: number;
          windowSec: number;
        }
      >;
    }>("GET", `/tenants/${encodeURIComponent(apiKey)}/stats`);
  }

  summary(apiKey: string, entity: string) {
    return this.call<{ count: number; idSum: number; maxUpdated: string | null; deletedIds: number[] }>(
      "GET",
      `/tenants/${encodeURIComponent(apiKey)}/truth/${entity}/summary`,
    );
  }

  /** Streams the ground truth (NDJSON) and hands each record to `each` without holding them all. */
  async eachTruth(
    apiKey: string,
    entity: string,
    each: (record: Record<string, unknown>) => void,
  ): Promise<number> {
    const res = await fetch(`${this.baseUrl}/_sim/tenants/${encodeURIComponent(apiKey)}/truth/${entity}`);
    if (!res.ok || !res.body) throw new Error(`truth ${entity} → ${res.status}`);
    const decoder = new TextDecoder();
    let buffered = "";
    let n = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) {
          each(parseJsonExact(line) as Record<string, unknown>);
          n++;
        }
        nl = buffered.indexOf("\n");
      }
    }
    if (buffered.trim()) {
      each(parseJsonExact(buffered) as Record<string, unknown>);
      n++;
    }
    return n;
  }
}

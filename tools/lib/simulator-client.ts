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
          each(JSON.parse(line));
          n++;
        }
        nl = buffered.indexOf("\n");
      }
    }
    if (buffered.trim()) {
      each(JSON.parse(buffered));
      n++;
    }
    return n;
  }
}

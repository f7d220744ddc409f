/** A small typed client for the platform's admin API, used by the dev launcher, tests and benchmarks. */
export class AdminClient {
  constructor(
    private baseUrl: string,
    private token: string,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  createAccount(id: string, name: string) {
    return this.ok<{ account: { id: string }; apiKey: string }>("POST", "/admin/accounts", { id, name });
  }

  createConnection(
    accountId: string,
    input: {
      id?: string;
      provider: string;
      credentials: Record<string, string>;
      baseUrl?: string;
      settings?: Record<string, unknown>;
    },
  ) {
    return this.ok<{ id: string }>("POST", `/admin/accounts/${accountId}/connections`, input);
  }

  sync(accountId: string, input: { connectionId?: string; entity?: string; mode: "delta" | "onboarding" }) {
    return this.ok("POST", `/admin/accounts/${accountId}/sync`, input);
  }

  status<T = unknown>(accountId: string) {
    return this.ok<T>("GET", `/admin/accounts/${accountId}/status`);
  }
}

/** Polls until check() returns a truthy value, or throws with the last observation. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}

/**
 * Reads until the value equals `expected` or the time is up, and returns the last read for the caller to assert.
 * For eventual guarantees: an acknowledged webhook is the account object's until its fetch is staged, so an
 * empty staging table does not yet mean the core has it.
 */
export async function settledTo<T>(
  read: () => Promise<T>,
  expected: T,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const want = JSON.stringify(expected);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last = await read();
  while (JSON.stringify(last) !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
    last = await read();
  }
  return last;
}

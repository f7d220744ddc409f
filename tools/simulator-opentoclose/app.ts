// Open To Close simulator: a Hono app that behaves like the REST API (/v1) as ../shared/PROVIDERS-WAVE2.md §5
// describes it, plus a control plane (/_sim). Web-standard APIs only, so it runs on Node, Bun, Deno and workerd.
//
// What it does, and where a published fact ends and a choice begins (README.md):
// - auth: `?api_token=<token>` on every request; a request without it (a header, Bearer or not) answers 403.
// - lists are bare JSON arrays paged by limit/offset (default 20; max 50 for properties, 100 otherwise; a larger
//   limit is clamped silently), in a stable order (by id).
// - no `updated` anywhere, no filter; `created` without offset plus `timezone`.
// - `POST /v1/properties` → 405 with `Allow: GET, PATCH`; `PATCH /v1/properties/{id}` edits field values.
// - about one request per second per token: a fixed one-second window, 429 beyond (no rate headers, none known).

import { Hono } from "hono";
import { Account, type AccountConfig, type MutateRequest, mutate, truthOf } from "./data";

export type { AccountConfig, MutateRequest, MutateResult, Truth } from "./data";
export { Account } from "./data";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
export const MAX_PROPERTY_LIMIT = 50;

export interface SimulatorOptions {
  /** sim clock (epoch ms); default Date.now */
  now?: () => number;
  /** accounts to create up front: name → config with its token */
  accounts?: Record<string, AccountConfig & { token: string }>;
}

export type Stats = {
  served: number;
  rateLimited: number;
  byPath: Record<string, number>;
  /** requests admitted per one-second window (start ms → count), bounded */
  windows: Record<string, number>;
};

export interface Simulator {
  app: Hono;
  accounts: Map<string, Account>;
  stats: Map<string, Stats>;
  /** requests refused 403 (no token in the query, or an unknown one) */
  forbidden: number;
  putAccount(name: string, token: string, config?: AccountConfig): Account;
  mutate(name: string, req: MutateRequest): ReturnType<typeof mutate>;
  truth(name: string): ReturnType<typeof truthOf>;
  close(): Promise<void>;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });

function page<T>(items: T[], url: URL, max: number): Response {
  const rawLimit = url.searchParams.get("limit");
  const rawOffset = url.searchParams.get("offset");
  const limit = rawLimit === null ? DEFAULT_LIMIT : Number(rawLimit);
  const offset = rawOffset === null ? 0 : Number(rawOffset);
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0)
    return json({ detail: "limit and offset must be non-negative integers" }, 400);
  return json(items.slice(offset, offset + Math.min(limit, max)));
}

export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  const now = opts.now ?? (() => Date.now());
  const accounts = new Map<string, Account>();
  const byToken = new Map<string, Account>();
  const stats = new Map<string, Stats>();
  const windows = new Map<string, { start: number; used: number }>();
  const app = new Hono();

  const statsOf = (name: string): Stats => {
    let s = stats.get(name);
    if (!s) {
      s = { served: 0, rateLimited: 0, byPath: {}, windows: {} };
      stats.set(name, s);
    }
    return s;
  };

  const sim: Simulator = {
    app,
    accounts,
    stats,
    forbidden: 0,
    putAccount(name, token, config = {}) {
      const a = new Account(name, token, config);
      accounts.set(name, a);
      byToken.set(token, a);
      statsOf(name);
      return a;
    },
    mutate(name, req) {
      const a = accounts.get(name);
      if (!a) throw new Error(`no account ${name}`);
      return mutate(a, req, now());
    },
    truth(name) {
      const a = accounts.get(name);
      if (!a) throw new Error(`no account ${name}`);
      return truthOf(a);
    },
    async close() {},
  };

  // The API: token in the query, rate limit per token, then the routes.
  app.use("/v1/*", async (c, next) => {
    const url = new URL(c.req.url);
    const token = url.searchParams.get("api_token");
    const account = token ? byToken.get(token) : undefined;
    if (!account) {
      // A header (Authorization: Bearer ...) is not read: such requests are refused like tokenless ones.
      sim.forbidden++;
      return json({ detail: "Forbidden" }, 403);
    }
    const s = statsOf(account.name);
    const limit = account.config.ratePerSec ?? 1;
    if (limit !== false) {
      const t = now();
      const w = windows.get(account.name);
      const start = Math.floor(t / 1000) * 1000;
      if (!w || w.start !== start) windows.set(account.name, { start, used: 0 });
      const cur = windows.get(account.name) as { start: number; used: number };
      if (cur.used >= limit) {
        s.rateLimited++;
        return json({ detail: "Too many requests" }, 429);
      }
      cur.used++;
      const key = String(start);
      s.windows[key] = (s.windows[key] ?? 0) + 1;
      const keys = Object.keys(s.windows);
      if (keys.length > 2000) delete s.windows[keys[0] as string];
    }
    s.served++;
    const path = url.pathname.replace(/\/\d+(?=\/|$)/g, "/{id}");
    s.byPath[path] = (s.byPath[path] ?? 0) + 1;
    c.set("account" as never, account as never);
    await next();
  });

  const acc = (c: { get(k: never): unknown }) => c.get("account" as never) as Account;

  app.get("/v1/properties", (c) =>
    page(
      acc(c)
        .sortedProperties()
        .map((s) => s.property),
      new URL(c.req.url),
      MAX_PROPERTY_LIMIT,
    ),
  );
  app.post("/v1/properties", () =>
    json({ detail: 'Method "POST" not allowed.' }, 405, { Allow: "GET, PATCH" }),
  );
  app.get("/v1/properties/:id", (c) => {
    const s = acc(c).properties.get(Number(c.req.param("id")));
    return s ? json(s.property) : json({ detail: "Not found." }, 404);
  });
  app.patch("/v1/properties/:id", async (c) => {
    const s = acc(c).properties.get(Number(c.req.param("id")));
    if (!s) return json({ detail: "Not found." }, 404);
    const body = (await c.req.json().catch(() => null)) as { field_values?: Record<string, string> } | null;
    for (const [key, value] of Object.entries(body?.field_values ?? {})) {
      const f = s.property.field_values.find((x) => x.key === key);
      if (f && typeof value === "string") f.value = value;
    }
    return json(s.property);
  });
  for (const part of ["contacts", "notes", "tasks"] as const) {
    app.get(`/v1/properties/:id/${part}`, (c) => {
      const s = acc(c).properties.get(Number(c.req.param("id")));
      if (!s) return json({ detail: "Not found." }, 404);
      return page(s[part] as unknown[], new URL(c.req.url), MAX_LIMIT);
    });
  }
  for (const list of ["contacts", "agents", "users", "teams"] as const) {
    app.get(`/v1/${list}`, (c) => {
      const items = [...(acc(c)[list] as Map<number, { id: number }>).values()].sort((a, b) => a.id - b.id);
      return page(items, new URL(c.req.url), MAX_LIMIT);
    });
  }

  // Control plane: ground truth, mutations, stats. Accounts are named; tokens never appear in these paths.
  app.get("/_sim/accounts/:name/truth", (c) => {
    const a = accounts.get(c.req.param("name"));
    return a ? json(truthOf(a)) : json({ error: "no such account" }, 404);
  });
  app.post("/_sim/accounts/:name/mutate", async (c) => {
    const name = c.req.param("name");
    if (!accounts.has(name)) return json({ error: "no such account" }, 404);
    return json(sim.mutate(name, (await c.req.json()) as MutateRequest));
  });
  app.get("/_sim/accounts/:name/stats", (c) => json(statsOf(c.req.param("name"))));
  app.get("/", () => json({ name: "opentoclose-simulator", api: "/v1", admin: "/_sim" }));
  app.notFound(() => json({ detail: "Not found." }, 404));
  app.onError((e) => json({ detail: `Simulator error: ${e instanceof Error ? e.message : String(e)}` }, 500));

  for (const [name, { token, ...config }] of Object.entries(opts.accounts ?? {}))
    sim.putAccount(name, token, config);
  return sim;
}

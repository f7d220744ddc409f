// The reZEN simulator (community-derived: ../shared/PROVIDERS-WAVE2.md §4 and "What a faithful simulator must
// do → reZEN"): the arrakis and yenta services under their own path prefixes (keymaker and sherlock answer the
// auth rule only), `X-API-KEY` only (Bearer and bad keys → 403 with the nested ApiError body), participant
// lists per lifecycle group with 0-based `pageNumber`/`pageSize`, `sortBy`/`sortDirection` and
// `{transactions, hasNext}`, partial list items with full details per transaction, network per tier, cap,
// equity, revenue-share contributions, teams; terminated deals move to TERMINATED. No rate-limit headers: a
// 429 is a fault knob. Webhooks are the documented choice (Standard Webhooks). Ground truth at /_sim/truth.
import { Hono } from "hono";
import { signStandardWebhook } from "../../src/core/signatures";
import {
  BIG_INTEGER,
  BIGNUM_FIELD,
  DEEP_FIELD,
  HOSTILE_RECORD_KINDS,
  type HostileRecordKind,
  serialize,
  withHostile,
} from "../lib/hostile";
import {
  agentWire,
  type Counts,
  contributionWire,
  DEFAULT_COUNTS,
  LISTING_GROUPS,
  listingWire,
  Store,
  TIERS,
  TRANSACTION_GROUPS,
  transactionItemWire,
  transactionWire,
} from "./data";

export const NOT_AUTHORIZED = { "com.real.commons.apierror.ApiError": { message: "Not authorized." } };
export const HOSTS = ["arrakis", "yenta", "keymaker", "sherlock"] as const;
export const MAX_PAGE_SIZE = 100;

export type Faults = {
  /** Answer every n-th API request 500 (0: never). */
  fail5xxEvery: number;
  /** Requests per minute each host admits before answering 429 with Retry-After (0: unlimited). */
  perHostPerMinute: number;
  /** The key paged lists put their records under (clients guess `data` and `content` too); null: each list's own. */
  listKey: "data" | "content" | null;
  /** A page size the service clamps to without saying so (0: MAX_PAGE_SIZE); `hasNext` still tells the truth. */
  maxPageSize: number;
  /** Called after each participant transaction page is served (tests mutate mid-scan here). */
  afterTransactionPage: ((group: string, pageNumber: number) => void) | null;
};

export type SimulatorOptions = {
  seed?: number;
  counts?: Partial<Counts>;
  /** API keys accepted. */
  keys?: string[];
  faults?: Partial<Faults>;
  /** How webhook deliveries are sent (tests capture them); the global fetch by default. */
  fetch?: typeof fetch;
};

export type Registration = { id: string; url: string; events: string[]; secret: string; key: string };
type Delivery = { type: string; data: { id: string }; timestamp: string };

export type Simulator = ReturnType<typeof createSimulator>;

/** Entities hostile records can be made in, each with the string field its string kinds rewrite. */
export const HOSTILE_FIELDS = {
  /** A transaction's detail (money, participants); `bignum` also puts a 2^53 + 1 amount in its price. */
  transactions: "leadSource",
  /** A downline (network) agent. */
  downline: "lastName",
  /** The key's own agent (`/agents/me`), changed in place: one kind at a time. */
  agent: "lastName",
} as const;
export type HostileEntity = keyof typeof HOSTILE_FIELDS;
export type HostileMade = { id: string; kind: HostileRecordKind; field: string };

/** Bodies may hold hostile structures (RawJson): written exactly as the provider would. */
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(serialize(body), { status, headers: { "content-type": "application/json", ...headers } });

function paged<T>(faults: Faults, items: T[], url: URL, ownKey: string) {
  const key = faults.listKey ?? ownKey;
  const cap = faults.maxPageSize > 0 ? Math.min(faults.maxPageSize, MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
  const pageNumber = Math.max(0, Number(url.searchParams.get("pageNumber") ?? 0) || 0);
  const size = Math.min(cap, Math.max(1, Number(url.searchParams.get("pageSize") ?? 20) || 20));
  const slice = items.slice(pageNumber * size, pageNumber * size + size);
  return { [key]: slice, hasNext: (pageNumber + 1) * size < items.length, pageNumber, pageSize: size };
}

export function createSimulator(opts: SimulatorOptions = {}) {
  const store = new Store(opts.seed ?? 20, { ...DEFAULT_COUNTS, ...opts.counts });
  const keys = new Set(opts.keys ?? ["rezen-key"]);
  const faults: Faults = {
    fail5xxEvery: 0,
    perHostPerMinute: 0,
    listKey: null,
    maxPageSize: 0,
    afterTransactionPage: null,
    ...opts.faults,
  };
  const stats = {
    served: 0,
    unauthorized: 0,
    rateLimited: 0,
    failed: 0,
    byHost: {} as Record<string, number>,
    paths: {} as Record<string, number>,
    webhooksDelivered: 0,
  };
  const windows = new Map<string, { start: number; n: number }>();
  const registrations = new Map<string, Registration>();
  const pending: Delivery[] = [];
  const send = opts.fetch ?? fetch;
  const app = new Hono();

  app.get("/_sim/truth", () => json(truth()));
  app.get("/_sim/stats", () => json(stats));

  // The auth rule, rate knob and 5xx knob of every host.
  app.use("/:host/api/v1/*", async (c, next) => {
    const host = c.req.param("host");
    if (!(HOSTS as readonly string[]).includes(host)) return c.json({ error: "unknown host" }, 404);
    const key = c.req.header("x-api-key");
    if (!key || !keys.has(key)) {
      stats.unauthorized++;
      // A Bearer token, a wrong key and no key are all refused with the nested ApiError body.
      return json(NOT_AUTHORIZED, key || c.req.header("authorization") ? 403 : 401);
    }
    if (faults.perHostPerMinute > 0) {
      const now = Date.now();
      const w = windows.get(host);
      if (!w || now - w.start >= 60_000) windows.set(host, { start: now, n: 1 });
      else if (++w.n > faults.perHostPerMinute) {
        stats.rateLimited++;
        return json({ message: "Too Many Requests" }, 429, {
          "Retry-After": String(Math.ceil((w.start + 60_000 - now) / 1000)),
        });
      }
    }
    stats.served++;
    if (faults.fail5xxEvery > 0 && stats.served % faults.fail5xxEvery === 0) {
      stats.failed++;
      return json({ message: "Internal Server Error" }, 500);
    }
    stats.byHost[host] = (stats.byHost[host] ?? 0) + 1;
    const path = new URL(c.req.url).pathname;
    stats.paths[path] = (stats.paths[path] ?? 0) + 1;
    await next();
  });

  const me = (id: string) => id === store.agent.id;
  const notFound = () => json({ "com.real.commons.apierror.ApiError": { message: "Not found." } }, 404);

  // ---- yenta: agents, network, teams ----------------------------------------------------------------------
  app.get("/yenta/api/v1/agents/me", () => json(agentWire(store.agent)));
  app.get("/yenta/api/v1/agents/:id/network-size-by-tier", (c) =>
    me(c.req.param("id"))
      ? json({ tiers: TIERS.map((tier) => ({ tier, networkSize: store.networkSize(tier) })) })
      : notFound(),
  );
  app.get("/yenta/api/v1/agents/:id/down-line/:tier", (c) => {
    if (!me(c.req.param("id"))) return notFound();
    const tier = Number(c.req.param("tier"));
    const url = new URL(c.req.url);
    const from = url.searchParams.get("updatedAtFrom");
    const to = url.searchParams.get("updatedAtTo");
    const status = url.searchParams.getAll("statusIn");
    // Date-granular bounds, inclusive, as the one published filter reads.
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const agents = [...store.downline.values()]
      .filter((a) => a.tier === tier)
      .filter((a) => (from ? day(a.updatedAt) >= from : true) && (to ? day(a.updatedAt) <= to : true))
      .filter((a) => status.length === 0 || status.includes(a.status))
      .sort((a, b) => a.createdAt - b.createdAt);
    return json(paged(faults, agents, url, "downLineAgents"));
  });
  app.get("/yenta/api/v1/agents/:id/front-line-agents-info", (c) => {
    if (!me(c.req.param("id"))) return notFound();
    const front = [...store.downline.values()].filter((a) => a.tier === 1);
    return json({
      frontLineAgentInfos: front.map((a) => ({
        id: a.id,
        firstName: a.firstName,
        lastName: a.lastName,
        emailAddress: a.emailAddress,
        status: a.status,
        sizeOfNetwork: [...store.downline.values()].filter((d) => d.sponsorId === a.id).length,
        createdAt: a.createdAt,
      })),
    });
  });
  app.get("/yenta/api/v1/agents/:id/cap-info", (c) =>
    me(c.req.param("id")) ? json({ ...store.cap }) : notFound(),
  );
  app.get("/yenta/api/v1/agents/:id/equity", (c) =>
    me(c.req.param("id")) ? json({ ...store.equity }) : notFound(),
  );
  app.get("/yenta/api/v1/teams/my-teams", (c) =>
    json(paged(faults, [...store.teams.values()], new URL(c.req.url), "teams")),
  );

  // ---- arrakis: transactions, listings, revenue share, webhooks --------------------------------------------
  app.get("/arrakis/api/v1/transactions/participant/:id/lifecycle-group-counts", (c) => {
    if (!me(c.req.param("id"))) return notFound();
    return json({
      lifecycleGroupCounts: [
        ...TRANSACTION_GROUPS.map((g) => ({ lifecycleGroup: g, count: store.inGroup(g).length })),
        ...LISTING_GROUPS.map((g) => ({ lifecycleGroup: g, count: store.listingsIn(g).length })),
      ],
    });
  });
  app.get("/arrakis/api/v1/transactions/participant/:id/transactions/:group", (c) => {
    const group = c.req.param("group");
    if (!me(c.req.param("id"))) return notFound();
    if (!(TRANSACTION_GROUPS as string[]).includes(group)) return json({ message: "Invalid request" }, 400);
    const url = new URL(c.req.url);
    const desc = (url.searchParams.get("sortDirection") ?? "DESC") === "DESC";
    const items = store
      .inGroup(group)
      .sort(
        (a, b) => (desc ? b.updatedAt - a.updatedAt : a.updatedAt - b.updatedAt) || a.id.localeCompare(b.id),
      )
      .map(transactionItemWire);
    const body = paged(faults, items, url, "transactions");
    faults.afterTransactionPage?.(group, body.pageNumber);
    return json(body);
  });
  app.get("/arrakis/api/v1/transactions/participant/:id/listing-transactions/:group", (c) => {
    if (!me(c.req.param("id"))) return notFound();
    const group = c.req.param("group");
    if (!(LISTING_GROUPS as readonly string[]).includes(group))
      return json({ message: "Invalid request" }, 400);
    const items = store
      .listingsIn(group)
      .sort((a, b) => b.updatedAt - a.updatedAt || a.id.localeCompare(b.id))
      .map(listingWire);
    return json(paged(faults, items, new URL(c.req.url), "transactions"));
  });
  app.get("/arrakis/api/v1/transactions/:id", (c) => {
    const t = store.transactions.get(c.req.param("id").toLowerCase());
    return t ? json(transactionWire(t)) : notFound();
  });
  app.get("/arrakis/api/v1/revshares/:id/contributions/:tier", (c) => {
    if (!me(c.req.param("id"))) return notFound();
    const tier = Number(c.req.param("tier"));
    const items = [...store.contributions.values()]
      .filter((x) => x.tier === tier)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(contributionWire);
    return json(paged(faults, items, new URL(c.req.url), "contributions"));
  });
  app.post("/arrakis/api/v1/webhooks", async (c) => {
    const body = (await c.req.json().catch(() => null)) as { url?: unknown; events?: unknown } | null;
    if (!body || typeof body.url !== "string" || !/^https?:\/\//.test(body.url))
      return json({ message: "Invalid request" }, 400);
    const bytes = Array.from({ length: 24 }, () => store.rng.int(0, 255));
    const reg: Registration = {
      id: store.rng.uuid(),
      url: body.url,
      events: Array.isArray(body.events) ? body.events.map(String) : [],
      secret: `whsec_${btoa(String.fromCharCode(...bytes))}`,
      key: c.req.header("x-api-key") ?? "",
    };
    registrations.set(reg.id, reg);
    return json({ id: reg.id, secret: reg.secret }, 201);
  });
  app.delete("/arrakis/api/v1/webhooks/:id", (c) =>
    registrations.delete(c.req.param("id")) ? new Response(null, { status: 204 }) : notFound(),
  );
  app.all("/:host/api/v1/*", () => notFound());

  function enqueue(type: string, id: string) {
    pending.push({ type, data: { id }, timestamp: new Date(store.clock).toISOString() });
  }

  /** Sends every pending event to every registration, Standard-Webhooks signed; returns how many were sent. */
  async function flushWebhooks(): Promise<number> {
    const batch = pending.splice(0);
    let sent = 0;
    for (const event of batch) {
      for (const reg of registrations.values()) {
        if (reg.events.length > 0 && !reg.events.includes(event.type)) continue;
        const raw = JSON.stringify(event);
        const id = `msg_${store.rng.uuid()}`;
        const ts = Math.floor(Date.now() / 1000);
        const signature = await signStandardWebhook(reg.secret, id, ts, raw);
        const res = await send(reg.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "webhook-id": id,
            "webhook-timestamp": String(ts),
            "webhook-signature": signature,
          },
          body: raw,
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`webhook delivery answered ${res.status}`);
        stats.webhooksDelivered++;
        sent++;
      }
    }
    return sent;
  }

  /** What a faithful copy must hold: every record the API serves, as served (details for transactions). */
  function truth() {
    return {
      agent: agentWire(store.agent),
      lifecycleGroupCounts: Object.fromEntries([
        ...TRANSACTION_GROUPS.map((g) => [g, store.inGroup(g).length]),
        ...LISTING_GROUPS.map((g) => [g, store.listingsIn(g).length]),
      ]),
      transactions: [...store.transactions.values()].map((t) => ({
        ...transactionWire(t),
        lifecycleGroup: t.group,
      })),
      listings: store.listingsIn("LISTING_NONTERMINATED").map(listingWire),
      networkSize: TIERS.map((tier) => ({ tier, networkSize: store.networkSize(tier) })),
      downline: [...store.downline.values()],
      frontline: [...store.downline.values()].filter((a) => a.tier === 1).map((a) => a.id),
      cap: { ...store.cap },
      equity: { ...store.equity },
      contributions: [...store.contributions.values()],
      teams: [...store.teams.values()],
    };
  }

  return {
    app,
    store,
    faults,
    stats,
    registrations,
    keys,
    truth,
    flushWebhooks,
    createTransaction() {
      const t = store.createTransaction("OPEN");
      enqueue("TRANSACTION_CREATED", t.id);
      return t;
    },
    updateTransaction(id: string, patch: { price?: number; leadSource?: string }) {
      const t = store.updateTransaction(id, patch);
      enqueue("TRANSACTION_UPDATED", t.id);
      return t;
    },
    terminateTransaction(id: string) {
      const t = store.terminateTransaction(id);
      enqueue("TRANSACTION_TERMINATED", t.id);
      return t;
    },
    /**
     * Hostile records (tools/lib/hostile.ts): one new record per kind (the key's agent: changed in place), as
     * reZEN would serve them and in the truth. Announced to nobody: a delta or a scan finds them.
     */
    hostile(
      entity: HostileEntity,
      kinds: readonly HostileRecordKind[] = HOSTILE_RECORD_KINDS,
    ): HostileMade[] {
      const field = HOSTILE_FIELDS[entity];
      const where = (kind: HostileRecordKind) =>
        kind === "deep" ? DEEP_FIELD : kind === "bignum" ? BIGNUM_FIELD : field;
      return kinds.map((kind) => {
        if (entity === "agent") {
          Object.assign(store.agent, withHostile(store.agent, kind, field), { updatedAt: store.tick() });
          return { id: store.agent.id, kind, field: where(kind) };
        }
        if (entity === "downline") {
          const a = store.addDownline(1);
          store.downline.set(a.id, withHostile(a, kind, field));
          return { id: a.id, kind, field: where(kind) };
        }
        const t = withHostile(store.createTransaction("OPEN"), kind, field);
        // A money amount a double cannot hold: kept as its exact digits, never rounded.
        if (kind === "bignum") t.price = { ...t.price, amount: BIG_INTEGER as unknown as number };
        store.transactions.set(t.id, t);
        return { id: t.id, kind, field: where(kind) };
      });
    },
    /** A change reZEN announces to nobody (the deltas must find it). */
    silently: store,
    pendingWebhooks: () => pending.length,
    async close() {},
  };
}

export type Truth = ReturnType<Simulator["truth"]>;

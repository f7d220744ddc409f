// The Lofty simulator: the Open API as ../shared/PROVIDERS-WAVE2.md §2 records it (paths, auth and its error
// code, the Content-Type rule, the 25 cap and scrollId paging under `_metadata`, 64-bit ids, mixed time formats,
// the three rate tiers, per-list batched unsigned webhooks, trash on delete), with fault knobs and ground truth.
import { Hono } from "hono";
import {
  activityWire,
  type Counts,
  callWire,
  DEFAULT_COUNTS,
  type Lead,
  leadWire,
  memberWire,
  noteWire,
  Store,
  seconds,
  taskWire,
  transactionWire,
} from "./data";
import { int as intMark, json, stringify } from "./json";
import { type ResetUnit, rateHeaders, Window } from "./ratelimit";

export const PAGE_CAP = 25;

export type Faults = {
  /** Name of the paging object: live `_metadata`, documented `get_metadata`. */
  metadataName: "_metadata" | "get_metadata";
  /** `offset`: a scrollId is a position, so leads shift under a scan when others are created or trashed. */
  scroll: "offset" | "keyset";
  resetUnit: ResetUnit;
  /** Delay before a list's pending notifications are delivered as one batch (Lofty: 1 to 5 minutes). */
  webhookDelayMs: number;
  /** Accept http:// callbacks (tests on localhost; Lofty takes https only). */
  allowHttpCallbacks: boolean;
  /** Answer every n-th API request 500 (0: never). */
  fail5xxEvery: number;
  /** Delay before each leads list page is answered (a slow scan, to watch it in progress). */
  leadsPageDelayMs: number;
  /** Called after each leads list page is served (tests mutate mid-scan here). */
  afterLeadsPage: ((pageNo: number) => void) | null;
};

export type SimulatorOptions = {
  seed?: number;
  counts?: Partial<Counts>;
  /** API key → requests per minute (10, 100 or 500). */
  keys?: Record<string, number>;
  /** OAuth access token → requests per minute. */
  tokens?: Record<string, number>;
  baseUrl?: string;
  faults?: Partial<Faults>;
  /** How webhook batches are sent (tests capture them); the global fetch by default. */
  fetch?: typeof fetch;
};

type Subscription = {
  subscribeId: number;
  listId: number;
  callbackUrl: string;
  limit: number;
  credential: string;
  pending: Record<string, unknown>[];
  timer: ReturnType<typeof setTimeout> | null;
};

export type Stats = {
  served: number;
  rateLimited: number;
  unauthorized: number;
  byStatus: Record<string, number>;
  webhooksDelivered: number;
  webhookEvents: number;
  /** Requests served per path (no query). */
  paths: Record<string, number>;
};

export function createSimulator(opts: SimulatorOptions = {}) {
  const now = () => Date.now();
  const store = new Store(opts.seed ?? 17, { ...DEFAULT_COUNTS, ...opts.counts }, now());
  const faults: Faults = {
    metadataName: "_metadata",
    scroll: "offset",
    resetUnit: "epoch-seconds",
    webhookDelayMs: 60_000,
    allowHttpCallbacks: false,
    fail5xxEvery: 0,
    leadsPageDelayMs: 0,
    afterLeadsPage: null,
    ...opts.faults,
  };
  const keys = new Map(Object.entries(opts.keys ?? { "lofty-key": 10 }));
  const tokens = new Map(Object.entries(opts.tokens ?? {}));
  const windows = new Map<string, Window>();
  const stats: Stats = {
    served: 0,
    rateLimited: 0,
    unauthorized: 0,
    byStatus: {},
    webhooksDelivered: 0,
    webhookEvents: 0,
    paths: {},
  };
  const perCredential = new Map<string, { served: number; rateLimited: number }>();
  const subscriptions = new Map<number, Subscription>();
  let nextSubscribeId = 40_001;
  let requests = 0;
  const deliveries: Promise<unknown>[] = [];

  const windowOf = (credential: string, limit: number) => {
    let w = windows.get(credential);
    if (!w) {
      w = new Window(limit);
      windows.set(credential, w);
    }
    return w;
  };

  const app = new Hono();
  const error = (status: number, code: number, message: string) => json({ code, message }, status);

  // Ground truth and admin, outside the API (no auth, no budget).
  app.get("/_sim/truth", () => json(truth()));
  app.get("/_sim/stats", () =>
    json({
      ...stats,
      credentials: Object.fromEntries(
        [...windows].map(([c, w]) => [
          c,
          { ...perCredential.get(c), history: w.history, current: w.current() },
        ]),
      ),
      subscriptions: [...subscriptions.values()].map((s) => ({
        subscribeId: s.subscribeId,
        listId: s.listId,
        pending: s.pending.length,
      })),
    }),
  );

  app.use("/v*", async (c, next) => {
    const auth = c.req.header("authorization") ?? "";
    const [scheme, value = ""] = auth.split(/\s+/, 2);
    let credential: string | null = null;
    let limit = 0;
    if (scheme?.toLowerCase() === "token" && keys.has(value)) {
      credential = value;
      limit = keys.get(value) as number;
    } else if (scheme?.toLowerCase() === "bearer" && tokens.has(value)) {
      credential = value;
      limit = tokens.get(value) as number;
    }
    if (!credential) {
      stats.unauthorized++;
      // A personal key sent as Bearer: Lofty looks for a user behind a token and finds none.
      if (scheme?.toLowerCase() === "bearer" && keys.has(value))
        return error(401, 200058, "User in token does not exist");
      return error(401, 200001, "Unauthorized");
    }
    const t = now();
    const w = windowOf(credential, limit);
    const decision = w.take(t);
    const headers = rateHeaders(limit, decision, faults.resetUnit, t);
    const pc = perCredential.get(credential) ?? { served: 0, rateLimited: 0 };
    perCredential.set(credential, pc);
    if (!decision.allowed) {
      stats.rateLimited++;
      pc.rateLimited++;
      return json({ message: "Too Many Requests" }, 429, headers);
    }
    // The Content-Type rule: GETs answer 415 and DELETEs 400 (errorCode 20001) without it.
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (!type.startsWith("application/json")) {
      const r =
        c.req.method === "DELETE"
          ? json({ errorCode: 20001, message: "Content-Type is required" }, 400, headers)
          : json({ code: 20001, message: `Content-Type '${type || "null"}' is not supported` }, 415, headers);
      stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
      return r;
    }
    requests++;
    if (faults.fail5xxEvery > 0 && requests % faults.fail5xxEvery === 0)
      return json({ code: 20005, message: "server error" }, 500, headers);
    stats.served++;
    pc.served++;
    stats.paths[c.req.path] = (stats.paths[c.req.path] ?? 0) + 1;
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    stats.byStatus[c.res.status] = (stats.byStatus[c.res.status] ?? 0) + 1;
  });

  /** One page of a newest-first list: at most 25, the position or the last key in `scrollId`. */
  function page<T>(
    list: T[],
    keyOf: (item: T) => string,
    limitParam: string | undefined,
    scrollId: string | undefined,
  ): { items: T[]; meta: Record<string, unknown> } | null {
    const limit = Math.min(PAGE_CAP, Math.max(1, Number(limitParam) || PAGE_CAP));
    let offset = 0;
    if (scrollId) {
      let decoded: { o?: number; k?: string };
      try {
        decoded = JSON.parse(atob(scrollId)) as { o?: number; k?: string };
      } catch {
        return null;
      }
      if (faults.scroll === "keyset" && typeof decoded.k === "string") {
        const at = list.findIndex((x) => keyOf(x) === decoded.k);
        offset = at >= 0 ? at + 1 : list.length;
      } else offset = Number(decoded.o) || 0;
    }
    const items = list.slice(offset, offset + limit);
    const last = items[items.length - 1];
    const next = btoa(JSON.stringify({ o: offset + items.length, k: last ? keyOf(last) : undefined }));
    return {
      items,
      // Observed: a scrollId on every page, the last one included.
      meta: { collection: "", limit, offset, total: list.length, scrollId: next },
    };
  }

  const badParam = () => error(400, 20012, "invalid parameter");
  let leadsPages = 0;

  app.get("/v1.0/leads", async (c) => {
    if (faults.leadsPageDelayMs > 0) await new Promise((r) => setTimeout(r, faults.leadsPageDelayMs));
    const p = page(store.liveLeads(), (l) => String(l.leadId), c.req.query("limit"), c.req.query("scrollId"));
    if (!p) return badParam();
    const body = {
      [faults.metadataName]: { ...p.meta, collection: "leads" },
      leads: p.items.map((l) => leadWire(l, store.teamId)),
    };
    const response = json(body);
    faults.afterLeadsPage?.(++leadsPages);
    return response;
  });

  const liveLead = (id: string): Lead | null => {
    const l = store.leads.get(id);
    return l && !l.trashed ? l : null;
  };

  app.get("/v1.0/leads/:id", (c) => {
    const l = liveLead(c.req.param("id"));
    if (!l) return error(404, 20004, "lead not found");
    return json({ lead: leadWire(l, store.teamId) });
  });

  app.delete("/v1.0/leads/:id", (c) => {
    if (!c.req.query("reason")) return badParam();
    const l = liveLead(c.req.param("id"));
    if (!l) return error(404, 20004, "lead not found");
    trashLead(l, c.req.query("reason") as string);
    return json({ code: 0, message: "success" });
  });

  app.get("/v1.0/leads/:id/activities", (c) => {
    const l = liveLead(c.req.param("id"));
    if (!l) return error(404, 20004, "lead not found");
    return json(
      store.activities
        .filter((a) => a.leadId === l.leadId)
        .sort((a, b) => b.createdMs - a.createdMs)
        .map(activityWire),
    );
  });

  app.get("/v1.0/members", (c) => {
    const p = page(store.members, (m) => String(m.id), c.req.query("limit"), c.req.query("scrollId"));
    if (!p) return badParam();
    return json({
      [faults.metadataName]: { ...p.meta, collection: "members" },
      members: p.items.map(memberWire),
    });
  });

  app.get("/v1.0/me", () => json({ id: 4521, teamId: store.teamId, role: "Owner" }));

  const byLead = <T extends { leadId: bigint }>(
    list: T[],
    leadId: string | undefined,
    newest: (x: T) => number,
  ): T[] | null => {
    const l = leadId ? liveLead(leadId) : null;
    if (!l) return null;
    return list.filter((x) => x.leadId === l.leadId).sort((a, b) => newest(b) - newest(a));
  };

  app.get("/v1.0/notes", (c) => {
    const list = byLead(store.notes, c.req.query("leadId"), (n) => n.createMs);
    if (!list)
      return c.req.query("leadId") ? json({ code: 20004, message: "lead not found" }, 404) : badParam();
    const p = page(list, (n) => String(n.id), c.req.query("limit"), c.req.query("scrollId"));
    if (!p) return badParam();
    return json({ [faults.metadataName]: { ...p.meta, collection: "notes" }, notes: p.items.map(noteWire) });
  });

  app.get("/v1.0/calls", (c) => {
    // Calls answer 404 without a leadId.
    const list = byLead(store.calls, c.req.query("leadId"), (x) => x.createMs);
    if (!list) return error(404, 20004, "not found");
    const p = page(list, (x) => String(x.id), c.req.query("limit"), c.req.query("scrollId"));
    if (!p) return badParam();
    // The docs name the paging object get_metadata here too; live clients see _metadata.
    return json({ [faults.metadataName]: { ...p.meta, collection: "calls" }, calls: p.items.map(callWire) });
  });

  app.get("/v2.0/transactions", (c) => {
    const live = store.transactions
      .filter((t) => liveLead(String(t.leadId)))
      .sort((a, b) => b.createMs - a.createMs);
    const p = page(live, (t) => String(t.id), c.req.query("limit"), c.req.query("scrollId"));
    if (!p) return badParam();
    // v2 envelopes name the paging object `metadata`.
    return json({
      metadata: { ...p.meta, collection: "transactions" },
      transactions: p.items.map(transactionWire),
    });
  });

  app.get("/v2.0/tasks", (c) => {
    const live = store.tasks
      .filter((t) => liveLead(String(t.leadId)))
      .sort((a, b) => b.createMs - a.createMs);
    const p = page(live, (t) => String(t.id), c.req.query("limit"), c.req.query("scrollId"));
    if (!p) return badParam();
    return json({ metadata: { ...p.meta, collection: "tasks" }, tasks: p.items.map(taskWire) });
  });

  // ---- webhooks ------------------------------------------------------------------------------------------
  app.post("/v1.0/webhook", async (c) => {
    const body = (await c.req.json().catch(() => null)) as {
      listId?: unknown;
      callbackUrl?: unknown;
      limit?: unknown;
    } | null;
    const listId = Number(body?.listId);
    const limit = body?.limit === undefined ? 100 : Number(body.limit);
    const url = typeof body?.callbackUrl === "string" ? body.callbackUrl : "";
    const okScheme = url.startsWith("https://") || (faults.allowHttpCallbacks && url.startsWith("http://"));
    if (!Number.isInteger(listId) || listId < 1 || listId > 12 || !okScheme) return badParam();
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) return badParam();
    const auth = c.req.header("authorization") ?? "";
    const s: Subscription = {
      subscribeId: nextSubscribeId++,
      listId,
      callbackUrl: url,
      limit,
      credential: auth.split(/\s+/, 2)[1] ?? "",
      pending: [],
      timer: null,
    };
    subscriptions.set(s.subscribeId, s);
    return json({
      subscribeId: s.subscribeId,
      teamId: store.teamId,
      listId,
      callbackUrl: url,
      vendorId: 0,
      limit,
    });
  });

  app.get("/v1.0/webhooks", () =>
    json(
      [...subscriptions.values()].map((s) => ({
        subscribeId: s.subscribeId,
        teamId: store.teamId,
        listId: s.listId,
        callbackUrl: s.callbackUrl,
        limit: s.limit,
      })),
    ),
  );

  app.delete("/v1.0/webhook/:id", (c) => {
    const s = subscriptions.get(Number(c.req.param("id")));
    if (!s) return error(404, 20004, "subscription not found");
    if (s.timer) clearTimeout(s.timer);
    subscriptions.delete(s.subscribeId);
    return json({ code: 0, message: "success" });
  });

  /** Queues a notification on every subscription of the list; each list's queue goes out as one batch. */
  function notify(listId: number, event: Record<string, unknown>) {
    for (const s of subscriptions.values()) {
      if (s.listId !== listId) continue;
      s.pending.push({ teamId: store.teamId, listId, ...event });
      s.timer ??= setTimeout(() => flush(s), faults.webhookDelayMs);
    }
  }

  function flush(s: Subscription) {
    s.timer = null;
    const batch = s.pending.splice(0, s.limit);
    if (batch.length === 0) return;
    // Unsigned: nothing but the callback URL tells this delivery from anyone else's.
    const sent = (opts.fetch ?? fetch)(s.callbackUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: stringify(batch),
    })
      .then((r) => {
        stats.webhooksDelivered++;
        stats.webhookEvents += batch.length;
        return r.body?.cancel();
      })
      .catch(() => {
        // No retry policy is documented: a failed delivery is lost, as a complete scan later finds.
      });
    deliveries.push(sent);
    if (s.pending.length > 0) s.timer = setTimeout(() => flush(s), faults.webhookDelayMs);
  }

  /** Delivers every pending batch now (tests: Lofty's 1-5 minutes, compressed). */
  async function flushWebhooks() {
    for (const s of subscriptions.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      while (s.pending.length > 0) flush(s);
    }
    await Promise.all(deliveries.splice(0));
  }

  // ---- mutations (what users do in Lofty), each announced on its list --------------------------------------
  const tick = (l: Lead) => {
    // Times have whole seconds: a second update in the same second still moves the version.
    l.updateMs = Math.max(seconds(now()), l.updateMs + 1000);
  };
  const leadEvent = (l: Lead, eventType: string) => ({
    leadId: l.leadId,
    eventType,
    updateTime: l.updateMs,
  });
  const wire = (e: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === "bigint" ? intMark(v) : v]));

  function createLead(): Lead {
    const l = store.newLead(Math.max(seconds(now()), latestCreate() + 1000));
    notify(2, wire(leadEvent(l, "created")));
    return l;
  }
  const latestCreate = () => Math.max(0, ...[...store.leads.values()].map((l) => l.createMs));
  function updateLead(id: string, patch: Partial<Pick<Lead, "firstName" | "lastName" | "stage" | "city">>) {
    const l = liveLead(id);
    if (!l) throw new Error(`no live lead ${id}`);
    Object.assign(l, patch);
    tick(l);
    notify(2, wire(leadEvent(l, "updated")));
    return l;
  }
  function trashLead(l: Lead, reason: string) {
    l.trashed = true;
    l.trashedReason = reason;
    tick(l);
    notify(2, wire(leadEvent(l, "deleted")));
  }
  function addNote(id: string) {
    const l = liveLead(id);
    if (!l) throw new Error(`no live lead ${id}`);
    const n = store.addNote(l, seconds(now()));
    notify(9, wire({ leadId: l.leadId, noteId: n.id }));
    return n;
  }

  function truth() {
    const live = store.liveLeads();
    const liveIds = new Set(live.map((l) => l.leadId));
    const s = (v: bigint | number) => String(v);
    return {
      leads: live.map((l) => ({
        leadId: s(l.leadId),
        firstName: l.firstName,
        lastName: l.lastName,
        email: l.emails[0] ?? null,
        stage: l.stage,
        city: l.city,
        assignedUserId: s(l.assignedUserId),
        updated: new Date(l.updateMs).toISOString(),
      })),
      trashedLeadIds: [...store.leads.values()].filter((l) => l.trashed).map((l) => s(l.leadId)),
      members: store.members.map((m) => ({ id: s(m.id), email: m.email })),
      transactions: store.transactions
        .filter((t) => liveIds.has(t.leadId))
        .map((t) => ({ id: s(t.id), leadId: s(t.leadId), status: t.status, price: t.price })),
      tasks: store.tasks
        .filter((t) => liveIds.has(t.leadId))
        .map((t) => ({ id: s(t.id), leadId: s(t.leadId), title: t.title, finished: t.finished })),
      notes: store.notes
        .filter((n) => liveIds.has(n.leadId))
        .map((n) => ({ id: s(n.id), leadId: s(n.leadId), content: n.content })),
      calls: store.calls
        .filter((x) => liveIds.has(x.leadId))
        .map((x) => ({ id: s(x.id), leadId: s(x.leadId), duration: x.duration })),
      activities: store.activities
        .filter((a) => liveIds.has(a.leadId))
        .map((a) => ({ id: s(a.id), leadId: s(a.leadId), type: a.type })),
    };
  }

  return {
    app,
    store,
    faults,
    stats,
    windows,
    subscriptions,
    keys,
    tokens,
    createLead,
    updateLead,
    trashLead: (id: string, reason = "duplicate") => {
      const l = liveLead(id);
      if (!l) throw new Error(`no live lead ${id}`);
      trashLead(l, reason);
    },
    addNote,
    /** A new task on a live lead, or one finished or removed: Lofty sends nothing we subscribe to for them. */
    addTask: (leadId: string) => {
      const l = liveLead(leadId);
      if (!l) throw new Error(`no live lead ${leadId}`);
      return store.addTask(l, seconds(now()));
    },
    finishTask: (id: number) => {
      const t = store.tasks.find((x) => x.id === id);
      if (!t) throw new Error(`no task ${id}`);
      t.finished = true;
      t.updateMs = Math.max(seconds(now()), t.updateMs + 1000);
    },
    removeTask: (id: number) => {
      store.tasks = store.tasks.filter((x) => x.id !== id);
    },
    flushWebhooks,
    truth,
    setBaseUrl(_url: string) {},
    async close() {
      for (const s of subscriptions.values()) if (s.timer) clearTimeout(s.timer);
      await Promise.all(deliveries.splice(0));
    },
  };
}

export type Simulator = ReturnType<typeof createSimulator>;

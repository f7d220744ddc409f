// The Follow Up Boss API surface under /v1: auth, rate limits, faults, lists,
// single records, identity and webhook registrations.

import { Hono } from "hono";
import type { SimCore } from "./app";
import { type EntityName, isEntity, type Rec } from "./data";
import { encodeNext, parseList, project, QueryError } from "./query";
import { contextLimit, type RateDecision, rateContextOf } from "./ratelimit";
import type { Tenant, WebhookRegistration } from "./tenant";
import { WEBHOOK_EVENTS } from "./webhooks";

type Env = { Variables: { tenant: Tenant; truncateAt: number | null } };

const SINGULAR: Record<EntityName, string> = {
  people: "Person",
  deals: "Deal",
  events: "Event",
  calls: "Call",
  textMessages: "Text message",
  appointments: "Appointment",
  users: "User",
  groups: "Group",
  stages: "Stage",
};

function apiKeyFromBasic(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Basic\s+(.+)$/i.exec(header.trim());
  if (!m?.[1]) return null;
  let decoded: string;
  try {
    decoded = atob(m[1]);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  return user === "" ? null : user;
}

function rateHeaders(d: RateDecision, context = "global"): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(d.limit),
    "X-RateLimit-Remaining": String(Math.max(0, d.remaining)),
    "X-RateLimit-Window": String(d.windowSec),
    "X-RateLimit-Context": context,
  };
}

function err(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errorMessage: message }), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

const UNLIMITED = 1_000_000_000;

export function fubRoutes(sim: SimCore): Hono<Env> {
  const api = new Hono<Env>();
  const anonLimiter = new Map<string, number[]>();

  // -- auth, rate limit, request-level faults ---------------------------------
  api.use("*", async (c, next) => {
    sim.noteOrigin(c.req.url);
    const now = sim.rt.now();
    const apiKey = apiKeyFromBasic(c.req.header("Authorization"));
    const tenant = apiKey === null ? undefined : sim.tenants.get(apiKey);
    if (!tenant) {
      // Unauthenticated callers share a small anonymous bucket, headers included.
      const key = apiKey ?? "";
      const hits = (anonLimiter.get(key) ?? []).filter((t) => t > now - 10_000);
      hits.push(now);
      anonLimiter.set(key, hits);
      const d: RateDecision = {
        allowed: true,
        limit: 125,
        remaining: Math.max(0, 125 - hits.length),
        windowSec: 10,
        retryAfterSec: 0,
      };
      return err(
        401,
        apiKey === null
          ? "Authentication required: use HTTP Basic auth with your API key as the username."
          : "Invalid API key.",
        { ...rateHeaders(d), "WWW-Authenticate": 'Basic realm="Follow Up Boss API"' },
      );
    }
    const systemKey = c.req.header("X-System-Key");
    const system = c.req.header("X-System") ?? "";
    if (systemKey !== undefined && systemKey !== tenant.systemKey) {
      tenant.stats.unauthorized++;
      const lim = tenant.rateLimit(false);
      const d: RateDecision = {
        allowed: true,
        limit: lim?.limit ?? UNLIMITED,
        remaining: lim?.limit ?? UNLIMITED,
        windowSec: lim?.windowSec ?? 10,
        retryAfterSec: 0,
      };
      return err(401, "Invalid X-System-Key for this X-System.", rateHeaders(d));
    }
    const withSystemKey = systemKey !== undefined;
    const rc = rateContextOf(c.req.method, c.req.path);
    const lim = contextLimit(rc, tenant.rateLimit(withSystemKey), withSystemKey);
    const rf = tenant.faults.nextRequest();
    const stormLeft = tenant.faults.storm(now);
    const context = `${tenant.apiKey}|${system}|${rc}`;
    const bump = (status: number) => {
      tenant.stats.byStatus[status] = (tenant.stats.byStatus[status] ?? 0) + 1;
    };
    if (stormLeft > 0) {
      tenant.stats.rateLimited++;
      tenant.stats.stormRateLimited++;
      bump(429);
      const d: RateDecision = {
        allowed: false,
        limit: lim?.limit ?? UNLIMITED,
        remaining: 0,
        windowSec: lim?.windowSec ?? 10,
        retryAfterSec: stormLeft,
      };
      return err(429, "Too many requests. Please retry after the time given in Retry-After.", {
        ...rateHeaders(d, rc),
        "Retry-After": String(stormLeft),
      });
    }
    const d: RateDecision = lim
      ? tenant.limiter.take(context, now, lim.limit, lim.windowSec)
      : { allowed: true, limit: UNLIMITED, remaining: UNLIMITED, windowSec: 10, retryAfterSec: 0 };
    if (!d.allowed) {
      tenant.stats.rateLimited++;
      bump(429);
      return err(429, "Too many requests. Please retry after the time given in Retry-After.", {
        ...rateHeaders(d, rc),
        "Retry-After": String(d.retryAfterSec),
      });
    }
    tenant.stats.served++;
    const headers = rateHeaders(d, rc);
    if (rf.latencyMs > 0) await sim.rt.sleep(rf.latencyMs, c.req.raw.signal);
    if (rf.timeout) {
      await sim.rt.sleep(tenant.faults.config.timeoutMs ?? 30_000, c.req.raw.signal);
      bump(504);
      return err(504, "Gateway Timeout", headers);
    }
    if (rf.error) {
      bump(rf.error);
      const msg = { 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" }[rf.error];
      return err(rf.error, msg, rf.error === 503 ? { ...headers, "Retry-After": "1" } : headers);
    }
    c.set("tenant", tenant);
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    bump(c.res.status);
    if (rf.truncateAt !== null && c.res.status === 200) {
      const text = await c.res.text();
      const cut = text.slice(0, Math.max(1, Math.floor(text.length * rf.truncateAt)));
      const h = new Headers(c.res.headers);
      h.delete("Content-Length");
      c.res = new Response(cut, { status: 200, headers: h });
    }
  });

  // -- identity ------------------------------------------------------------------
  api.get("/me", (c) => {
    const t = c.get("tenant");
    const me = t.stores.users.get(1);
    return me ? c.json(project(me.record, { all: false, only: null })) : err(404, "User not found.");
  });
  api.get("/identity", (c) => {
    const t = c.get("tenant");
    const me = t.stores.users.get(1);
    return c.json({
      account: {
        id: t.seed % 1_000_000,
        name: `Simulated Realty ${t.apiKey.slice(0, 6)}`,
        owner: me?.record ?? null,
      },
      user: me?.record ?? null,
    });
  });

  // -- webhooks --------------------------------------------------------------------
  const hookView = (h: WebhookRegistration) => ({
    id: h.id,
    event: h.event,
    url: h.url,
    status: h.status,
    system: h.system,
    created: h.created,
  });
  const validUrl = (u: unknown): u is string => {
    if (typeof u !== "string") return false;
    try {
      const p = new URL(u);
      return p.protocol === "http:" || p.protocol === "https:";
    } catch {
      return false;
    }
  };
  api.get("/webhooks", (c) => {
    const t = c.get("tenant");
    const list = [...t.webhooks.values()];
    const event = c.req.query("event");
    const hooks = (event ? list.filter((h) => h.event === event) : list).map(hookView);
    return c.json({
      _metadata: { collection: "webhooks", offset: 0, limit: hooks.length, total: hooks.length },
      webhooks: hooks,
    });
  });
  api.get("/webhooks/:id", (c) => {
    const h = c.get("tenant").webhooks.get(Number(c.req.param("id")));
    return h ? c.json(hookView(h)) : err(404, "Webhook not found.");
  });
  api.post("/webhooks", async (c) => {
    const t = c.get("tenant");
    const system = c.req.header("X-System");
    if (!system || c.req.header("X-System-Key") === undefined) {
      return err(403, "Webhooks can only be managed by a registered system: send X-System and X-System-Key.");
    }
    const body = (await c.req.json().catch(() => null)) as { event?: unknown; url?: unknown } | null;
    if (!body || typeof body.event !== "string" || !WEBHOOK_EVENTS.includes(body.event)) {
      return err(400, `Invalid event. Supported: ${WEBHOOK_EVENTS.join(", ")}.`);
    }
    if (!validUrl(body.url)) return err(400, "Invalid url: an absolute http(s) URL is required.");
    const hook: WebhookRegistration = {
      id: t.nextWebhookId++,
      event: body.event,
      url: body.url,
      status: "Active",
      system,
      created: new Date(sim.rt.now()).toISOString().slice(0, 19).concat("Z"),
    };
    t.webhooks.set(hook.id, hook);
    return c.json(hookView(hook), 201);
  });
  api.put("/webhooks/:id", async (c) => {
    const t = c.get("tenant");
    const h = t.webhooks.get(Number(c.req.param("id")));
    if (!h) return err(404, "Webhook not found.");
    const body = (await c.req.json().catch(() => null)) as { url?: unknown; status?: unknown } | null;
    if (body?.url !== undefined) {
      if (!validUrl(body.url)) return err(400, "Invalid url: an absolute http(s) URL is required.");
      h.url = body.url;
    }
    if (body?.status === "Active" || body?.status === "Disabled") h.status = body.status;
    return c.json(hookView(h));
  });
  api.delete("/webhooks/:id", (c) => {
    const t = c.get("tenant");
    const id = Number(c.req.param("id"));
    if (!t.webhooks.delete(id)) return err(404, "Webhook not found.");
    return c.body(null, 204);
  });

  // -- entities ------------------------------------------------------------------------
  api.get("/:entity", async (c) => {
    const entity = c.req.param("entity");
    if (!isEntity(entity)) return err(404, `Unknown resource '${entity}'.`);
    const t = c.get("tenant");
    let parsed: ReturnType<typeof parseList>;
    try {
      parsed = parseList(entity, (n) => c.req.query(n));
    } catch (e) {
      if (e instanceof QueryError) return err(400, e.message);
      throw e;
    }
    const { req, requestedOffset, fields } = parsed;
    if (requestedOffset > t.maxOffset) {
      return err(
        400,
        `Offset ${requestedOffset} is too deep (maximum ${t.maxOffset}). Use the 'next' parameter from _metadata for deep pagination.`,
      );
    }
    if (requestedOffset >= 1000) {
      await sim.rt.sleep(Math.floor(requestedOffset / 1000) * t.offsetPenaltyMsPer1000, c.req.raw.signal);
    }
    const result = t.stores[entity].list(req);
    const records: Rec[] = result.records.map((r) => t.faults.serve(entity, project(r, fields)));
    let next: string | null = null;
    let nextLink: string | null = null;
    if (result.next) {
      next = encodeNext(req.sort, result.next);
      const u = new URL(c.req.url);
      u.searchParams.delete("offset");
      u.searchParams.set("next", next);
      nextLink = u.toString();
    }
    return c.json({
      _metadata: {
        collection: entity,
        offset: requestedOffset,
        limit: req.limit,
        total: result.total,
        next,
        nextLink,
      },
      [entity]: records,
    });
  });

  api.get("/:entity/:id", (c) => {
    const entity = c.req.param("entity");
    if (!isEntity(entity)) return err(404, `Unknown resource '${entity}'.`);
    const t = c.get("tenant");
    const raw = c.req.param("id");
    const id = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    const got = Number.isSafeInteger(id) ? t.stores[entity].get(id) : null;
    if (!got) return err(404, `${SINGULAR[entity]} not found.`);
    const fieldsRaw = (c.req.query("fields") ?? "").trim();
    const fields =
      fieldsRaw === "" || fieldsRaw === "allFields"
        ? { all: fieldsRaw === "allFields", only: null }
        : { all: false, only: fieldsRaw.split(",").map((s) => s.trim()) };
    return c.json(t.faults.serve(entity, project(got.record, fields)));
  });

  api.all("*", () => err(404, "Not found."));
  return api;
}

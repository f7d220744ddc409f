// Simulator control plane and ground truth under /_sim (not part of FUB).

import { Hono } from "hono";
import { z } from "zod";
import type { SimCore } from "./app";
import { ENTITIES, isEntity, isoSec } from "./data";
import { HOSTILE_KINDS, HOSTILE_WEBHOOK_KINDS, serialize } from "./hostile";
import { MutationError } from "./mutations";

const countsSchema = z.record(z.string(), z.number().int().min(0).max(2_000_000_000));

const faultSchema = z.object({
  seed: z.union([z.number(), z.string()]).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().min(0).optional(),
  latencyJitterMs: z.number().min(0).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
  timeoutMs: z.number().min(0).optional(),
  malformedRate: z.number().min(0).max(1).optional(),
  truncateRate: z.number().min(0).max(1).optional(),
  storm: z
    .object({ everyN: z.number().int().positive().optional(), durationSec: z.number().positive().optional() })
    .nullable()
    .optional(),
  webhookDuplicateRate: z.number().min(0).max(1).optional(),
  webhookReorder: z.boolean().optional(),
  hostile: z
    .object({ rate: z.number().min(0).max(1), kinds: z.array(z.enum(HOSTILE_KINDS)).optional() })
    .nullable()
    .optional(),
});

const contextSchema = z.object({
  limit: z.number().int().positive(),
  limitWithoutSystemKey: z.number().int().positive().optional(),
  windowSec: z.number().positive().optional(),
});

export const tenantSchema = z.object({
  seed: z.union([z.number(), z.string()]).optional(),
  systemKey: z.string().min(1).optional(),
  counts: countsSchema.optional(),
  rateLimit: z
    .union([
      z.literal(false),
      z.object({
        limit: z.number().int().positive().optional(),
        limitWithoutSystemKey: z.number().int().positive().optional(),
        windowSec: z.number().positive().optional(),
        contexts: z.record(z.string(), contextSchema).optional(),
      }),
    ])
    .optional(),
  webhookRetryScale: z.number().min(0).optional(),
  offsetPenaltyMsPer1000: z.number().min(0).optional(),
  maxOffset: z.number().int().min(0).optional(),
  faults: faultSchema.optional(),
});

const entityEnum = z.enum(ENTITIES);
const mutateSchema = z.object({
  entity: entityEnum.optional(),
  creates: z.number().int().min(0).max(100_000).optional(),
  updates: z.number().int().min(0).max(100_000).optional(),
  deletes: z.number().int().min(0).max(100_000).optional(),
  deleteIds: z.array(z.number().int()).max(100_000).optional(),
  trash: z.number().int().min(0).max(100_000).optional(),
  archive: z.number().int().min(0).max(100_000).optional(),
  restore: z.number().int().min(0).max(100_000).optional(),
  hostile: z.number().int().min(0).max(1000).optional(),
  hostileKinds: z.array(z.enum(HOSTILE_KINDS)).optional(),
});
const hostileWebhookSchema = z.object({
  kinds: z.array(z.enum(HOSTILE_WEBHOOK_KINDS)).optional(),
  url: z.string().url().optional(),
  event: z.string().optional(),
  resourceIds: z.array(z.number().int()).min(1).max(100).optional(),
});
const streamSchema = z.object({
  ratePerSec: z.number().min(0).max(100_000),
  durationSec: z.number().positive().optional(),
  mix: z
    .object({
      creates: z.number().min(0).optional(),
      updates: z.number().min(0).optional(),
      deletes: z.number().min(0).optional(),
      trash: z.number().min(0).optional(),
    })
    .optional(),
  entity: entityEnum.optional(),
  entities: z.record(z.string(), z.number().min(0)).optional(),
  tickMs: z.number().int().min(10).optional(),
});

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
}

export function adminRoutes(sim: SimCore): Hono {
  const admin = new Hono();
  const bad = (message: string, status: 400 | 404 = 400) =>
    new Response(JSON.stringify({ error: message }), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  const body = async (req: Request): Promise<unknown> => {
    const text = await req.text();
    if (text.trim() === "") return {};
    return JSON.parse(text);
  };

  admin.get("/health", (c) =>
    c.json({ ok: true, tenants: sim.tenants.size, now: new Date(sim.rt.now()).toISOString() }),
  );

  admin.get("/tenants", (c) => c.json({ tenants: [...sim.tenants.keys()] }));

  admin.put("/tenants/:apiKey", async (c) => {
    let raw: unknown;
    try {
      raw = await body(c.req.raw);
    } catch {
      return bad("body is not JSON");
    }
    const parsed = tenantSchema.safeParse(raw);
    if (!parsed.success) return bad(issues(parsed.error));
    const { faults, ...config } = parsed.data;
    for (const k of Object.keys(config.counts ?? {}))
      if (!isEntity(k)) return bad(`unknown entity in counts: ${k}`);
    const existed = sim.tenants.has(c.req.param("apiKey"));
    const t = sim.putTenant(c.req.param("apiKey"), config);
    if (faults) t.faults.set(faults);
    return c.json(t.summary(), existed ? 200 : 201);
  });

  admin.get("/tenants/:apiKey", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    const stream = sim.streams.get(t.apiKey);
    return c.json({ ...t.summary(), stream: stream ? stream.status() : null });
  });

  admin.delete("/tenants/:apiKey", (c) => {
    return sim.deleteTenant(c.req.param("apiKey")) ? c.body(null, 204) : bad("no such tenant", 404);
  });

  admin.post("/tenants/:apiKey/reset-stats", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    t.resetStats();
    t.limiter.reset();
    return c.json(t.summary());
  });

  admin.get("/tenants/:apiKey/faults", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    return t ? c.json(t.faults.config) : bad("no such tenant", 404);
  });

  admin.put("/tenants/:apiKey/faults", async (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    let raw: unknown;
    try {
      raw = await body(c.req.raw);
    } catch {
      return bad("body is not JSON");
    }
    const parsed = faultSchema.safeParse(raw);
    if (!parsed.success) return bad(issues(parsed.error));
    t.faults.set(parsed.data);
    return c.json(t.faults.config);
  });

  admin.post("/tenants/:apiKey/mutate", async (c) => {
    const apiKey = c.req.param("apiKey");
    if (!sim.tenants.has(apiKey)) return bad("no such tenant", 404);
    let raw: unknown;
    try {
      raw = await body(c.req.raw);
    } catch {
      return bad("body is not JSON");
    }
    const parsed = mutateSchema.safeParse(raw);
    if (!parsed.success) return bad(issues(parsed.error));
    sim.noteOrigin(c.req.url);
    try {
      return c.json(sim.mutate(apiKey, parsed.data));
    } catch (e) {
      if (e instanceof MutationError) return bad(e.message);
      throw e;
    }
  });

  admin.post("/tenants/:apiKey/stream", async (c) => {
    const apiKey = c.req.param("apiKey");
    if (!sim.tenants.has(apiKey)) return bad("no such tenant", 404);
    let raw: unknown;
    try {
      raw = await body(c.req.raw);
    } catch {
      return bad("body is not JSON");
    }
    const parsed = streamSchema.safeParse(raw);
    if (!parsed.success) return bad(issues(parsed.error));
    sim.noteOrigin(c.req.url);
    const { entities, ...rest } = parsed.data;
    const filtered = entities
      ? Object.fromEntries(Object.entries(entities).filter(([e]) => isEntity(e)))
      : undefined;
    const s = sim.startStream(apiKey, { ...rest, ...(filtered ? { entities: filtered } : {}) });
    return c.json(s.status(), 202);
  });

  admin.get("/tenants/:apiKey/stream", (c) => {
    const s = sim.streams.get(c.req.param("apiKey"));
    return c.json(s ? s.status() : { running: false });
  });

  admin.delete("/tenants/:apiKey/stream", (c) => {
    const s = sim.streams.get(c.req.param("apiKey"));
    s?.stop();
    return c.json(s ? s.status() : { running: false });
  });

  admin.get("/tenants/:apiKey/webhooks", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    return c.json({
      registrations: [...t.webhooks.values()],
      stats: t.stats.webhooks,
      deliveries: t.deliveryLog,
    });
  });

  admin.post("/tenants/:apiKey/hostile-webhooks", async (c) => {
    const apiKey = c.req.param("apiKey");
    if (!sim.tenants.has(apiKey)) return bad("no such tenant", 404);
    let raw: unknown;
    try {
      raw = await body(c.req.raw);
    } catch {
      return bad("body is not JSON");
    }
    const parsed = hostileWebhookSchema.safeParse(raw);
    if (!parsed.success) return bad(issues(parsed.error));
    sim.noteOrigin(c.req.url);
    return c.json({ sent: sim.sendHostileWebhooks(apiKey, parsed.data) });
  });

  admin.get("/tenants/:apiKey/stats", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    return c.json({
      served: t.stats.served,
      rateLimited: t.stats.rateLimited,
      byStatus: t.stats.byStatus,
      contexts: t.stats.contexts,
    });
  });

  admin.get("/tenants/:apiKey/truth/:entity/hostile", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    const entity = c.req.param("entity");
    if (!isEntity(entity)) return bad(`unknown entity ${entity}`, 404);
    return c.json({ entity, records: t.stores[entity].hostileList() });
  });

  admin.get("/tenants/:apiKey/truth/:entity/summary", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    const entity = c.req.param("entity");
    if (!isEntity(entity)) return bad(`unknown entity ${entity}`, 404);
    const s = t.stores[entity].summary();
    return c.json({
      entity,
      count: s.count,
      idSum: s.idSum,
      maxUpdated: s.maxUpdatedMs > 0 ? isoSec(s.maxUpdatedMs / 1000) : null,
      deletedIds: s.deletedIds,
      trashedIds: s.trashedIds,
      archivedIds: s.archivedIds,
    });
  });

  admin.get("/tenants/:apiKey/truth/:entity", (c) => {
    const t = sim.tenants.get(c.req.param("apiKey"));
    if (!t) return bad("no such tenant", 404);
    const entity = c.req.param("entity");
    if (!isEntity(entity)) return bad(`unknown entity ${entity}`, 404);
    const includeDeleted = ["1", "true"].includes(c.req.query("includeDeleted") ?? "");
    const raw = t.mayHoldRaw(entity);
    const it = t.stores[entity].walk();
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        let chunk = "";
        for (let n = 0; n < 2000; n++) {
          const r = it.next();
          if (r.done) {
            if (chunk) ctrl.enqueue(enc.encode(chunk));
            ctrl.close();
            return;
          }
          const x = r.value;
          if (!x.record) {
            if (includeDeleted) chunk += `${JSON.stringify({ id: x.id, _deleted: true })}\n`;
            continue;
          }
          if (x.trashed && !includeDeleted) continue;
          chunk += `${serialize(x.record, raw)}\n`;
        }
        ctrl.enqueue(enc.encode(chunk));
      },
    });
    return new Response(stream, { headers: { "Content-Type": "application/x-ndjson; charset=utf-8" } });
  });

  admin.put("/clock", async (c) => {
    const raw = (await body(c.req.raw).catch(() => ({}))) as { offsetMs?: unknown; advanceMs?: unknown };
    if (typeof raw.offsetMs === "number") sim.clockOffsetMs = raw.offsetMs;
    if (typeof raw.advanceMs === "number") sim.clockOffsetMs += raw.advanceMs;
    return c.json({ offsetMs: sim.clockOffsetMs, now: new Date(sim.rt.now()).toISOString() });
  });

  admin.all("*", () => bad("unknown admin route", 404));
  return admin;
}

// Webhook subscriptions (`/public/v2/subscription`): create (201), list (client-scoped),
// get, patch, delete (204), and the event log of a subscription (kept 90 days).

import { Hono } from "hono";
import { z } from "zod";
import type { ApiEnv } from "./api";
import type { SimCore } from "./app";
import { apiError, list, one } from "./http";
import { EVENT_TYPES, LIFECYCLE_EVENTS, PROFILE_EVENTS, publicSubscription, USER_EVENTS } from "./webhooks";

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "url must be http(s)");

const createSchema = z.object({
  targetType: z.enum(["PROFILE", "USER"]),
  targetId: z.number().int(),
  url: httpUrl,
  eventTypes: z.array(z.string()).min(1),
  signingKey: z.string().min(1).max(512).optional(),
  externalId: z.string().max(512).optional(),
  enabled: z.boolean().optional(),
});

const patchSchema = z.object({
  url: httpUrl.optional(),
  eventTypes: z.array(z.string()).min(1).optional(),
  signingKey: z.string().min(1).max(512).nullable().optional(),
  externalId: z.string().max(512).nullable().optional(),
  enabled: z.boolean().optional(),
});

function badEventTypes(targetType: "PROFILE" | "USER", types: string[]): string | null {
  const allowed: readonly string[] = [
    ...(targetType === "PROFILE" ? PROFILE_EVENTS : USER_EVENTS),
    ...LIFECYCLE_EVENTS,
  ];
  const bad = types.filter((t) => !allowed.includes(t));
  if (bad.length === 0) return null;
  const unknown = bad.filter((t) => !EVENT_TYPES.includes(t));
  return unknown.length > 0
    ? `unknown event types: ${unknown.slice(0, 5).join(", ")}`
    : `event types not allowed for target ${targetType}: ${bad.slice(0, 5).join(", ")}`;
}

async function body(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    return undefined;
  }
}

export function subscriptionRoutes(sim: SimCore): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  const own = (clientId: string, raw: string) => {
    const s = sim.subscriptions.get(Number(raw));
    return s && s.clientId === clientId ? s : undefined;
  };

  app.post("/", async (c) => {
    const user = c.var.user;
    const parsed = createSchema.safeParse(await body(c.req.raw));
    if (!parsed.success) return apiError(400, parsed.error.issues[0]?.message ?? "invalid subscription");
    const b = parsed.data;
    const bad = badEventTypes(b.targetType, b.eventTypes);
    if (bad) return apiError(400, bad);
    if (b.targetType === "PROFILE" && !user.data.profiles.has(b.targetId)) {
      return apiError(403, "No access to that profile");
    }
    if (b.targetType === "USER" && b.targetId !== user.id) return apiError(403, "No access to that user");
    const at = new Date(sim.rt.now()).toISOString();
    const sub = {
      id: ++sim.subscriptionSeq,
      clientId: c.var.clientId,
      userId: user.id,
      targetType: b.targetType,
      targetId: b.targetId,
      url: b.url,
      eventTypes: [...new Set(b.eventTypes)],
      signingKey: b.signingKey ?? null,
      externalId: b.externalId ?? null,
      enabled: b.enabled ?? true,
      createdOn: at,
      updatedOn: at,
      events: [],
    };
    sim.subscriptions.set(sub.id, sub);
    return one(publicSubscription(sub), 201);
  });

  app.get("/", (c) => {
    const enabled = new URL(c.req.url).searchParams.get("enabled");
    const subs = [...sim.subscriptions.values()].filter(
      (s) => s.clientId === c.var.clientId && (enabled === null || String(s.enabled) === enabled),
    );
    return list(subs.map(publicSubscription), subs.length);
  });

  app.get("/:id", (c) => {
    const s = own(c.var.clientId, c.req.param("id"));
    return s ? one(publicSubscription(s)) : apiError(404, "Subscription not found");
  });

  app.patch("/:id", async (c) => {
    const s = own(c.var.clientId, c.req.param("id"));
    if (!s) return apiError(404, "Subscription not found");
    const parsed = patchSchema.safeParse(await body(c.req.raw));
    if (!parsed.success) return apiError(400, parsed.error.issues[0]?.message ?? "invalid subscription");
    const b = parsed.data;
    if (b.eventTypes) {
      const bad = badEventTypes(s.targetType, b.eventTypes);
      if (bad) return apiError(400, bad);
      s.eventTypes = [...new Set(b.eventTypes)];
    }
    if (b.url !== undefined) s.url = b.url;
    if (b.signingKey !== undefined) s.signingKey = b.signingKey;
    if (b.externalId !== undefined) s.externalId = b.externalId;
    if (b.enabled !== undefined) s.enabled = b.enabled;
    s.updatedOn = new Date(sim.rt.now()).toISOString();
    return one(publicSubscription(s));
  });

  app.delete("/:id", (c) => {
    const s = own(c.var.clientId, c.req.param("id"));
    if (!s) return apiError(404, "Subscription not found");
    s.enabled = false; // pending retries stop
    sim.subscriptions.delete(s.id);
    return new Response(null, { status: 204 });
  });

  app.get("/:id/event", (c) => {
    const s = own(c.var.clientId, c.req.param("id"));
    if (!s) return apiError(404, "Subscription not found");
    const events = s.events.map((e) => ({
      id: e.id,
      eventType: e.eventType,
      createdOn: e.createdOn,
      status: e.status,
      attempts: e.attempts,
    }));
    return list(events, events.length);
  });

  app.get("/:id/event/:eid", (c) => {
    const s = own(c.var.clientId, c.req.param("id"));
    const e = s?.events.find((x) => x.id === c.req.param("eid"));
    if (!e) return apiError(404, "Event not found");
    return one({
      id: e.id,
      eventType: e.eventType,
      createdOn: e.createdOn,
      status: e.status,
      attempts: e.attempts,
      payload: e.payload,
    });
  });

  return app;
}

// Control plane under /_sim (not Dotloop): clients, users, the clock, OAuth knobs, faults,
// mutations, subscriptions' lifecycle, counters and ground truth.

import { Hono } from "hono";
import { z } from "zod";
import type { SimCore } from "./app";
import { HOSTILE_KINDS } from "./hostile";
import { json } from "./http";
import { MutationError } from "./mutations";
import { truthOf } from "./truth";
import type { User } from "./user";
import { publicSubscription } from "./webhooks";

const faultSchema = z.object({
  seed: z.union([z.number(), z.string()]).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().min(0).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
  timeoutMs: z.number().min(0).optional(),
  storm: z
    .object({ everyN: z.number().int().positive().optional(), durationSec: z.number().positive().optional() })
    .nullable()
    .optional(),
  webhookDuplicateRate: z.number().min(0).max(1).optional(),
  webhookDropRate: z.number().min(0).max(1).optional(),
});

export const userSchema = z.object({
  seed: z.union([z.number(), z.string()]).optional(),
  counts: z
    .object({
      profiles: z.number().int().min(1).max(100).optional(),
      loopsPerProfile: z.number().int().min(0).max(100_000).optional(),
      contacts: z.number().int().min(0).max(1_000_000).optional(),
      templatesPerProfile: z.number().int().min(0).max(1000).optional(),
    })
    .optional(),
  hostile: z
    .object({ rate: z.number().min(0).max(1), kinds: z.array(z.enum(HOSTILE_KINDS)).optional() })
    .nullable()
    .optional(),
  rateLimit: z
    .union([
      z.literal(false),
      z.object({
        limit: z.number().int().positive().optional(),
        windowSec: z.number().positive().optional(),
      }),
    ])
    .optional(),
  maxBatchSize: z.number().int().positive().optional(),
  defaultBatchSize: z.number().int().positive().optional(),
  signatureMode: z.enum(["body", "timestamp.body"]).optional(),
  webhookRetryScale: z.number().min(0).optional(),
  faults: faultSchema.optional(),
});

const oauthSchema = z.object({
  accessTokenTtlSec: z.number().positive().optional(),
  refreshRotation: z.boolean().optional(),
  refreshRevokesAccess: z.boolean().optional(),
  codeTtlSec: z.number().positive().optional(),
});

const mutateSchema = z.object({
  loops: z
    .object({
      profileId: z.number().int().optional(),
      creates: z.number().int().min(0).optional(),
      updates: z.number().int().min(0).optional(),
      updateIds: z.array(z.number().int()).optional(),
      archives: z.number().int().min(0).optional(),
      archiveIds: z.array(z.number().int()).optional(),
      merges: z.number().int().min(0).optional(),
      mergePairs: z.array(z.object({ fromId: z.number().int(), toId: z.number().int() })).optional(),
    })
    .optional(),
  contacts: z
    .object({
      creates: z.number().int().min(0).optional(),
      updates: z.number().int().min(0).optional(),
      updateIds: z.array(z.number().int()).optional(),
      deletes: z.number().int().min(0).optional(),
      deleteIds: z.array(z.number().int()).optional(),
    })
    .optional(),
  participants: z
    .object({
      creates: z.number().int().min(0).optional(),
      updates: z.number().int().min(0).optional(),
      deletes: z.number().int().min(0).optional(),
      deleteIds: z.array(z.number().int()).optional(),
    })
    .optional(),
  profiles: z
    .object({
      updates: z.number().int().min(0).optional(),
      removeAccessIds: z.array(z.number().int()).optional(),
    })
    .optional(),
  tasks: z.object({ toggles: z.number().int().min(0).optional() }).optional(),
});

function err(status: number, code: string, message: string): Response {
  return json({ error: { code, message } }, status);
}

async function body(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function summary(user: User, sim: SimCore): Record<string, unknown> {
  const d = user.data;
  return {
    id: user.id,
    seed: user.seed,
    counts: {
      profiles: d.profiles.size,
      loops: d.loops.size,
      contacts: d.contacts.size,
      merged: user.merged.size,
      deletedContacts: user.deletedContacts.size,
      deletedParticipants: user.deletedParticipants.size,
    },
    rateLimit: user.rate.config,
    rateWindow: user.rate.current(),
    maxBatchSize: user.maxBatchSize,
    defaultBatchSize: user.defaultBatchSize,
    signatureMode: user.signatureMode,
    faults: user.faults.config,
    stats: user.stats,
    subscriptions: [...sim.subscriptions.values()]
      .filter((s) => s.userId === user.id)
      .map(publicSubscription),
  };
}

export function adminRoutes(sim: SimCore): Hono {
  const app = new Hono();
  const userOf = (raw: string) => sim.users.get(Number(raw));

  app.get("/health", (c) => c.json({ ok: true, users: sim.users.size, now: sim.rt.now() }));

  app.put("/clock", async (c) => {
    const b = z
      .object({ offsetMs: z.number().optional(), advanceMs: z.number().optional() })
      .safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", "expected {offsetMs?} or {advanceMs?}");
    if (b.data.offsetMs !== undefined) sim.clockOffsetMs = b.data.offsetMs;
    if (b.data.advanceMs !== undefined) sim.clockOffsetMs += b.data.advanceMs;
    return c.json({ offsetMs: sim.clockOffsetMs, now: sim.rt.now() });
  });

  app.get("/clients", (c) => c.json({ clients: [...sim.oauth.clients.keys()] }));
  app.put("/clients/:clientId", async (c) => {
    const b = z
      .object({ secret: z.string().min(1), redirectUris: z.array(z.string()).nullable().optional() })
      .safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", "expected {secret, redirectUris?}");
    sim.putClient(c.req.param("clientId"), b.data.secret, b.data.redirectUris ?? null);
    return c.json({ clientId: c.req.param("clientId") }, 201);
  });

  app.get("/oauth", (c) =>
    c.json({ settings: sim.oauth.settings, login: sim.oauth.login, stats: sim.oauth.stats }),
  );
  app.put("/oauth", async (c) => {
    const b = oauthSchema.safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", b.error.issues[0]?.message ?? "invalid");
    Object.assign(sim.oauth.settings, b.data);
    return c.json({ settings: sim.oauth.settings });
  });
  app.put("/authorize", async (c) => {
    const b = z
      .object({ userId: z.number().int().nullable().optional(), deny: z.boolean().optional() })
      .safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", "expected {userId?, deny?}");
    if (b.data.userId !== undefined) sim.oauth.login.userId = b.data.userId;
    if (b.data.deny !== undefined) sim.oauth.login.deny = b.data.deny;
    return c.json({ login: sim.oauth.login });
  });

  app.get("/users", (c) => c.json({ users: [...sim.users.keys()] }));
  app.put("/users/:id", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id < 1)
      return err(400, "bad_request", "user id must be a positive integer");
    const b = userSchema.safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", b.error.issues[0]?.message ?? "invalid user");
    const existed = sim.users.has(id);
    const { faults, ...config } = b.data;
    const user = sim.putUser(id, config);
    if (faults) user.faults.set(faults);
    return c.json(summary(user, sim), existed ? 200 : 201);
  });
  app.get("/users/:id", (c) => {
    const u = userOf(c.req.param("id"));
    return u ? c.json(summary(u, sim)) : err(404, "not_found", "no such user");
  });
  app.delete("/users/:id", (c) =>
    sim.users.delete(Number(c.req.param("id")))
      ? new Response(null, { status: 204 })
      : err(404, "not_found", "no such user"),
  );

  app.get("/users/:id/faults", (c) => {
    const u = userOf(c.req.param("id"));
    return u ? c.json(u.faults.config) : err(404, "not_found", "no such user");
  });
  app.put("/users/:id/faults", async (c) => {
    const u = userOf(c.req.param("id"));
    if (!u) return err(404, "not_found", "no such user");
    const b = faultSchema.safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", b.error.issues[0]?.message ?? "invalid faults");
    u.faults.set(b.data);
    return c.json(u.faults.config);
  });

  app.post("/users/:id/revoke-refresh", (c) => {
    const u = userOf(c.req.param("id"));
    return u ? c.json({ revoked: sim.oauth.revokeRefreshOf(u.id) }) : err(404, "not_found", "no such user");
  });
  app.post("/users/:id/expire-access", (c) => {
    const u = userOf(c.req.param("id"));
    return u
      ? c.json({ expired: sim.oauth.expireAccessOf(u.id, sim.rt.now()) })
      : err(404, "not_found", "no such user");
  });

  app.post("/users/:id/mutate", async (c) => {
    const u = userOf(c.req.param("id"));
    if (!u) return err(404, "not_found", "no such user");
    const b = mutateSchema.safeParse(await body(c.req.raw));
    if (!b.success) return err(400, "bad_request", b.error.issues[0]?.message ?? "invalid mutation");
    try {
      return c.json(sim.mutate(u.id, b.data));
    } catch (e) {
      if (e instanceof MutationError) return err(400, "bad_request", e.message);
      throw e;
    }
  });

  app.get("/users/:id/truth", (c) => {
    const u = userOf(c.req.param("id"));
    return u ? c.json(truthOf(u, sim.rt.now())) : err(404, "not_found", "no such user");
  });

  app.get("/users/:id/stats", (c) => {
    const u = userOf(c.req.param("id"));
    if (!u) return err(404, "not_found", "no such user");
    return c.json({ ...u.stats, rateWindow: u.rate.current(), rateWindows: u.rate.history });
  });
  app.post("/users/:id/reset-stats", (c) => {
    const u = userOf(c.req.param("id"));
    if (!u) return err(404, "not_found", "no such user");
    const s = u.stats;
    s.served = s.rateLimited = s.stormRateLimited = s.unauthorized = 0;
    s.byStatus = {};
    u.rate.reset();
    return c.json({ ok: true });
  });

  app.get("/users/:id/webhooks", (c) => {
    const u = userOf(c.req.param("id"));
    if (!u) return err(404, "not_found", "no such user");
    return c.json({
      subscriptions: [...sim.subscriptions.values()].filter((s) => s.userId === u.id).map(publicSubscription),
      counters: u.stats.webhooks,
      deliveries: u.deliveries,
    });
  });

  // Provider-side lifecycle: Dotloop disables a subscription when its owner loses access, and
  // may remove one; each is announced to the subscription if it asked for the event.
  app.post("/subscriptions/:sid/disable", (c) => {
    const r = sim.endSubscription(Number(c.req.param("sid")), "SUBSCRIPTION_DISABLED");
    return r ? c.json(r) : err(404, "not_found", "no such subscription");
  });
  app.post("/subscriptions/:sid/remove", (c) => {
    const r = sim.endSubscription(Number(c.req.param("sid")), "SUBSCRIPTION_REMOVED");
    return r ? c.json(r) : err(404, "not_found", "no such subscription");
  });

  return app;
}

// Dotloop simulator: a Hono app that behaves like Dotloop's OAuth server (/oauth) and Public
// API v2 (/public/v2), plus a control plane (/_sim). Runtime-agnostic: web-standard APIs only,
// so the same app runs on Node, Bun, Deno and workerd. See README.md.

import { Hono } from "hono";
import { type SimRuntime, Timers } from "../simulator/runtime";
import { adminRoutes } from "./admin";
import { apiRoutes } from "./api";
import type { FaultConfig } from "./faults";
import { apiError } from "./http";
import { type MutateRequest, type MutateResult, MutationError, mutate } from "./mutations";
import { OAuthStore, oauthRoutes } from "./oauth";
import { User, type UserConfig } from "./user";
import { dispatch, type Subscription } from "./webhooks";

export type { FaultConfig } from "./faults";
export type { MutateRequest, MutateResult } from "./mutations";
export type { OAuthSettings } from "./oauth";
export { DEFAULT_OAUTH } from "./oauth";
export type { UserConfig } from "./user";
export { User } from "./user";
export {
  DELIVERY_TIMEOUT_MS,
  EVENT_TYPES,
  RETRY_SCHEDULE_SEC,
  type Subscription,
  signDotloop,
  signedText,
} from "./webhooks";

export interface SimulatorOptions {
  /** sim clock (epoch ms); default Date.now */
  now?: () => number;
  /** fetch used to deliver webhooks; default globalThis.fetch */
  fetch?: typeof fetch;
  /** public base URL (used in 301 Locations only through the request's own origin); default learned */
  baseUrl?: string;
  /** OAuth clients to register up front: clientId -> secret */
  clients?: Record<string, string>;
  /** users to create up front, by account id */
  users?: Record<number, UserConfig & { faults?: FaultConfig }>;
}

export interface SimCore {
  rt: SimRuntime;
  users: Map<number, User>;
  oauth: OAuthStore;
  subscriptions: Map<number, Subscription>;
  subscriptionSeq: number;
  clockOffsetMs: number;
  noteOrigin(url: string): void;
  putClient(clientId: string, secret: string, redirectUris?: string[] | null): void;
  putUser(id: number, config?: UserConfig): User;
  /** apply a mutation and deliver its webhooks */
  mutate(userId: number, req: MutateRequest): MutateResult & { deliveries: number };
  /** announce SUBSCRIPTION_DISABLED / _REMOVED to the subscription, then disable or remove it */
  endSubscription(
    id: number,
    eventType: "SUBSCRIPTION_DISABLED" | "SUBSCRIPTION_REMOVED",
  ): { id: number; eventType: string; announced: boolean } | null;
}

export interface Simulator extends SimCore {
  app: Hono;
  fetch(req: Request): Promise<Response>;
  setFaults(userId: number, faults: FaultConfig): void;
  setBaseUrl(url: string): void;
  baseUrl(): string;
  close(): Promise<void>;
}

export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  const timers = new Timers();
  const clock = opts.now ?? (() => Date.now());
  let baseUrl = opts.baseUrl?.replace(/\/+$/, "");
  const users = new Map<number, User>();
  const subscriptions = new Map<number, Subscription>();

  const sim: Simulator = {
    app: new Hono(),
    users,
    oauth: new OAuthStore(),
    subscriptions,
    subscriptionSeq: 0,
    clockOffsetMs: 0,
    rt: {
      now: () => clock() + sim.clockOffsetMs,
      fetch: (input, init) => (opts.fetch ?? globalThis.fetch)(input, init),
      baseUrl: () => baseUrl ?? "http://127.0.0.1:8789",
      setTimer: (fn, ms) => timers.set(fn, ms),
      sleep: (ms, signal) => timers.sleep(ms, signal),
    },
    fetch: async (req) => sim.app.fetch(req),
    noteOrigin(url) {
      if (baseUrl === undefined) {
        try {
          baseUrl = new URL(url).origin;
        } catch {
          // relative URL in an in-process call: keep the default
        }
      }
    },
    setBaseUrl(url) {
      baseUrl = url.replace(/\/+$/, "");
    },
    baseUrl: () => sim.rt.baseUrl(),
    putClient(clientId, secret, redirectUris = null) {
      sim.oauth.clients.set(clientId, { secret, redirectUris });
    },
    putUser(id, config = {}) {
      const u = new User(id, config);
      users.set(id, u);
      return u;
    },
    setFaults(userId, faults) {
      const u = users.get(userId);
      if (!u) throw new MutationError(`no user ${userId}`);
      u.faults.set(faults);
    },
    mutate(userId, req) {
      const u = users.get(userId);
      if (!u) throw new MutationError(`no user ${userId}`);
      const res = mutate(u, sim.rt.now(), req);
      const deliveries = dispatch(sim.rt, u, subscriptions.values(), res.events);
      // Published: losing access to a profile disables its subscriptions (not re-enabled).
      for (const pid of res.profiles.accessRemoved) {
        for (const s of [...subscriptions.values()]) {
          if (s.userId === u.id && s.targetType === "PROFILE" && s.targetId === pid && s.enabled) {
            sim.endSubscription(s.id, "SUBSCRIPTION_DISABLED");
          }
        }
      }
      return { ...res, deliveries };
    },
    endSubscription(id, eventType) {
      const s = subscriptions.get(id);
      const u = s ? users.get(s.userId) : undefined;
      if (!s || !u) return null;
      const announced = dispatch(sim.rt, u, [s], [{ eventType, event: { id } }]) > 0;
      s.enabled = false;
      if (eventType === "SUBSCRIPTION_REMOVED") subscriptions.delete(id);
      return { id, eventType, announced };
    },
    async close() {
      timers.close();
    },
  };

  for (const [id, secret] of Object.entries(opts.clients ?? {})) sim.putClient(id, secret);
  for (const [id, cfg] of Object.entries(opts.users ?? {})) {
    const { faults, ...config } = cfg;
    const u = sim.putUser(Number(id), config);
    if (faults) u.faults.set(faults);
  }

  sim.app.route("/_sim", adminRoutes(sim));
  sim.app.route("/oauth", oauthRoutes(sim));
  sim.app.route("/public/v2", apiRoutes(sim));
  sim.app.get("/", (c) =>
    c.json({ name: "dotloop-simulator", api: "/public/v2", oauth: "/oauth", admin: "/_sim" }),
  );
  sim.app.notFound(() => apiError(404, "Not found"));
  sim.app.onError((e) => apiError(500, `Simulator error: ${e instanceof Error ? e.message : String(e)}`));
  return sim;
}

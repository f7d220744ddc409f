// Follow Up Boss simulator: a Hono app that behaves like the real FUB API
// (/v1) plus a control plane (/_sim). Runtime-agnostic: web-standard APIs only,
// so the same app runs on Node, Bun, Deno and workerd. See README.md.

import { Hono } from "hono";
import { adminRoutes } from "./admin";
import { fubRoutes } from "./api";
import type { FaultConfig } from "./faults";
import {
  type MutateRequest,
  type MutateResult,
  MutationError,
  MutationStream,
  mutate,
  type StreamConfig,
} from "./mutations";
import { type SimRuntime, Timers } from "./runtime";
import { Tenant, type TenantConfig } from "./tenant";
import { type HostileWebhookRequest, type HostileWebhookSent, sendHostileWebhooks } from "./webhooks";

export type { EntityName, Rec } from "./data";
export { ENTITIES } from "./data";
export type { FaultConfig } from "./faults";
export type { HostileKind, HostileWebhookKind } from "./hostile";
export { HOSTILE_KINDS, HOSTILE_WEBHOOK_KINDS, RawJson, serialize } from "./hostile";
export type { MutateRequest, MutateResult, StreamConfig } from "./mutations";
export type { TenantConfig } from "./tenant";
export { Tenant } from "./tenant";
export type { HostileWebhookRequest, HostileWebhookSent } from "./webhooks";

export interface SimulatorOptions {
  /** sim clock (epoch ms); default Date.now */
  now?: () => number;
  /** fetch used to deliver webhooks; default globalThis.fetch */
  fetch?: typeof fetch;
  /** public base URL used in webhook `uri`s; default: learned from the first request, else http://127.0.0.1:8788 */
  baseUrl?: string;
  /** tenants to create up front, by API key */
  tenants?: Record<string, TenantConfig & { faults?: FaultConfig }>;
}

/** What the route modules need. */
export interface SimCore {
  rt: SimRuntime;
  tenants: Map<string, Tenant>;
  streams: Map<string, MutationStream>;
  clockOffsetMs: number;
  noteOrigin(url: string): void;
  putTenant(apiKey: string, config: TenantConfig): Tenant;
  deleteTenant(apiKey: string): boolean;
  mutate(apiKey: string, req: MutateRequest): MutateResult;
  startStream(apiKey: string, config: StreamConfig): MutationStream;
  /** signed deliveries with hostile bodies (NUL, lone surrogates, deep nesting, invalid UTF-8) */
  sendHostileWebhooks(apiKey: string, req?: HostileWebhookRequest): HostileWebhookSent[];
}

export interface Simulator extends SimCore {
  app: Hono;
  /** shorthand for app.fetch */
  fetch(req: Request): Promise<Response>;
  getTenant(apiKey: string): Tenant | undefined;
  setFaults(apiKey: string, faults: FaultConfig): void;
  stopStream(apiKey: string): void;
  setBaseUrl(url: string): void;
  /** stop streams, pending webhook retries and hanging requests */
  close(): Promise<void>;
}

export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  const timers = new Timers();
  const clock = opts.now ?? (() => Date.now());
  let baseUrl = opts.baseUrl?.replace(/\/+$/, "");
  const tenants = new Map<string, Tenant>();
  const streams = new Map<string, MutationStream>();

  const sim: Simulator = {
    app: new Hono(),
    tenants,
    streams,
    clockOffsetMs: 0,
    rt: {
      now: () => clock() + sim.clockOffsetMs,
      fetch: (input, init) => (opts.fetch ?? globalThis.fetch)(input, init),
      baseUrl: () => baseUrl ?? "http://127.0.0.1:8788",
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
    putTenant(apiKey, config) {
      sim.stopStream(apiKey);
      const t = new Tenant(apiKey, config);
      tenants.set(apiKey, t);
      return t;
    },
    getTenant: (apiKey) => tenants.get(apiKey),
    deleteTenant(apiKey) {
      sim.stopStream(apiKey);
      return tenants.delete(apiKey);
    },
    setFaults(apiKey, faults) {
      const t = tenants.get(apiKey);
      if (!t) throw new MutationError(`no tenant ${apiKey}`);
      t.faults.set(faults);
    },
    mutate(apiKey, req) {
      const t = tenants.get(apiKey);
      if (!t) throw new MutationError(`no tenant ${apiKey}`);
      return mutate(sim.rt, t, req);
    },
    startStream(apiKey, config) {
      const t = tenants.get(apiKey);
      if (!t) throw new MutationError(`no tenant ${apiKey}`);
      sim.stopStream(apiKey);
      const s = new MutationStream(sim.rt, t, config);
      streams.set(apiKey, s);
      return s;
    },
    sendHostileWebhooks(apiKey, req = {}) {
      const t = tenants.get(apiKey);
      if (!t) throw new MutationError(`no tenant ${apiKey}`);
      return sendHostileWebhooks(sim.rt, t, req);
    },
    stopStream(apiKey) {
      streams.get(apiKey)?.stop();
    },
    async close() {
      for (const s of streams.values()) s.stop();
      timers.close();
    },
  };

  for (const [apiKey, cfg] of Object.entries(opts.tenants ?? {})) {
    const { faults, ...config } = cfg;
    const t = sim.putTenant(apiKey, config);
    if (faults) t.faults.set(faults);
  }

  sim.app.route("/_sim", adminRoutes(sim));
  sim.app.route("/v1", fubRoutes(sim));
  sim.app.get("/", (c) => c.json({ name: "fub-simulator", api: "/v1", admin: "/_sim" }));
  sim.app.notFound(
    () =>
      new Response(JSON.stringify({ errorMessage: "Not found." }), {
        status: 404,
        headers: { "Content-Type": "application/json" },
      }),
  );
  sim.app.onError((e) => {
    const message = e instanceof Error ? e.message : String(e);
    return new Response(JSON.stringify({ errorMessage: `Simulator error: ${message}` }), {
      status: 500,
      headers: { "Content-Type": "application/json" },
    });
  });
  return sim;
}

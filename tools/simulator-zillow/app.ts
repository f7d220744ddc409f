// The Zillow simulator (SEEDS-DERIVED, see contract.ts): OAuth (authorize, token with refresh, revoke), the
// grant's /v1/me, paged lists of agents, teams, sync users and contact sync events, mutations that send
// signed Zillow Sync webhooks, faults, request counts and ground truth.

import { type Context, Hono } from "hono";
import {
  BIGNUM_FIELD,
  DEEP_FIELD,
  HOSTILE_RECORD_KINDS,
  type HostileRecordKind,
  serialize,
  withHostile,
} from "../lib/hostile";
import { BY_IDS, DELTA, ID_PREFIX, OAUTH, PAGING, PATHS, RATE_LIMIT, WEBHOOK } from "./contract";
import {
  type Agent,
  type ContactSyncEvent,
  type Counts,
  type Dataset,
  generate,
  pad,
  type Stamped,
  zillowTime,
} from "./data";
import { signWebhook } from "./signature";

export type SimulatorOptions = {
  seed?: number;
  counts?: Partial<Counts>;
  /** OAuth clients: id → secret. */
  clients?: Record<string, string>;
  now?: () => number;
};

type Grant = { id: number; clientId: string; revoked: boolean };

export type Stats = {
  served: number;
  unauthorized: number;
  byPath: Record<string, number>;
  oauth: { codeExchanges: number; refreshes: number; refreshRefused: number; revokes: number };
  webhooks: { sent: number; acknowledged: number; failed: number };
};

const instant = (s: string) => Date.parse(s);

/** Entities hostile records can be made in, each with the string field its string kinds rewrite. */
export const HOSTILE_FIELDS = { agents: "name", events: "contact.lastName" } as const;
export type HostileMade = {
  entity: keyof typeof HOSTILE_FIELDS;
  id: string;
  kind: HostileRecordKind;
  field: string;
};

/** A JSON answer that may hold hostile structures (RawJson), written exactly as the provider would. */
const exactJson = (body: unknown) =>
  new Response(serialize(body), { headers: { "Content-Type": "application/json" } });

function oauthError(status: number, error: string): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
}

function basicClient(header: string | undefined): { id: string; secret: string } | null {
  if (!header?.startsWith("Basic ")) return null;
  try {
    const raw = atob(header.slice(6).trim());
    const i = raw.indexOf(":");
    return i < 0
      ? null
      : { id: decodeURIComponent(raw.slice(0, i)), secret: decodeURIComponent(raw.slice(i + 1)) };
  } catch {
    return null;
  }
}

async function formParams(req: Request): Promise<URLSearchParams> {
  const merged = new URLSearchParams();
  if ((req.headers.get("Content-Type") ?? "").includes("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(await req.text())) merged.set(k, v);
  }
  for (const [k, v] of new URL(req.url).searchParams) merged.set(k, v);
  return merged;
}

export function createSimulator(opts: SimulatorOptions = {}) {
  const now = opts.now ?? (() => Date.now());
  const counts: Counts = { teams: 6, agents: 120, events: 200, ...opts.counts };
  const data: Dataset = generate(opts.seed ?? 21, counts, now());
  const clients = new Map(Object.entries(opts.clients ?? { "zillow-client": "zillow-secret" }));
  const codes = new Map<
    string,
    { clientId: string; redirectUri: string; expiresAt: number; used: boolean }
  >();
  const access = new Map<string, { grant: Grant; expiresAt: number }>();
  const refresh = new Map<string, { grant: Grant; revoked: boolean }>();
  const settings = { accessTokenTtlSec: OAUTH.accessTokenTtlSec };
  let grantSeq = 0;
  let webhookUrl: string | null = null;
  let webhookClientId: string | null = null;
  let faults = { dropWebhooks: false };
  const seq = { events: counts.events, agents: counts.agents };
  const stats: Stats = {
    served: 0,
    unauthorized: 0,
    byPath: {},
    oauth: { codeExchanges: 0, refreshes: 0, refreshRefused: 0, revokes: 0 },
    webhooks: { sent: 0, acknowledged: 0, failed: 0 },
  };

  const issue = (grant: Grant) => {
    const access_token = crypto.randomUUID();
    const refresh_token = crypto.randomUUID();
    const expiresAt = now() + settings.accessTokenTtlSec * 1000;
    access.set(access_token, { grant, expiresAt });
    refresh.set(refresh_token, { grant, revoked: false });
    return { access_token, refresh_token, expires_in: settings.accessTokenTtlSec, token_type: "Bearer" };
  };

  const app = new Hono();

  app.get(PATHS.authorize, (c) => {
    const q = new URL(c.req.url).searchParams;
    const clientId = q.get("client_id") ?? "";
    const redirectUri = q.get("redirect_uri") ?? "";
    const state = q.get("state");
    if (q.get("response_type") !== "code" || !clients.has(clientId)) return c.text("bad request", 400);
    let target: URL;
    try {
      target = new URL(redirectUri);
    } catch {
      return c.text("bad redirect_uri", 400);
    }
    const code = crypto.randomUUID().replaceAll("-", "");
    codes.set(code, { clientId, redirectUri, expiresAt: now() + OAUTH.codeTtlSec * 1000, used: false });
    target.searchParams.set("code", code);
    if (state !== null) target.searchParams.set("state", state);
    return c.redirect(target.toString(), 302);
  });

  app.post(PATHS.token, async (c) => {
    const cred = basicClient(c.req.header("Authorization"));
    if (!cred || clients.get(cred.id) !== cred.secret) return oauthError(401, "invalid_client");
    const p = await formParams(c.req.raw);
    if (p.get("grant_type") === "authorization_code") {
      const code = codes.get(p.get("code") ?? "");
      if (!code || code.used || code.clientId !== cred.id || now() >= code.expiresAt) {
        return oauthError(400, "invalid_grant");
      }
      if ((p.get("redirect_uri") ?? "") !== code.redirectUri) return oauthError(400, "invalid_grant");
      code.used = true;
      stats.oauth.codeExchanges++;
      // The grant's webhooks are signed with a key derived from the client that holds it.
      webhookClientId = cred.id;
      return c.json(issue({ id: ++grantSeq, clientId: cred.id, revoked: false }));
    }
    if (p.get("grant_type") === "refresh_token") {
      const r = refresh.get(p.get("refresh_token") ?? "");
      if (!r || r.revoked || r.grant.revoked || r.grant.clientId !== cred.id) {
        stats.oauth.refreshRefused++;
        return oauthError(400, "invalid_grant");
      }
      stats.oauth.refreshes++;
      r.revoked = true;
      return c.json(issue(r.grant));
    }
    return oauthError(400, "unsupported_grant_type");
  });

  app.post(PATHS.revoke, async (c) => {
    const cred = basicClient(c.req.header("Authorization"));
    if (!cred || clients.get(cred.id) !== cred.secret) return oauthError(401, "invalid_client");
    const token = (await formParams(c.req.raw)).get("token") ?? "";
    const grant = access.get(token)?.grant ?? refresh.get(token)?.grant;
    if (grant) {
      grant.revoked = true;
      stats.oauth.revokes++;
    }
    return c.json({});
  });

  /** Bearer check and counting for every API call. */
  app.use("/v1/*", async (c, next) => {
    stats.served++;
    const path = new URL(c.req.url).pathname;
    stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
    const token = (c.req.header("Authorization") ?? "").replace(/^Bearer\s+/i, "");
    const t = access.get(token);
    if (!t || t.grant.revoked || now() >= t.expiresAt) {
      stats.unauthorized++;
      return c.json({ error: { code: "unauthorized", message: "invalid or expired access token" } }, 401);
    }
    await next();
    c.header("X-RateLimit-Limit", String(RATE_LIMIT.limit));
    c.header("X-RateLimit-Remaining", String(RATE_LIMIT.limit - 1));
  });

  app.get(PATHS.me, (c) => {
    const token = (c.req.header("Authorization") ?? "").replace(/^Bearer\s+/i, "");
    const t = access.get(token);
    const owner = data.agents.get(data.ownerZuid);
    return c.json({
      data: {
        id: data.ownerZuid,
        zuid: data.ownerZuid,
        name: owner?.name ?? null,
        createdAt: owner?.createdAt ?? zillowTime(0),
        updatedAt: owner?.updatedAt ?? zillowTime(0),
        // The refresh token's horizon is unknown; the access token's expiry is what the seeds' expires_at holds.
        expiresAt: t ? zillowTime(t.expiresAt) : null,
      },
    });
  });

  const list =
    <T extends Stamped>(records: () => Iterable<T>) =>
    (c: Context) => {
      const q = new URL(c.req.url).searchParams;
      let rows = [...records()];
      const ids = q.get(BY_IDS.param);
      if (ids !== null) {
        const wanted = new Set(ids.split(",").slice(0, BY_IDS.max));
        rows = rows.filter((r) => wanted.has(r.id));
      }
      const since = q.get(DELTA.param);
      if (since !== null) {
        const bound = Date.parse(since);
        if (Number.isNaN(bound))
          return c.json({ error: { code: "bad_request", message: "updatedSince" } }, 400);
        rows = rows.filter((r) => instant(r.updatedAt) >= bound);
      }
      rows.sort((a, b) =>
        q.get("sort") === DELTA.sort
          ? instant(a.updatedAt) - instant(b.updatedAt) || (a.id < b.id ? -1 : 1)
          : a.id < b.id
            ? -1
            : 1,
      );
      const page = Math.max(PAGING.firstPage, Number(q.get(PAGING.pageParam) ?? PAGING.firstPage) || 1);
      const size = Math.min(
        PAGING.maxSize,
        Math.max(1, Number(q.get(PAGING.sizeParam) ?? PAGING.defaultSize) || 1),
      );
      const slice = rows.slice((page - 1) * size, page * size);
      return exactJson({ data: slice, page, pageSize: size });
    };

  app.get(
    PATHS.agents,
    list(() => data.agents.values()),
  );
  app.get(
    PATHS.teams,
    list(() => data.teams.values()),
  );
  app.get(
    PATHS.syncUsers,
    list(() => data.syncUsers.values()),
  );
  app.get(
    PATHS.contactSyncEvents,
    list(() => data.events.values()),
  );

  /** Delivers one signed webhook (once; the engine's inbox dedupes by eventId). */
  async function deliver(eventType: string, ids: string[]): Promise<void> {
    if (!webhookUrl || !webhookClientId || faults.dropWebhooks || ids.length === 0) return;
    const body = JSON.stringify({
      eventId: crypto.randomUUID(),
      eventType,
      ids,
      occurredAt: zillowTime(now()),
    });
    const t = Math.floor(now() / 1000);
    stats.webhooks.sent++;
    try {
      const res = await fetch(webhookUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          [WEBHOOK.header]: await signWebhook(webhookClientId, t, body),
        },
        body,
      });
      await res.body?.cancel();
      if (res.ok) stats.webhooks.acknowledged++;
      else stats.webhooks.failed++;
    } catch {
      stats.webhooks.failed++;
    }
  }

  const touch = <T extends Stamped>(r: T) => {
    r.updatedAt = zillowTime(Math.max(now(), instant(r.updatedAt) + 1));
  };

  /** A new contact sync event of an agent, made now. */
  const newEvent = (agent: Agent): ContactSyncEvent => {
    const id = `${ID_PREFIX.event}${pad(++seq.events)}`;
    const at = zillowTime(now());
    return {
      id,
      createdAt: at,
      updatedAt: at,
      deleted: false,
      agentZuid: agent.zuid,
      eventType: "lead_created",
      occurredAt: at,
      contact: {
        id: `${ID_PREFIX.contact}${pad(900_000 + seq.events)}`,
        firstName: "New",
        lastName: `Lead${seq.events}`,
        email: `new.lead${seq.events}@leads.example`,
        phone: "5550000000",
      },
    };
  };

  /** New records of the grant carrying one hostile kind each (tools/lib/hostile.ts). */
  function makeHostile(
    entity: keyof typeof HOSTILE_FIELDS,
    kinds: readonly HostileRecordKind[],
  ): HostileMade[] {
    const field = HOSTILE_FIELDS[entity];
    const owner = data.agents.get(data.ownerZuid) as Agent;
    return kinds.map((kind) => {
      let id: string;
      if (entity === "agents") {
        const zuid = `${ID_PREFIX.zuid}${pad(++seq.agents)}`;
        const at = zillowTime(now());
        const agent: Agent = {
          id: zuid,
          createdAt: at,
          updatedAt: at,
          deleted: false,
          zuid,
          authZuid: data.ownerZuid,
          teamId: owner.teamId,
          name: `Hostile Agent${seq.agents}`,
          email: `hostile.${seq.agents}@agents.example`,
          status: "active",
          zillowProfileId: null,
        };
        data.agents.set(zuid, withHostile(agent, kind, field));
        id = zuid;
      } else {
        const e = withHostile(newEvent(owner), kind, field);
        data.events.set(e.id, e);
        id = e.id;
      }
      const where = kind === "deep" ? DEEP_FIELD : kind === "bignum" ? BIGNUM_FIELD : field;
      return { entity, id, kind, field: where };
    });
  }

  /**
   * Changes that webhooks announce: agent updates, soft deletes, team moves, new contact sync events, and new
   * agents and events carrying hostile values (one per kind listed; `true`: every kind).
   */
  async function mutate(m: {
    agentUpdates?: number;
    agentDeletes?: number;
    teamMoves?: number;
    newEvents?: number;
    hostileAgents?: readonly HostileRecordKind[] | true;
    hostileEvents?: readonly HostileRecordKind[] | true;
  }) {
    const kinds = (k: readonly HostileRecordKind[] | true | undefined) =>
      k === true ? HOSTILE_RECORD_KINDS : (k ?? []);
    const hostile = [
      ...makeHostile("agents", kinds(m.hostileAgents)),
      ...makeHostile("events", kinds(m.hostileEvents)),
    ];
    const live = [...data.agents.values()].filter((a) => !a.deleted && a.zuid !== data.ownerZuid);
    const updated: string[] = [];
    const deleted: string[] = [];
    const moved: string[] = [];
    for (const a of live.slice(0, m.agentUpdates ?? 0)) {
      a.name = `${a.name} Jr`;
      touch(a);
      updated.push(a.id);
    }
    for (const a of live.slice(m.agentUpdates ?? 0, (m.agentUpdates ?? 0) + (m.agentDeletes ?? 0))) {
      a.deleted = true;
      a.status = "deleted";
      touch(a);
      deleted.push(a.id);
    }
    const teams = [...data.teams.keys()];
    const rest = live.slice((m.agentUpdates ?? 0) + (m.agentDeletes ?? 0));
    for (const a of rest.slice(0, m.teamMoves ?? 0)) {
      a.teamId = teams[(teams.indexOf(a.teamId ?? "") + 1) % teams.length] ?? null;
      touch(a);
      moved.push(a.id);
    }
    const created: string[] = [];
    for (let i = 0; i < (m.newEvents ?? 0); i++) {
      const e = newEvent(live[i % Math.max(1, live.length)] as Agent);
      data.events.set(e.id, e);
      created.push(e.id);
    }
    await deliver("agent.updated", [...updated, ...moved]);
    await deliver("agent.deleted", deleted);
    await deliver(
      "agent.created",
      hostile.filter((h) => h.entity === "agents").map((h) => h.id),
    );
    await deliver("contactSyncEvent.created", [
      ...created,
      ...hostile.filter((h) => h.entity === "events").map((h) => h.id),
    ]);
    return { updated, deleted, moved, created, hostile };
  }

  /** Ground truth: every record as the API serves it (soft-deleted ones flagged). */
  const truth = () => ({
    ownerZuid: data.ownerZuid,
    teams: [...data.teams.values()],
    agents: [...data.agents.values()],
    syncUsers: [...data.syncUsers.values()],
    events: [...data.events.values()],
  });

  app.get("/_sim/truth", () => exactJson(truth()));
  app.get("/_sim/stats", (c) => c.json(stats));

  return {
    app,
    data,
    stats,
    settings,
    truth,
    mutate,
    setWebhookUrl(url: string | null) {
      webhookUrl = url;
    },
    setFaults(f: Partial<typeof faults>) {
      faults = { dropWebhooks: false, ...f };
    },
    /** The user revoked the app at Zillow: every grant ends, access and refresh tokens alike. */
    revokeAll(): number {
      let n = 0;
      for (const r of refresh.values()) {
        if (!r.grant.revoked) n++;
        r.grant.revoked = true;
      }
      return n;
    },
    /** Every access token ends now (refresh still works unless revoked). */
    expireAccess(): void {
      for (const a of access.values()) a.expiresAt = Math.min(a.expiresAt, now());
    },
    setBaseUrl(_url: string) {},
    async close() {},
    counts,
    seqs: () => ({ ...seq }),
  };
}

export type Simulator = ReturnType<typeof createSimulator>;

import { createServer, type Server } from "node:http";
import pg from "pg";
import { waitFor } from "../../tools/lib/admin-client";
import type { SimulatorClient } from "../../tools/lib/simulator-client";
import { compareWithTruth } from "../../tools/lib/truth-compare";

/** Core table and the typed columns compared with the truth, per FUB entity. */
export const FUB_TABLES: Record<string, { table: string; fields: [string, string][] }> = {
  people: {
    table: "fub_people",
    fields: [
      ["firstName", "first_name"],
      ["lastName", "last_name"],
      ["stage", "stage"],
      ["stageId", "stage_id"],
      ["assignedUserId", "assigned_user_id"],
      ["price", "price"],
    ],
  },
  deals: {
    table: "fub_deals",
    fields: [
      ["name", "name"],
      ["stageId", "stage_id"],
      ["price", "price"],
      ["closeDate", "close_date"],
    ],
  },
  events: {
    table: "fub_events",
    fields: [
      ["type", "type"],
      ["description", "description"],
      ["personId", "person_id"],
    ],
  },
  calls: {
    table: "fub_calls",
    fields: [
      ["outcome", "outcome"],
      ["note", "note"],
      ["duration", "duration_seconds"],
    ],
  },
  textMessages: {
    table: "fub_text_messages",
    fields: [
      ["message", "message"],
      ["status", "status"],
    ],
  },
  appointments: { table: "fub_appointments", fields: [["title", "title"]] },
  users: {
    table: "fub_users",
    fields: [
      ["email", "email"],
      ["status", "status"],
    ],
  },
  groups: { table: "fub_groups", fields: [["name", "name"]] },
  stages: {
    table: "fub_stages",
    fields: [
      ["name", "name"],
      ["orderWeight", "order_weight"],
    ],
  },
};

export type EntityReport = {
  entity: string;
  truth: number;
  core: number;
  missing: number[];
  extra: number[];
  stale: number[];
  /** Live rows whose stored raw record differs from the provider's current record. */
  contentDiffers: number[];
  /** Ids the provider deleted that are still live here. */
  deletedButLive: number[];
};

async function query<T>(databaseUrl: string, text: string, params: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Deep equality of two parsed JSON values without recursion: hostile records nest 10,000 levels, beyond the
 * stack of node:util's isDeepStrictEqual.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop() as [unknown, unknown];
    if (x === y) continue;
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
      continue;
    }
    const xo = x as Record<string, unknown>;
    const yo = y as Record<string, unknown>;
    const keys = Object.keys(xo);
    if (keys.length !== Object.keys(yo).length) return false;
    for (const k of keys) {
      if (!Object.hasOwn(yo, k)) return false;
      stack.push([xo[k], yo[k]]);
    }
  }
  return true;
}

/**
 * Custom fields come only with fields=allFields, which the connector doesn't ask for; deals carry theirs inline
 * in every response, as public clients of the live API report.
 */
function listed(entity: string, record: Record<string, unknown>): Record<string, unknown> {
  if (entity === "deals") return record;
  return Object.fromEntries(Object.entries(record).filter(([k]) => !k.startsWith("custom")));
}

/**
 * Postgres against the simulator's truth for one entity: tools/lib's id/version/typed-field comparison, plus the
 * whole stored record (raw) against the whole provider record, plus the deletes.
 */
export async function compareEntity(opts: {
  databaseUrl: string;
  sim: SimulatorClient;
  apiKey: string;
  accountId: string;
  entity: string;
}): Promise<EntityReport> {
  const spec = FUB_TABLES[opts.entity];
  if (!spec) throw new Error(`no table for ${opts.entity}`);
  const base = await compareWithTruth({ ...opts, table: spec.table, fields: spec.fields });
  const raws = new Map(
    (
      await query<{ id: string; raw: Record<string, unknown> }>(
        opts.databaseUrl,
        `select source_id::text as id, raw from ${spec.table} where account_id = $1 and deleted_at is null`,
        [opts.accountId],
      )
    ).map((r) => [Number(r.id), r.raw]),
  );
  const contentDiffers: number[] = [];
  await opts.sim.eachTruth(opts.apiKey, opts.entity, (record) => {
    const raw = raws.get(Number(record.id));
    if (raw && !jsonEqual(raw, listed(opts.entity, record))) contentDiffers.push(Number(record.id));
  });
  const summary = await opts.sim.summary(opts.apiKey, opts.entity);
  const deletedButLive = summary.deletedIds.filter((id) => raws.has(id));
  return {
    entity: opts.entity,
    truth: base.truth,
    core: base.core,
    missing: base.missing,
    extra: base.extra,
    stale: base.stale,
    contentDiffers,
    deletedButLive,
  };
}

export function problems(r: EntityReport) {
  return {
    countsEqual: r.truth === r.core,
    missing: r.missing.slice(0, 10),
    extra: r.extra.slice(0, 10),
    stale: r.stale.slice(0, 10),
    contentDiffers: r.contentDiffers.slice(0, 10),
    deletedButLive: r.deletedButLive.slice(0, 10),
  };
}

export const CLEAN = {
  countsEqual: true,
  missing: [],
  extra: [],
  stale: [],
  contentDiffers: [],
  deletedButLive: [],
};

export async function pendingWork(databaseUrl: string, accountId: string) {
  const [row] = await query<{ staged: number; inbox: number }>(
    databaseUrl,
    `select (select count(*)::int from stage_records where account_id = $1 and done_at is null) as staged,
            (select count(*)::int from webhook_inbox where account_id = $1 and status = 'pending') as inbox`,
    [accountId],
  );
  return row ?? { staged: 0, inbox: 0 };
}

type EntityState = { entity: string; status: string; errorMessage?: string | null };
type Status = { connections: { connectionId: string; entities: EntityState[] }[] };

/** Waits until every entity's run of the connection completed and nothing is left in staging or the inbox. */
export async function waitSettled(
  admin: { status<T>(accountId: string): Promise<T> },
  databaseUrl: string,
  accountId: string,
  entities: readonly string[],
  what: string,
  timeoutMs = 180_000,
) {
  await waitFor(
    what,
    async () => {
      const status = await admin.status<Status>(accountId);
      const states = status.connections.flatMap((c) => c.entities);
      const failed = states.find((s) => s.status === "ERROR");
      if (failed) throw new Error(`sync failed: ${JSON.stringify(failed)}`);
      // A finished run whose records partly failed is finished too; the failures are asserted by the caller.
      const finished = (status: string | undefined) =>
        status === "COMPLETED" || status === "COMPLETED_WITH_ERRORS";
      const done = entities.every((e) => finished(states.find((s) => s.entity === e)?.status));
      if (!done) return false;
      const pending = await pendingWork(databaseUrl, accountId);
      return pending.staged === 0 && pending.inbox === 0 ? { states, pending } : false;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

export type LoggedRequest = { at: number; path: string; status: number; retryAfterSec: number | null };

/**
 * An HTTP proxy in front of the simulator that logs every request the platform makes, admitted or refused,
 * with its time: the simulator only counts what it served, and "never exceeded the limit" is about attempts.
 */
export async function startRequestLog(
  target: string,
): Promise<{ url: string; log: LoggedRequest[]; close(): Promise<void> }> {
  const log: LoggedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && k !== "host" && k !== "connection") headers.set(k, v);
    }
    try {
      const upstream = await fetch(`${target}${req.url ?? "/"}`, {
        method: req.method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      const retryAfter = upstream.headers.get("retry-after");
      log.push({
        at,
        path: (req.url ?? "").split("?")[0] ?? "",
        status: upstream.status,
        retryAfterSec: retryAfter === null ? null : Number(retryAfter),
      });
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== "content-length" && k !== "content-encoding" && k !== "transfer-encoding") out[k] = v;
      });
      res.writeHead(upstream.status, out);
      res.end(body);
    } catch (error) {
      log.push({ at, path: req.url ?? "", status: 599, retryAfterSec: null });
      res.writeHead(502);
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The largest number of requests inside any sliding window of windowMs (the provider's admission rule). */
export function maxInWindow(times: number[], windowMs: number): { max: number; at: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { max: 0, at: 0 };
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    if (hi - lo + 1 > best.max) best = { max: hi - lo + 1, at: sorted[lo] as number };
  }
  return best;
}

/** Unified table fed by each FUB entity, and how its source ids are written there. */
const UNIFIED: { entity: string; own: string; table: string; prefix: string }[] = [
  { entity: "people", own: "fub_people", table: "contacts", prefix: "" },
  { entity: "deals", own: "fub_deals", table: "deals", prefix: "" },
  { entity: "calls", own: "fub_calls", table: "activities", prefix: "call:" },
  { entity: "textMessages", own: "fub_text_messages", table: "activities", prefix: "text:" },
  { entity: "events", own: "fub_events", table: "activities", prefix: "event:" },
  { entity: "appointments", own: "fub_appointments", table: "activities", prefix: "appointment:" },
];

/**
 * The unified tables against the FUB tables they are mapped from: the same live records, no more, no fewer,
 * with the same version time. (The FUB tables are compared with the provider's truth separately.)
 */
export async function compareUnified(databaseUrl: string, accountId: string) {
  const out: Record<string, { onlyInOwn: string[]; onlyInUnified: string[]; versionDiffers: string[] }> = {};
  for (const u of UNIFIED) {
    const [row] = await query<{ only_own: string[]; only_unified: string[]; version: string[] }>(
      databaseUrl,
      `with own as (
         select $2 || source_id::text as id, source_updated_at from ${u.own}
         where account_id = $1 and deleted_at is null
       ), uni as (
         select source_id as id, source_updated_at from ${u.table}
         where account_id = $1 and provider = 'fub' and deleted_at is null and source_id like $2 || '%'
           and ($2 <> '' or source_id !~ ':')
       )
       select
         coalesce((select array_agg(id) from (select id from own except select id from uni) a), '{}') as only_own,
         coalesce((select array_agg(id) from (select id from uni except select id from own) b), '{}') as only_unified,
         coalesce((select array_agg(own.id) from own join uni using (id)
                   where own.source_updated_at is distinct from uni.source_updated_at), '{}') as version`,
      [accountId, u.prefix],
    );
    out[u.entity] = {
      onlyInOwn: (row?.only_own ?? []).slice(0, 10),
      onlyInUnified: (row?.only_unified ?? []).slice(0, 10),
      versionDiffers: (row?.version ?? []).slice(0, 10),
    };
  }
  return out;
}

export const UNIFIED_CLEAN = Object.fromEntries(
  UNIFIED.map((u) => [u.entity, { onlyInOwn: [], onlyInUnified: [], versionDiffers: [] }]),
);

/** Open failed records of an account: source id → error code, per entity. */
export async function openFailures(databaseUrl: string, accountId: string) {
  const rows = await query<{ entity: string; source_id: string; error_code: string }>(
    databaseUrl,
    `select entity, source_id, error_code from failed_records where account_id = $1 and resolved_at is null`,
    [accountId],
  );
  const out = new Map<string, Map<string, string>>();
  for (const r of rows) {
    const m = out.get(r.entity) ?? new Map<string, string>();
    m.set(r.source_id, r.error_code);
    out.set(r.entity, m);
  }
  return out;
}

import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type pg from "pg";
import type { TenantQuery } from "../../src/connectors/types";
import type { AdminClient } from "../../tools/lib/admin-client";
import type { Stack } from "../../tools/lib/stack";
import type { SimulatorOptions } from "../../tools/simulator-zillow/app";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-zillow/main";
import { clean, query } from "./dotloop-support";
import { type Authorised, authoriseOAuth, startOAuthStack } from "./oauth-stack";

/** wrangler dev with Postgres, the Zillow simulator as OAuth server and API, and an admin client. */
export type ZillowStack = { zl: RunningSimulator; stack: Stack; admin: AdminClient; stop(): Promise<void> };

export const ZILLOW_ENTITIES = ["auth", "teams", "agents", "syncUsers", "contactSyncEvents"] as const;

export async function startZillowStack(opts: {
  name: string;
  clientId: string;
  clientSecret: string;
  sim: Omit<SimulatorOptions, "clients">;
  log?: (line: string) => void;
}): Promise<ZillowStack> {
  const zl = await startSimulator(0, { ...opts.sim, clients: { [opts.clientId]: opts.clientSecret } });
  const oauth = await startOAuthStack({
    ...opts,
    provider: "zillow",
    authBaseUrl: zl.url,
    apiBaseUrl: zl.url,
  });
  return {
    zl,
    stack: oauth.stack,
    admin: oauth.admin,
    async stop() {
      await oauth.stop();
      await zl.close();
    },
  };
}

/** The connect flow as a browser runs it: start, follow the simulator's authorize redirect, land on the callback. */
export function authoriseZillow(env: ZillowStack, accountId: string, existing?: string): Promise<Authorised> {
  return authoriseOAuth(env.admin, "zillow", accountId, existing);
}

/** A TenantQuery over a plain pg connection (as the owner), counting the statements it runs. */
export function pgTenantQuery(client: pg.Client): TenantQuery & { statements: number } {
  const dialect = new PgDialect();
  const run = (async (q: SQL) => {
    run.statements++;
    const { sql, params } = dialect.sqlToQuery(q);
    return (await client.query(sql, params as unknown[])).rows as Record<string, unknown>[];
  }) as TenantQuery & { statements: number };
  run.statements = 0;
  return run;
}

type Truth = ReturnType<RunningSimulator["sim"]["truth"]>;

const ms = (v: unknown) =>
  v == null ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();

/** Ids on one side only, and ids whose compared fields differ (first few of each), for one table. */
function diff<T>(what: string, truth: Map<string, T>, rows: Map<string, T>) {
  const missing = [...truth.keys()].filter((id) => !rows.has(id)).sort();
  const extra = [...rows.keys()].filter((id) => !truth.has(id)).sort();
  const differs: { id: string; truth: T; ours: T }[] = [];
  for (const [id, t] of truth) {
    const o = rows.get(id);
    if (o !== undefined && JSON.stringify(t) !== JSON.stringify(o)) differs.push({ id, truth: t, ours: o });
  }
  return { what, missing: missing.slice(0, 20), extra: extra.slice(0, 20), differs: differs.slice(0, 20) };
}

/**
 * Postgres against the simulator's ground truth: live rows of each core table with exactly the truth's live
 * ids and fields (soft-deleted agents not live), then the unified contacts and activities.
 */
export async function compareZillow(databaseUrl: string, accountId: string, truth: Truth) {
  const live = (table: string, cols: string, extra = "") =>
    query<Record<string, unknown>>(
      databaseUrl,
      `select source_id as id, ${cols} from ${table} where account_id = $1 and deleted_at is null ${extra}`,
      [accountId],
    );
  const byId = <T>(rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => T) =>
    new Map(rows.map((r) => [String(r.id), f(r)]));
  const out = [];
  out.push(
    diff(
      "zillow_auth",
      new Map([[truth.ownerZuid, { zuid: truth.ownerZuid }]]),
      byId(await live("zillow_auth", "zuid"), (r) => ({ zuid: r.zuid })),
    ),
  );
  out.push(
    diff(
      "zillow_agents",
      new Map(
        truth.agents
          .filter((a) => !a.deleted)
          .map((a) => [
            a.id,
            {
              zuid: a.zuid,
              authZuid: a.authZuid,
              teamId: a.teamId,
              name: a.name,
              email: a.email,
              legacy: a.zillowProfileId,
              updated: ms(a.updatedAt),
            },
          ]),
      ),
      byId(
        await live(
          "zillow_agents",
          "zuid, auth_zuid, team_id, name, email, legacy_profile_id, source_updated_at",
        ),
        (r) => ({
          zuid: r.zuid,
          authZuid: r.auth_zuid,
          teamId: r.team_id,
          name: r.name,
          email: r.email,
          legacy: r.legacy_profile_id,
          updated: ms(r.source_updated_at),
        }),
      ),
    ),
  );
  out.push(
    diff(
      "zillow_teams",
      new Map(truth.teams.map((t) => [t.id, { name: t.name, parent: t.parentTeamId, lead: t.leadZuid }])),
      byId(await live("zillow_teams", "name, parent_team_id, lead_zuid"), (r) => ({
        name: r.name,
        parent: r.parent_team_id,
        lead: r.lead_zuid,
      })),
    ),
  );
  out.push(
    diff(
      "zillow_sync_users",
      new Map(
        truth.syncUsers.map((u) => [u.id, { agent: u.agentZuid, team: u.syncTeamId, status: u.status }]),
      ),
      byId(await live("zillow_sync_users", "agent_zuid, sync_team_id, status"), (r) => ({
        agent: r.agent_zuid,
        team: r.sync_team_id,
        status: r.status,
      })),
    ),
  );
  out.push(
    diff(
      "zillow_contact_sync_events",
      new Map(
        truth.events.map((e) => [e.id, { contact: e.contact.id, type: e.eventType, agent: e.agentZuid }]),
      ),
      byId(await live("zillow_contact_sync_events", "contact_id, event_type, agent_zuid"), (r) => ({
        contact: r.contact_id,
        type: r.event_type,
        agent: r.agent_zuid,
      })),
    ),
  );
  const unified = (table: string, cols: string) => live(table, cols, "and provider = 'zillow'");
  const contacts = new Map<string, { email: string; first: string }>();
  for (const e of truth.events)
    contacts.set(e.contact.id, { email: e.contact.email, first: e.contact.firstName });
  out.push(
    diff(
      "contacts",
      contacts,
      byId(await unified("contacts", "primary_email, first_name"), (r) => ({
        email: String(r.primary_email),
        first: String(r.first_name),
      })),
    ),
  );
  out.push(
    diff(
      "activities",
      new Map(truth.events.map((e) => [e.id, { contact: e.contact.id, type: e.eventType }])),
      byId(await unified("activities", "contact_source_id, type"), (r) => ({
        contact: r.contact_source_id,
        type: r.type,
      })),
    ),
  );
  return out;
}

export const ZILLOW_CLEAN = [
  "zillow_auth",
  "zillow_agents",
  "zillow_teams",
  "zillow_sync_users",
  "zillow_contact_sync_events",
  "contacts",
  "activities",
].map(clean);

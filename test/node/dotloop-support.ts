import pg from "pg";
import { type AdminClient, waitFor } from "../../tools/lib/admin-client";
import type { Stack } from "../../tools/lib/stack";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-dotloop/main";
import { jsonEqual } from "./fub-support";
import { type Authorised, authoriseOAuth, startOAuthStack } from "./oauth-stack";

/** wrangler dev with Postgres, the Dotloop simulator as both OAuth server and API, and an admin client. */
export type DotloopStack = { dl: RunningSimulator; stack: Stack; admin: AdminClient; stop(): Promise<void> };

export async function startDotloopStack(opts: {
  /** Names the temp dir, the admin token and the OAuth state secret. */
  name: string;
  clientId: string;
  clientSecret: string;
  users: NonNullable<Parameters<typeof startSimulator>[1]>["users"];
  log?: (line: string) => void;
}): Promise<DotloopStack> {
  const dl = await startSimulator(0, {
    clients: { [opts.clientId]: opts.clientSecret },
    ...(opts.users ? { users: opts.users } : {}),
  });
  const oauth = await startOAuthStack({
    ...opts,
    provider: "dotloop",
    authBaseUrl: dl.url,
    apiBaseUrl: `${dl.url}/public/v2`,
  });
  return {
    dl,
    stack: oauth.stack,
    admin: oauth.admin,
    async stop() {
      await oauth.stop();
      await dl.close();
    },
  };
}

/**
 * The connect flow as a browser runs it: start (for a new connection, or `existing` to re-authorise), follow
 * the simulator's authorize redirect, land on the callback. Returns each hop for the caller to check.
 */
export function authoriseDotloop(
  env: DotloopStack,
  accountId: string,
  existing?: string,
): Promise<Authorised> {
  return authoriseOAuth(env.admin, "dotloop", accountId, existing);
}

/** Dotloop entities the connector syncs. */
export const DOTLOOP_ENTITIES = [
  "account",
  "profiles",
  "loops",
  "participants",
  "contacts",
  "folders",
  "documents",
  "taskLists",
  "tasks",
] as const;

export async function query<T>(databaseUrl: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

type Detail = Record<string, Record<string, string>>;
type TruthLoop = {
  id: number;
  profileId: number;
  name: string;
  status: string;
  transactionType: string;
  updated: string;
  details: Detail;
  participants: { id: number; fullName: string; email: string; role: string }[];
  folders: { id: number; name: string; updated: string; documents: { id: number; name: string }[] }[];
  tasklists: {
    id: number;
    name: string;
    tasks: { id: number; name: string; due: string; completed: boolean }[];
  }[];
};
export type Truth = {
  account: { id: number; email: string; firstName: string; lastName: string };
  profiles: { id: number; name: string; type: string }[];
  loops: TruthLoop[];
  contacts: { id: number; firstName?: string; lastName?: string; email?: string; updated: string }[];
  merged: Record<string, number>;
  deletedContactIds: number[];
  deletedParticipants: { id: number; loopId: number }[];
};

export async function truthOf(sim: RunningSimulator, userId: number): Promise<Truth> {
  const res = await fetch(`${sim.url}/_sim/users/${userId}/truth`);
  if (!res.ok) throw new Error(`truth → ${res.status}`);
  return (await res.json()) as Truth;
}

/** "11/01/2017" → "2017-11-01" (the simulator's closing dates are US month-first). */
function isoDate(slash: string | undefined): string | null {
  if (!slash) return null;
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(slash);
  return m ? `${m[3]}-${m[1]}-${m[2]}` : null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const sorted = (ids: Iterable<string | number>) => [...ids].map(String).sort();

/** Ids on one side only, and ids whose compared fields differ (first few of each), for one table. */
function diff<T>(
  what: string,
  truth: Map<string, T>,
  rows: Map<string, T>,
): { what: string; missing: string[]; extra: string[]; differs: { id: string; truth: T; ours: T }[] } {
  const missing = sorted(truth.keys()).filter((id) => !rows.has(id));
  const extra = sorted(rows.keys()).filter((id) => !truth.has(id));
  const differs: { id: string; truth: T; ours: T }[] = [];
  for (const [id, t] of truth) {
    const o = rows.get(id);
    if (o !== undefined && !jsonEqual(JSON.parse(JSON.stringify(t)), JSON.parse(JSON.stringify(o))))
      differs.push({ id, truth: t, ours: o });
  }
  return { what, missing: missing.slice(0, 20), extra: extra.slice(0, 20), differs: differs.slice(0, 20) };
}

export const clean = (what: string) => ({ what, missing: [], extra: [], differs: [] });

/**
 * Postgres against the simulator's ground truth, table by table: live rows with exactly the truth's ids, and
 * the fields that matter equal (names, statuses incl. archived, versions, address, prices, dates, parent ids),
 * then the unified `transactions` and `contacts` against the same truth. Returns one diff per table.
 */
export async function compareDotloop(databaseUrl: string, accountId: string, truth: Truth) {
  const q = <T>(sql: string) => query<T>(databaseUrl, sql, [accountId]);
  const live = (table: string, cols: string) =>
    q<Record<string, unknown>>(
      `select source_id::text as id, ${cols} from ${table} where account_id = $1 and deleted_at is null`,
    );
  const byId = <T>(rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => T) =>
    new Map(rows.map((r) => [String(r.id), f(r)]));
  const individual = new Set(truth.profiles.filter((p) => p.type === "INDIVIDUAL").map((p) => p.id));
  const loops = truth.loops.filter((l) => individual.has(l.profileId));
  const out = [];

  out.push(
    diff(
      "dotloop_accounts",
      new Map([[String(truth.account.id), { email: truth.account.email, first: truth.account.firstName }]]),
      byId(await live("dotloop_accounts", "email, first_name"), (r) => ({
        email: r.email,
        first: r.first_name,
      })),
    ),
  );
  out.push(
    diff(
      "dotloop_profiles",
      new Map(truth.profiles.map((p) => [String(p.id), { name: p.name, type: p.type }])),
      byId(await live("dotloop_profiles", "name, type"), (r) => ({ name: r.name, type: r.type })),
    ),
  );
  const loopView = (l: {
    profileId: unknown;
    name: unknown;
    status: unknown;
    type: unknown;
    updated: unknown;
  }) => l;
  out.push(
    diff(
      "dotloop_loops",
      new Map(
        loops.map((l) => [
          String(l.id),
          loopView({
            profileId: l.profileId,
            name: l.name,
            status: l.status,
            type: l.transactionType,
            updated: new Date(l.updated).toISOString(),
            archived: l.status === "ARCHIVED",
          } as never),
        ]),
      ),
      byId(
        await live(
          "dotloop_loops",
          "profile_id, name, status, transaction_type, archived, source_updated_at::timestamptz as updated",
        ),
        (r) =>
          loopView({
            profileId: num(r.profile_id),
            name: r.name,
            status: r.status,
            type: r.transaction_type,
            updated: new Date(r.updated as string).toISOString(),
            archived: r.archived,
          } as never),
      ),
    ),
  );
  const detailOf = (d: Detail) => {
    const a = d["Property Address"] ?? {};
    return {
      sections: d,
      streetNumber: a["Street Number"] ?? null,
      streetName: a["Street Name"] ?? null,
      city: a.City ?? null,
      state: a["State/Prov"] ?? null,
      postal: a["Zip/Postal Code"] ?? null,
      price: num(d.Financials?.["Purchase/Sale Price"]),
      closing: isoDate(d["Contract Dates"]?.["Closing Date"]),
    };
  };
  out.push(
    diff(
      "dotloop_loop_details",
      new Map(loops.map((l) => [String(l.id), detailOf(l.details)])),
      byId(
        await live(
          "dotloop_loop_details",
          "sections, street_number, street_name, city, state, postal_code, purchase_price, closing_date::text as closing",
        ),
        (r) => ({
          sections: r.sections,
          streetNumber: r.street_number,
          streetName: r.street_name,
          city: r.city,
          state: r.state,
          postal: r.postal_code,
          price: num(r.purchase_price),
          closing: r.closing,
        }),
      ),
    ),
  );
  const participants = loops.flatMap((l) => l.participants.map((p) => ({ ...p, loopId: l.id })));
  out.push(
    diff(
      "dotloop_loop_participants",
      new Map(
        participants.map((p) => [
          String(p.id),
          { loopId: p.loopId, name: p.fullName, email: p.email, role: p.role },
        ]),
      ),
      byId(await live("dotloop_loop_participants", "loop_id, full_name, email, role"), (r) => ({
        loopId: num(r.loop_id),
        name: r.full_name,
        email: r.email,
        role: r.role,
      })),
    ),
  );
  out.push(
    diff(
      "dotloop_contacts",
      new Map(
        truth.contacts.map((c) => [
          String(c.id),
          { first: c.firstName ?? null, last: c.lastName ?? null, email: c.email ?? null, raw: c },
        ]),
      ),
      byId(await live("dotloop_contacts", "first_name, last_name, email, raw"), (r) => ({
        first: r.first_name,
        last: r.last_name,
        email: r.email,
        raw: r.raw,
      })),
    ),
  );
  const folders = loops.flatMap((l) => l.folders.map((f) => ({ ...f, loopId: l.id })));
  out.push(
    diff(
      "dotloop_loop_folders",
      new Map(folders.map((f) => [String(f.id), { loopId: f.loopId, name: f.name }])),
      byId(await live("dotloop_loop_folders", "loop_id, name"), (r) => ({
        loopId: num(r.loop_id),
        name: r.name,
      })),
    ),
  );
  out.push(
    diff(
      "dotloop_loop_documents",
      new Map(
        folders.flatMap((f) =>
          f.documents.map((d) => [String(d.id), { folderId: f.id, loopId: f.loopId, name: d.name }] as const),
        ),
      ),
      byId(await live("dotloop_loop_documents", "folder_id, loop_id, name"), (r) => ({
        folderId: num(r.folder_id),
        loopId: num(r.loop_id),
        name: r.name,
      })),
    ),
  );

  const taskLists = loops.flatMap((l) => l.tasklists.map((t) => ({ ...t, loopId: l.id })));
  out.push(
    diff(
      "dotloop_loop_task_lists",
      new Map(taskLists.map((t) => [String(t.id), { loopId: t.loopId, name: t.name }])),
      byId(await live("dotloop_loop_task_lists", "loop_id, name"), (r) => ({
        loopId: num(r.loop_id),
        name: r.name,
      })),
    ),
  );
  out.push(
    diff(
      "dotloop_loop_tasks",
      new Map(
        taskLists.flatMap((l) =>
          l.tasks.map(
            (t) =>
              [
                String(t.id),
                {
                  taskListId: l.id,
                  loopId: l.loopId,
                  name: t.name,
                  due: new Date(t.due).toISOString(),
                  completed: t.completed,
                },
              ] as const,
          ),
        ),
      ),
      byId(await live("dotloop_loop_tasks", "task_list_id, loop_id, name, due_at, completed"), (r) => ({
        taskListId: num(r.task_list_id),
        loopId: num(r.loop_id),
        name: r.name,
        due: r.due_at === null ? null : new Date(r.due_at as string).toISOString(),
        completed: r.completed,
      })),
    ),
  );

  // Unified: every live loop is a transaction with its status (archived included), price, close date and the
  // address of its detail; every contact and participant is a contact.
  const unified = (table: string, cols: string) =>
    q<Record<string, unknown>>(
      `select source_id as id, ${cols} from ${table}
       where account_id = $1 and provider = 'dotloop' and deleted_at is null`,
    );
  out.push(
    diff(
      "transactions",
      new Map(
        loops.map((l) => {
          const d = detailOf(l.details);
          const street = [d.streetNumber, d.streetName].filter(Boolean).join(" ");
          return [
            String(l.id),
            {
              name: l.name,
              status: l.status,
              type: l.transactionType,
              price: d.price,
              close: d.closing,
              addressStartsWith: street || null,
              postal: d.postal,
            },
          ];
        }),
      ),
      byId(
        await unified(
          "transactions",
          "name, status, transaction_type, price, close_date::text as close, address",
        ),
        (r) => {
          const address = (r.address as string | null) ?? "";
          const street = address.split(",")[0] ?? "";
          const postal = /(\d{5})$/.exec(address)?.[1] ?? null;
          return {
            name: r.name,
            status: r.status,
            type: r.transaction_type,
            price: num(r.price),
            close: r.close,
            addressStartsWith: street || null,
            postal,
          };
        },
      ),
    ),
  );
  out.push(
    diff(
      "contacts",
      new Map([
        ...truth.contacts.map((c) => [String(c.id), { email: c.email ?? null }] as const),
        ...participants.map((p) => [`participant:${p.id}`, { email: p.email ?? null }] as const),
      ]),
      byId(await unified("contacts", "primary_email"), (r) => ({ email: r.primary_email })),
    ),
  );
  return out;
}

export const CLEAN_TABLES = [
  "dotloop_accounts",
  "dotloop_profiles",
  "dotloop_loops",
  "dotloop_loop_details",
  "dotloop_loop_participants",
  "dotloop_contacts",
  "dotloop_loop_folders",
  "dotloop_loop_documents",
  "dotloop_loop_task_lists",
  "dotloop_loop_tasks",
  "transactions",
  "contacts",
].map(clean);

/** Requests the simulator served to a user (every status), as the stats count them. */
export async function userStats(sim: RunningSimulator, userId: number) {
  const res = await fetch(`${sim.url}/_sim/users/${userId}/stats`);
  return (await res.json()) as {
    served: number;
    rateLimited: number;
    unauthorized: number;
    byStatus: Record<string, number>;
    windows?: { start: number; admitted: number; refused: number }[];
    [k: string]: unknown;
  };
}

export async function oauthStats(sim: RunningSimulator) {
  const res = await fetch(`${sim.url}/_sim/oauth`);
  return ((await res.json()) as { stats: Record<string, number> }).stats;
}

/** Polls until nothing is staged or pending in the inbox for the account; the error says what is left. */
export async function waitDrained(databaseUrl: string, accountId: string, timeoutMs = 60_000) {
  let last: unknown = null;
  await waitFor(
    "staging and inbox drained",
    async () => {
      const staged = await query<{ entity: string; n: number }>(
        databaseUrl,
        `select entity, count(*)::int as n from stage_records where account_id = $1 and done_at is null group by entity`,
        [accountId],
      );
      const inbox = await query<{ status: string; n: number; error: string | null }>(
        databaseUrl,
        `select status, count(*)::int as n, max(last_error) as error from webhook_inbox
         where account_id = $1 group by status`,
        [accountId],
      );
      last = { staged, inbox };
      return staged.length === 0 && !inbox.some((r) => r.status === "pending");
    },
    { timeoutMs, intervalMs: 500 },
  ).catch((error) => {
    throw new Error(`${error instanceof Error ? error.message : error}; ${JSON.stringify(last)}`);
  });
}

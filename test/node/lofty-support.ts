import { waitFor } from "../../tools/lib/admin-client";
import type { RunningSimulator } from "../../tools/simulator-lofty/main";
import { query } from "./dotloop-support";
import { jsonEqual } from "./fub-support";

export const LOFTY_ENTITIES = [
  "members",
  "leads",
  "transactions",
  "tasks",
  "notes",
  "calls",
  "activities",
] as const;

export type LoftyTruth = {
  leads: {
    leadId: string;
    firstName: string;
    lastName: string;
    email: string | null;
    stage: string;
    city: string;
    assignedUserId: string;
    updated: string;
  }[];
  trashedLeadIds: string[];
  members: { id: string; email: string }[];
  transactions: { id: string; leadId: string; status: string; price: number }[];
  tasks: { id: string; leadId: string; title: string; finished: boolean }[];
  notes: { id: string; leadId: string; content: string }[];
  calls: { id: string; leadId: string; duration: number }[];
  activities: { id: string; leadId: string; type: string }[];
};

export async function loftyTruth(sim: RunningSimulator): Promise<LoftyTruth> {
  const res = await fetch(`${sim.url}/_sim/truth`);
  return (await res.json()) as LoftyTruth;
}

type Diff = {
  what: string;
  missing: string[];
  extra: string[];
  differs: { id: string; truth: unknown; ours: unknown }[];
};

function diff<T>(what: string, truth: Map<string, T>, rows: Map<string, T>): Diff {
  const missing = [...truth.keys()].filter((id) => !rows.has(id)).sort();
  const extra = [...rows.keys()].filter((id) => !truth.has(id)).sort();
  const differs: Diff["differs"] = [];
  for (const [id, t] of truth) {
    const o = rows.get(id);
    if (o !== undefined && !jsonEqual(JSON.parse(JSON.stringify(t)), JSON.parse(JSON.stringify(o))))
      differs.push({ id, truth: t, ours: o });
  }
  return { what, missing: missing.slice(0, 20), extra: extra.slice(0, 20), differs: differs.slice(0, 20) };
}

const clean = (what: string): Diff => ({ what, missing: [], extra: [], differs: [] });
export const LOFTY_CLEAN = [
  "lofty_leads",
  "lofty_members",
  "lofty_transactions",
  "lofty_tasks",
  "lofty_notes",
  "lofty_calls",
  "lofty_activities",
  "contacts",
  "transactions",
  "activities",
].map(clean);

/**
 * Postgres against the simulator's truth, table by table: live rows with exactly the truth's ids (as their
 * exact digits: ids above 2^53 included), the fields that matter, and the unified tables.
 */
export async function compareLofty(
  databaseUrl: string,
  accountId: string,
  truth: LoftyTruth,
): Promise<Diff[]> {
  const live = (table: string, cols: string, unified = false) =>
    query<Record<string, unknown>>(
      databaseUrl,
      `select source_id::text as id, ${cols} from ${table} where account_id = $1 and deleted_at is null
       ${unified ? "and provider = 'lofty'" : ""}`,
      [accountId],
    );
  const byId = <T>(rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => T) =>
    new Map(rows.map((r) => [String(r.id), f(r)]));
  const out: Diff[] = [];
  out.push(
    diff(
      "lofty_leads",
      new Map(
        truth.leads.map((l) => [
          l.leadId,
          {
            first: l.firstName,
            last: l.lastName,
            email: l.email,
            stage: l.stage,
            city: l.city,
            assigned: l.assignedUserId,
            updated: l.updated,
            rawId: l.leadId,
          },
        ]),
      ),
      byId(
        await live(
          "lofty_leads",
          "first_name, last_name, primary_email, stage, city, assigned_user_id::text as assigned, source_updated_at, raw->>'leadId' as raw_id",
        ),
        (r) => ({
          first: r.first_name,
          last: r.last_name,
          email: r.primary_email,
          stage: r.stage,
          city: r.city,
          assigned: r.assigned,
          updated: new Date(r.source_updated_at as string).toISOString(),
          rawId: r.raw_id,
        }),
      ),
    ),
  );
  out.push(
    diff(
      "lofty_members",
      new Map(truth.members.map((m) => [m.id, { email: m.email }])),
      byId(await live("lofty_members", "email"), (r) => ({ email: r.email })),
    ),
  );
  out.push(
    diff(
      "lofty_transactions",
      new Map(truth.transactions.map((t) => [t.id, { lead: t.leadId, status: t.status, price: t.price }])),
      byId(await live("lofty_transactions", "lead_id::text as lead, status, price"), (r) => ({
        lead: r.lead,
        status: r.status,
        price: Number(r.price),
      })),
    ),
  );
  out.push(
    diff(
      "lofty_tasks",
      new Map(truth.tasks.map((t) => [t.id, { lead: t.leadId, title: t.title, finished: t.finished }])),
      byId(await live("lofty_tasks", "lead_id::text as lead, title, finished"), (r) => ({
        lead: r.lead,
        title: r.title,
        finished: r.finished,
      })),
    ),
  );
  const children = async (table: string, rows: { id: string; leadId: string }[]) =>
    diff(
      table,
      new Map(rows.map((x) => [x.id, { lead: x.leadId }])),
      byId(await live(table, "lead_id::text as lead"), (r) => ({ lead: r.lead })),
    );
  out.push(await children("lofty_notes", truth.notes));
  out.push(await children("lofty_calls", truth.calls));
  out.push(await children("lofty_activities", truth.activities));
  out.push(
    diff(
      "contacts",
      new Map(truth.leads.map((l) => [l.leadId, { email: l.email, name: `${l.firstName} ${l.lastName}` }])),
      byId(await live("contacts", "primary_email, name", true), (r) => ({
        email: r.primary_email,
        name: r.name,
      })),
    ),
  );
  out.push(
    diff(
      "transactions",
      new Map(truth.transactions.map((t) => [t.id, { status: t.status }])),
      byId(await live("transactions", "status", true), (r) => ({ status: r.status })),
    ),
  );
  out.push(
    diff(
      "activities",
      new Map([
        ...truth.notes.map((n) => [`note:${n.id}`, { lead: n.leadId }] as const),
        ...truth.calls.map((c) => [`call:${c.id}`, { lead: c.leadId }] as const),
        ...truth.activities.map((a) => [`activity:${a.id}`, { lead: a.leadId }] as const),
      ]),
      byId(await live("activities", "contact_source_id", true), (r) => ({ lead: r.contact_source_id })),
    ),
  );
  return out;
}

/** Polls until nothing is staged or pending in the inbox for the account. */
export async function drained(databaseUrl: string, accountId: string, timeoutMs = 60_000) {
  let last: unknown = null;
  await waitFor(
    "staging and inbox drained",
    async () => {
      const staged = await query<{ n: number }>(
        databaseUrl,
        "select count(*)::int as n from stage_records where account_id = $1 and done_at is null",
        [accountId],
      );
      const inbox = await query<{ n: number }>(
        databaseUrl,
        "select count(*)::int as n from webhook_inbox where account_id = $1 and status = 'pending'",
        [accountId],
      );
      last = { staged, inbox };
      return staged[0]?.n === 0 && inbox[0]?.n === 0;
    },
    { timeoutMs, intervalMs: 500 },
  ).catch((error) => {
    throw new Error(`${error instanceof Error ? error.message : error}; ${JSON.stringify(last)}`);
  });
}

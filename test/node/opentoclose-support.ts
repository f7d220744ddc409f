import type { Truth } from "../../tools/simulator-opentoclose/app";
import { query } from "./dotloop-support";
import { jsonEqual } from "./fub-support";

/** Open To Close entities the connector syncs. */
export const OTC_ENTITIES = [
  "properties",
  "propertyContacts",
  "notes",
  "tasks",
  "contacts",
  "agents",
  "users",
  "teams",
] as const;

/** Every table an Open To Close sync writes, for write counts (xmin) and the token search. */
export const OTC_TABLES = [
  "opentoclose_properties",
  "opentoclose_property_contacts",
  "opentoclose_notes",
  "opentoclose_tasks",
  "opentoclose_contacts",
  "opentoclose_agents",
  "opentoclose_users",
  "opentoclose_teams",
  "transactions",
  "listings",
] as const;

type Diff = { what: string; missing: string[]; extra: string[]; differs: unknown[] };

function diff<T>(what: string, truth: Map<string, T>, rows: Map<string, T>): Diff {
  const missing = [...truth.keys()].filter((id) => !rows.has(id)).sort();
  const extra = [...rows.keys()].filter((id) => !truth.has(id)).sort();
  const differs: unknown[] = [];
  for (const [id, t] of truth) {
    const o = rows.get(id);
    if (o !== undefined && !jsonEqual(JSON.parse(JSON.stringify(t)), JSON.parse(JSON.stringify(o))))
      differs.push({ id, truth: t, ours: o });
  }
  return { what, missing: missing.slice(0, 10), extra: extra.slice(0, 10), differs: differs.slice(0, 5) };
}

/** What compareOtc returns when Postgres equals the truth, in its order. */
export const CLEAN = [
  "opentoclose_properties",
  "opentoclose_property_contacts",
  "opentoclose_notes",
  "opentoclose_tasks",
  "opentoclose_contacts",
  "transactions",
  "listings",
  "opentoclose_agents",
  "opentoclose_users",
  "opentoclose_teams",
].map((what) => ({ what, missing: [], extra: [], differs: [] }));

const num = (v: unknown) => (v === null || v === undefined || v === "" ? null : Number(v));
const blank = (v: string | undefined) => (v === undefined || v === "" ? null : v);

/**
 * Postgres against the simulator's truth for one account, written from the simulator's data alone: live rows
 * with exactly the truth's ids, every field value by key, the whole raw record, the typed columns, children
 * with their properties, and the unified transactions and listings.
 */
export async function compareOtc(databaseUrl: string, accountId: string, truth: Truth): Promise<Diff[]> {
  const live = (table: string, cols: string, provider = false) =>
    query<Record<string, unknown>>(
      databaseUrl,
      `select source_id::text as id, ${cols} from ${table}
       where account_id = $1 and deleted_at is null ${provider ? "and provider = 'opentoclose'" : ""}`,
      [accountId],
    );
  const byId = <T>(rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => T) =>
    new Map(rows.map((r) => [String(r.id), f(r)]));
  const out: Diff[] = [];
  const fieldValue = (p: Truth["properties"][number], key: string) =>
    p.field_values.find((f) => f.key === key)?.value;

  out.push(
    diff(
      "opentoclose_properties",
      new Map(
        truth.properties.map((p) => [
          String(p.id),
          {
            raw: p,
            fields: Object.fromEntries(p.field_values.map((f) => [f.key, f.value])),
            timezone: p.timezone,
            status: blank(fieldValue(p, "contract_status")),
            purchase: num(fieldValue(p, "purchase_amount")),
            closing: blank(fieldValue(p, "closing_date")),
            address: blank(fieldValue(p, "property_address")),
            agent: p.agent_id,
          },
        ]),
      ),
      byId(
        await live(
          "opentoclose_properties",
          "raw, fields, timezone, contract_status, purchase_amount, closing_date::text as closing, address, agent_id",
        ),
        (r) => ({
          raw: r.raw,
          fields: r.fields,
          timezone: r.timezone,
          status: r.contract_status,
          purchase: num(r.purchase_amount),
          closing: r.closing,
          address: r.address,
          agent: num(r.agent_id),
        }),
      ),
    ),
  );
  out.push(
    diff(
      "opentoclose_property_contacts",
      new Map(
        truth.propertyContacts.map((c) => [
          `${c.propertyId}:${c.contact.id}:${c.contact_role.title}`,
          { property: c.propertyId, email: c.contact.email, role: c.contact_role.title },
        ]),
      ),
      byId(await live("opentoclose_property_contacts", "property_id, email, role"), (r) => ({
        property: num(r.property_id),
        email: r.email,
        role: r.role,
      })),
    ),
  );
  out.push(
    diff(
      "opentoclose_notes",
      new Map(truth.notes.map((n) => [String(n.id), { property: n.propertyId, title: n.title }])),
      byId(await live("opentoclose_notes", "property_id, title"), (r) => ({
        property: num(r.property_id),
        title: r.title,
      })),
    ),
  );
  out.push(
    diff(
      "opentoclose_tasks",
      new Map(
        truth.tasks.map((t) => [String(t.id), { property: t.propertyId, status: t.status, due: t.due_date }]),
      ),
      byId(await live("opentoclose_tasks", "property_id, status, due_date::text as due"), (r) => ({
        property: num(r.property_id),
        status: r.status,
        due: r.due,
      })),
    ),
  );
  out.push(
    diff(
      "opentoclose_contacts",
      new Map(truth.contacts.map((c) => [String(c.id), { last: c.last_name, email: c.email, raw: c }])),
      byId(await live("opentoclose_contacts", "last_name, email, raw"), (r) => ({
        last: r.last_name,
        email: r.email,
        raw: r.raw,
      })),
    ),
  );
  out.push(
    diff(
      "transactions",
      new Map(
        truth.properties.map((p) => [
          String(p.id),
          {
            name: blank(fieldValue(p, "contract_title")),
            status: blank(fieldValue(p, "contract_status")),
            price: num(fieldValue(p, "purchase_amount")) ?? num(fieldValue(p, "listing_price")),
            close: blank(fieldValue(p, "closing_date")),
          },
        ]),
      ),
      byId(await live("transactions", "name, status, price, close_date::text as close", true), (r) => ({
        name: r.name,
        status: r.status,
        price: num(r.price),
        close: r.close,
      })),
    ),
  );
  const isListing = (p: Truth["properties"][number]) =>
    ["listing_status", "listing_price", "listing_date"].some((k) => blank(fieldValue(p, k)) !== null);
  out.push(
    diff(
      "listings",
      new Map(
        truth.properties
          .filter(isListing)
          .map((p) => [
            String(p.id),
            { status: blank(fieldValue(p, "listing_status")), price: num(fieldValue(p, "listing_price")) },
          ]),
      ),
      byId(await live("listings", "status, price", true), (r) => ({ status: r.status, price: num(r.price) })),
    ),
  );
  for (const [table, list] of [
    ["opentoclose_agents", truth.agents],
    ["opentoclose_users", truth.users],
  ] as const) {
    out.push(
      diff(
        table,
        new Map(list.map((a) => [String(a.id), { email: a.email }])),
        byId(await live(table, "email"), (r) => ({ email: r.email })),
      ),
    );
  }
  out.push(
    diff(
      "opentoclose_teams",
      new Map(truth.teams.map((t) => [String(t.id), { name: t.name }])),
      byId(await live("opentoclose_teams", "name"), (r) => ({ name: r.name })),
    ),
  );
  return out;
}

/** `table:source_id` → xmin of every row of the account: a row written since has another xmin. */
export async function rowVersions(databaseUrl: string, accountId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const table of OTC_TABLES) {
    const rows = await query<{ id: string; x: string }>(
      databaseUrl,
      `select source_id::text as id, xmin::text as x from ${table} where account_id = $1`,
      [accountId],
    );
    for (const r of rows) out.set(`${table}:${r.id}`, r.x);
  }
  return out;
}

/** Rows written (new or rewritten) between two snapshots. */
export function written(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([k, x]) => before.get(k) !== x).map(([k]) => k);
}

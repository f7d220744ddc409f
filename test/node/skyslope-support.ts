import { query } from "./dotloop-support";
import { jsonEqual } from "./fub-support";

/** SkySlope entities the connector syncs, by the keys the seeds' mirror columns are named after. */
export const SKYSLOPE_ENTITIES = ["offices", "account_users", "transaction", "listing"] as const;

type TruthFile = { guid: string; modifiedAt: string; createdAt: string; record: Record<string, unknown> };
export type SkyslopeTruth = {
  zone: string;
  transactions: TruthFile[];
  listings: TruthFile[];
  users: Record<string, unknown>[];
  offices: { officeGuid: string; officeName: string }[];
};

export async function skyslopeTruth(simUrl: string): Promise<SkyslopeTruth> {
  const res = await fetch(`${simUrl}/_sim/truth`);
  if (!res.ok) throw new Error(`truth → ${res.status}`);
  return (await res.json()) as SkyslopeTruth;
}

/** An instant as Postgres prints it below (`to_char(... 'US')`): six fraction digits, no zone letter. */
export function micros(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) throw new Error(`not an ISO instant: ${iso}`);
  return `${m[1]}.${(m[2] ?? "").padEnd(6, "0")}`;
}

/** The record as a correct sync keeps it: NUL cannot be stored (the connector drops it from bodies). */
function storable(v: unknown): unknown {
  if (typeof v === "string") return v.replaceAll("\u0000", "");
  if (Array.isArray(v)) return v.map(storable);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, storable(x)]));
  return v;
}

type Diff = {
  what: string;
  missing: string[];
  extra: string[];
  differs: { id: string; truth: unknown; ours: unknown }[];
};

function diff<T>(what: string, truth: Map<string, T>, ours: Map<string, T>): Diff {
  const missing = [...truth.keys()].filter((id) => !ours.has(id)).sort();
  const extra = [...ours.keys()].filter((id) => !truth.has(id)).sort();
  const differs: Diff["differs"] = [];
  for (const [id, t] of truth) {
    const o = ours.get(id);
    if (o !== undefined && !jsonEqual(JSON.parse(JSON.stringify(t)), JSON.parse(JSON.stringify(o))))
      differs.push({ id, truth: t, ours: o });
  }
  return { what, missing: missing.slice(0, 20), extra: extra.slice(0, 20), differs: differs.slice(0, 5) };
}

export const cleanSkyslope = () =>
  [
    "skyslope_transactions",
    "skyslope_listings",
    "skyslope_users",
    "skyslope_offices",
    "transactions",
    "listings",
  ].map((what) => ({ what, missing: [], extra: [], differs: [] }));

const TIME = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as ${col}`;

/**
 * Postgres against the simulator's truth, table by table: live rows with exactly the truth's ids; each file's
 * times as instants (read in the connection's zone), status and whole raw record (less the instants the
 * connector adds); users and offices whole; the unified transactions and listings with their times.
 */
export async function compareSkyslope(
  databaseUrl: string,
  accountId: string,
  truth: SkyslopeTruth,
): Promise<Diff[]> {
  const live = (table: string, cols: string, extra = "") =>
    query<Record<string, unknown>>(
      databaseUrl,
      `select source_id as id, ${cols} from ${table} where account_id = $1 and deleted_at is null ${extra}`,
      [accountId],
    );
  const byId = (rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => unknown) =>
    new Map(rows.map((r) => [String(r.id), f(r)]));
  const withoutInstants = (raw: unknown) => {
    const { _instants, ...rest } = raw as Record<string, unknown>;
    return rest;
  };
  const fileView = (f: TruthFile) => ({
    updated: micros(f.modifiedAt),
    created: micros(f.createdAt),
    status: f.record.status ?? null,
    raw: storable(f.record),
  });
  const out: Diff[] = [];
  for (const [table, files] of [
    ["skyslope_transactions", truth.transactions],
    ["skyslope_listings", truth.listings],
  ] as const) {
    out.push(
      diff(
        table,
        new Map(files.map((f) => [f.guid, fileView(f)])),
        byId(
          await live(table, `${TIME("source_updated_at")}, ${TIME("source_created_at")}, status, raw`),
          (r) => ({
            updated: r.source_updated_at,
            created: r.source_created_at,
            status: r.status,
            raw: withoutInstants(r.raw),
          }),
        ),
      ),
    );
  }
  out.push(
    diff(
      "skyslope_users",
      new Map(truth.users.map((u) => [String(u.userGuid), { email: u.email, phone: u.phone, raw: u }])),
      byId(await live("skyslope_users", "email, phone, raw"), (r) => ({
        email: r.email,
        phone: r.phone,
        raw: r.raw,
      })),
    ),
  );
  out.push(
    diff(
      "skyslope_offices",
      new Map(truth.offices.map((o) => [o.officeGuid, o.officeName])),
      byId(await live("skyslope_offices", "name"), (r) => r.name),
    ),
  );
  const unified = (f: TruthFile) => ({ updated: micros(f.modifiedAt), status: f.record.status ?? null });
  for (const [table, files] of [
    ["transactions", truth.transactions],
    ["listings", truth.listings],
  ] as const) {
    out.push(
      diff(
        table,
        new Map(files.map((f) => [f.guid, unified(f)])),
        byId(await live(table, `${TIME("source_updated_at")}, status`, "and provider = 'skyslope'"), (r) => ({
          updated: r.source_updated_at,
          status: r.status,
        })),
      ),
    );
  }
  return out;
}

import type { Officer, TerritoryMap, Truth } from "../../tools/simulator-zhl/app";
import { query } from "./dotloop-support";
import { jsonEqual } from "./fub-support";

/** ZHL entities the connector syncs. */
export const ZHL_ENTITIES = ["loanOfficers", "territoryMaps"] as const;

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

/** What compareRoster returns when Postgres equals the truth. */
export const CLEAN = ["zhl_loan_officers", "zhl_dedicated_loan_officer_map"].map((what) => ({
  what,
  missing: [],
  extra: [],
  differs: [],
}));

const instant = (s: string) => new Date(Date.parse(s)).toISOString();

/**
 * Live roster rows against the simulator's truth, written from the simulator's data alone: exactly the truth's
 * ids, the whole raw record, the typed columns and the update time as an instant.
 */
export async function compareRoster(databaseUrl: string, accountId: string, truth: Truth): Promise<Diff[]> {
  const live = (table: string, cols: string) =>
    query<Record<string, unknown>>(
      databaseUrl,
      `select source_id as id, raw, ${cols},
         to_char(source_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated
       from ${table} where account_id = $1 and deleted_at is null`,
      [accountId],
    );
  const officer = (o: Officer) => ({
    raw: o,
    nmls: o.nmlsId,
    status: o.status,
    territory: o.territory,
    email: o.email,
    updated: instant(o.updatedAt),
  });
  const map = (m: TerritoryMap) => ({
    raw: m,
    territory: m.territory,
    officer: m.loanOfficerId,
    role: m.role,
    priority: m.priority,
    updated: instant(m.updatedAt),
  });
  return [
    diff(
      "zhl_loan_officers",
      new Map(truth.loanOfficers.map((o) => [o.id, officer(o)])),
      new Map(
        (await live("zhl_loan_officers", "nmls_id, status, territory, email")).map((r) => [
          String(r.id),
          {
            raw: r.raw,
            nmls: r.nmls_id,
            status: r.status,
            territory: r.territory,
            email: r.email,
            updated: r.updated,
          },
        ]),
      ),
    ),
    diff(
      "zhl_dedicated_loan_officer_map",
      new Map(truth.maps.map((m) => [m.id, map(m)])),
      new Map(
        (await live("zhl_dedicated_loan_officer_map", "territory, loan_officer_id, role, priority")).map(
          (r) => [
            String(r.id),
            {
              raw: r.raw,
              territory: r.territory,
              officer: r.loan_officer_id,
              role: r.role,
              priority: r.priority,
              updated: r.updated,
            },
          ],
        ),
      ),
    ),
  ];
}

/**
 * The officer each referral must end with, from the truth and the refusing set alone: the territory's PRIMARY
 * when it is ACTIVE, has a valid NMLS id and accepts; else the first FALLBACK that does. Null: not transferable.
 */
export function expectedRouting(
  truth: Truth,
  refusing: Set<string>,
): Map<string, { officer: string; fallback: boolean } | null> {
  const officers = new Map(truth.loanOfficers.map((o) => [o.id, o]));
  const out = new Map<string, { officer: string; fallback: boolean } | null>();
  for (const r of truth.referrals) {
    const contact = r.sender?.name && (r.sender.email || r.sender.phone);
    const maps = truth.maps
      .filter((m) => m.territory === r.territory)
      .sort((a, b) => (a.role === b.role ? a.priority - b.priority : a.role === "PRIMARY" ? -1 : 1));
    const ok = maps.find((m) => {
      const o = officers.get(m.loanOfficerId);
      return o && o.status === "ACTIVE" && /^[1-9]\d{0,11}$/.test(o.nmlsId) && !refusing.has(o.id);
    });
    out.set(r.id, contact && ok ? { officer: ok.loanOfficerId, fallback: ok.role !== "PRIMARY" } : null);
  }
  return out;
}

import type { Truth } from "../../tools/simulator-rezen/app";
import type { RunningSimulator } from "../../tools/simulator-rezen/main";
import { clean, query } from "./dotloop-support";
import { jsonEqual } from "./fub-support";

/** reZEN entities the connector syncs, parents first. */
export const REZEN_ENTITIES = [
  "agents",
  "lifecycleGroups",
  "transactionList",
  "transactions",
  "listings",
  "networkSize",
  "downline",
  "frontline",
  "networkCap",
  "equity",
  "contributions",
  "teamRoster",
] as const;

export const rezenTruth = (rz: RunningSimulator): Truth =>
  JSON.parse(JSON.stringify(rz.sim.truth())) as Truth;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
const isoOf = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

function diff<T>(what: string, truth: Map<string, T>, rows: Map<string, T>) {
  const missing = [...truth.keys()].filter((id) => !rows.has(id)).sort();
  const extra = [...rows.keys()].filter((id) => !truth.has(id)).sort();
  const differs: { id: string; truth: T; ours: T }[] = [];
  for (const [id, t] of truth) {
    const o = rows.get(id);
    if (o !== undefined && !jsonEqual(JSON.parse(JSON.stringify(t)), JSON.parse(JSON.stringify(o))))
      differs.push({ id, truth: t, ours: o });
  }
  return { what, missing: missing.slice(0, 20), extra: extra.slice(0, 20), differs: differs.slice(0, 20) };
}

/** Which tables `compareRezen` checks, each clean. */
export const REZEN_TABLES = [
  "rezen_agents",
  "rezen_lifecycle_group_counts",
  "rezen_transaction_list",
  "rezen_transactions",
  "transactions",
  "rezen_listings",
  "listings",
  "rezen_network_size",
  "rezen_network_downline",
  "rezen_network_frontline",
  "rezen_network_cap",
  "rezen_equity",
  "rezen_contributions",
  "rezen_team_roster",
];
export const REZEN_CLEAN = REZEN_TABLES.map(clean);

/**
 * Postgres against the simulator's ground truth, table by table (live rows, exactly the truth's ids, the
 * fields that matter equal: groups and states, money as amount + currency, epoch-ms times as instants, tiers),
 * then the unified transactions and listings. `only` limits it to some tables (a webhook phase, which moves
 * details but not the lists).
 */
export async function compareRezen(databaseUrl: string, accountId: string, truth: Truth, only?: string[]) {
  const live = (table: string, cols: string, provider = false) =>
    query<Record<string, unknown>>(
      databaseUrl,
      `select source_id::text as id, ${cols} from ${table}
       where account_id = $1 and deleted_at is null ${provider ? "and provider = 'rezen'" : ""}`,
      [accountId],
    );
  const byId = <T>(rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => T) =>
    new Map(rows.map((r) => [String(r.id), f(r)]));
  const want = (t: string) => !only || only.includes(t);
  const out = [];
  const a = truth.agent;
  if (want("rezen_agents"))
    out.push(
      diff(
        "rezen_agents",
        new Map([[a.id, { email: a.emailAddress, first: a.firstName, status: a.status }]]),
        byId(await live("rezen_agents", "email_address, first_name, status"), (r) => ({
          email: r.email_address,
          first: r.first_name,
          status: r.status,
        })),
      ),
    );
  if (want("rezen_lifecycle_group_counts"))
    out.push(
      diff(
        "rezen_lifecycle_group_counts",
        new Map(
          Object.entries(truth.lifecycleGroupCounts).map(([g, n]) => [
            g,
            { count: n, kind: g.startsWith("LISTING_") ? "LISTING" : "TRANSACTION", yenta: a.id },
          ]),
        ),
        byId(await live("rezen_lifecycle_group_counts", "count, kind, yenta_id"), (r) => ({
          count: r.count,
          kind: r.kind,
          yenta: r.yenta_id,
        })),
      ),
    );
  if (want("rezen_transaction_list"))
    out.push(
      diff(
        "rezen_transaction_list",
        new Map(
          truth.transactions.map((t) => [t.id, { group: t.lifecycleGroup, updated: iso(t.updatedAt) }]),
        ),
        byId(await live("rezen_transaction_list", "lifecycle_group, listed_updated_at"), (r) => ({
          group: r.lifecycle_group,
          updated: isoOf(r.listed_updated_at),
        })),
      ),
    );
  if (want("rezen_transactions"))
    out.push(
      diff(
        "rezen_transactions",
        new Map(
          truth.transactions.map((t) => {
            const addr = t.address as { zip?: string; zipCode?: string };
            return [
              t.id,
              {
                state: t.lifecycleState.state,
                price: t.price.amount,
                currency: t.price.currency,
                commission: t.grossCommission.amount,
                zip: addr.zip ?? addr.zipCode ?? null,
                participants: t.participants.length,
                closed: t.closingDateActual,
                updated: iso(t.updatedAt),
              },
            ];
          }),
        ),
        byId(
          await live(
            "rezen_transactions",
            `lifecycle_state, price_amount, price_currency, gross_commission_amount, zip, participants,
             closing_date_actual::text as closed, source_updated_at`,
          ),
          (r) => ({
            state: r.lifecycle_state,
            price: num(r.price_amount),
            currency: r.price_currency,
            commission: num(r.gross_commission_amount),
            zip: r.zip,
            participants: (r.participants as unknown[]).length,
            closed: r.closed,
            updated: isoOf(r.source_updated_at),
          }),
        ),
      ),
    );
  if (want("transactions"))
    out.push(
      diff(
        "transactions",
        new Map(
          truth.transactions.map((t) => [
            t.id,
            { status: t.lifecycleState.state, price: t.price.amount, name: t.code },
          ]),
        ),
        byId(await live("transactions", "status, price, name", true), (r) => ({
          status: r.status,
          price: num(r.price),
          name: r.name,
        })),
      ),
    );
  if (want("rezen_listings"))
    out.push(
      diff(
        "rezen_listings",
        new Map(
          truth.listings.map((l) => [
            l.id,
            { state: l.lifecycleState.state, price: l.price.amount, zip: l.address.zipCode },
          ]),
        ),
        byId(await live("rezen_listings", "lifecycle_state, price_amount, zip"), (r) => ({
          state: r.lifecycle_state,
          price: num(r.price_amount),
          zip: r.zip,
        })),
      ),
    );
  if (want("listings"))
    out.push(
      diff(
        "listings",
        new Map(truth.listings.map((l) => [l.id, { status: l.lifecycleState.state, mls: l.mlsNum }])),
        byId(await live("listings", "status, mls_number", true), (r) => ({
          status: r.status,
          mls: r.mls_number,
        })),
      ),
    );
  if (want("rezen_network_size"))
    out.push(
      diff(
        "rezen_network_size",
        new Map(truth.networkSize.map((s) => [String(s.tier), { size: s.networkSize }])),
        byId(await live("rezen_network_size", "network_size"), (r) => ({ size: r.network_size })),
      ),
    );
  if (want("rezen_network_downline"))
    out.push(
      diff(
        "rezen_network_downline",
        new Map(
          truth.downline.map((d) => [
            d.id,
            { tier: d.tier, status: d.status, email: d.emailAddress, sponsor: d.sponsorId, of: a.id },
          ]),
        ),
        byId(
          await live("rezen_network_downline", "tier, status, email_address, sponsor_id, sponsor_yenta_id"),
          (r) => ({
            tier: r.tier,
            status: r.status,
            email: r.email_address,
            sponsor: r.sponsor_id,
            of: r.sponsor_yenta_id,
          }),
        ),
      ),
    );
  if (want("rezen_network_frontline"))
    out.push(
      diff(
        "rezen_network_frontline",
        new Map(truth.frontline.map((id) => [id, { of: a.id }])),
        byId(await live("rezen_network_frontline", "yenta_id"), (r) => ({ of: r.yenta_id })),
      ),
    );
  if (want("rezen_network_cap"))
    out.push(
      diff(
        "rezen_network_cap",
        new Map([
          [
            a.id,
            { cap: truth.cap.capAmount.amount, paid: truth.cap.paidAmount.amount, end: truth.cap.capEndDate },
          ],
        ]),
        byId(await live("rezen_network_cap", "cap_amount, paid_amount, cap_end_date::text as end"), (r) => ({
          cap: num(r.cap_amount),
          paid: num(r.paid_amount),
          end: r.end,
        })),
      ),
    );
  if (want("rezen_equity"))
    out.push(
      diff(
        "rezen_equity",
        new Map([[a.id, { shares: truth.equity.sharesOwned, purchase: truth.equity.equityPurchase.amount }]]),
        byId(await live("rezen_equity", "shares_owned, equity_purchase_amount"), (r) => ({
          shares: num(r.shares_owned),
          purchase: num(r.equity_purchase_amount),
        })),
      ),
    );
  if (want("rezen_contributions"))
    out.push(
      diff(
        "rezen_contributions",
        new Map(
          truth.contributions.map((c) => [
            c.id,
            { tier: c.tier, amount: c.amount.amount, currency: c.amount.currency, at: iso(c.contributedAt) },
          ]),
        ),
        byId(await live("rezen_contributions", "tier, amount, currency, contributed_at"), (r) => ({
          tier: r.tier,
          amount: num(r.amount),
          currency: r.currency,
          at: isoOf(r.contributed_at),
        })),
      ),
    );
  if (want("rezen_team_roster"))
    out.push(
      diff(
        "rezen_team_roster",
        new Map(truth.teams.map((t) => [t.id, { name: t.name, members: t.members.length }])),
        byId(await live("rezen_team_roster", "name, member_count"), (r) => ({
          name: r.name,
          members: r.member_count,
        })),
      ),
    );
  return out;
}

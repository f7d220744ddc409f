// Seeds-derived data of the ZHL simulator: one partner account's loan officers (NMLS ids, statuses,
// territories), its dedicated loan-officer maps (a PRIMARY and a FALLBACK officer per territory), the referrals
// waiting for a loan officer (shaped after Zillow's public lender-contact notification: `LC-` ids, ISO-8601 with
// an offset, `sender` as the contact), and what the transfer endpoint did. Deterministic per seed.

import {
  BIGNUM_FIELD,
  DEEP_FIELD,
  HOSTILE_RECORD_KINDS,
  type HostileRecordKind,
  RawJson,
  withHostile,
} from "../lib/hostile";
import { hash, normalizeSeed } from "../simulator/prng";

export type Officer = {
  id: string;
  nmlsId: string;
  firstName: string;
  lastName: string;
  email: string;
  status: "ACTIVE" | "INACTIVE" | "ON_LEAVE";
  territory: string;
  createdAt: string;
  updatedAt: string;
};

export type TerritoryMap = {
  id: string;
  territory: string;
  accountRef: string | null;
  loanOfficerId: string;
  role: "PRIMARY" | "FALLBACK";
  priority: number;
  createdAt: string;
  updatedAt: string;
};

export type Referral = {
  id: string;
  created: string;
  type: string;
  source: string;
  brand: string;
  channel: string;
  price: number;
  territory: string | null;
  status: "PENDING" | "TRANSFERRED";
  sender: { name: string; email: string | null; phone: string | null } | null;
  recipient: { loanOfficerId: string } | null;
  details: string;
};

export type Transfer = {
  transferId: string;
  referralId: string;
  loanOfficerId: string;
  nmlsId: string;
  status: "TRANSFERRED";
  created: string;
  externalContactReference: string;
  applicationURL: string;
};

export type AccountConfig = {
  /** Territories, each with a PRIMARY and a FALLBACK officer and `officersPerTerritory` officers in all. */
  territories?: number;
  officersPerTerritory?: number;
  referrals?: number;
  seed?: number | string;
};

export const TERRITORY_NAMES = [
  "WA-SEATTLE",
  "CA-SAN-DIEGO",
  "TX-AUSTIN",
  "AZ-PHOENIX",
  "CO-DENVER",
  "GA-ATLANTA",
  "FL-TAMPA",
  "NC-RALEIGH",
];
const FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon"];
const LAST = ["Ortiz", "Nakamura", "Okafor", "Lindqvist", "Patel", "Moreau", "Kowalski", "Reyes"];

/** Zillow's public lender API writes times with the sender's offset ("2015-01-22T10:30:00-08:00"). */
export function pacific(ms: number): string {
  return `${new Date(ms - 8 * 3_600_000).toISOString().slice(0, 19)}-08:00`;
}

/** Entities hostile records can be made in, each with the string field its string kinds rewrite by default. */
export const HOSTILE_FIELDS = { officers: "lastName", maps: "accountRef", referrals: "sender.name" } as const;
export type HostileEntity = keyof typeof HOSTILE_FIELDS;
export type HostileMade = { entity: HostileEntity; id: string; kind: HostileRecordKind; field: string };

export class Account {
  officers = new Map<string, Officer>();
  maps = new Map<string, TerritoryMap>();
  referrals = new Map<string, Referral>();
  /** Idempotency key → the request it carried and the transfer it made. */
  transferKeys = new Map<string, { referralId: string; loanOfficerId: string; transfer: Transfer }>();
  transfers = new Map<string, Transfer>();
  /** Times each referral was actually transferred (ground truth for "once"). */
  executions = new Map<string, number>();
  notificationKeys = new Map<string, { transferId: string; notificationId: string }>();
  notifications = new Map<string, number>();
  /** Officers that refuse every transfer (409), whatever their status. */
  refusing = new Set<string>();
  /** Next N requests answer 503 / 429; next N transfers answer 503 before anything happens; next N are lost. */
  faults = { fail5xx: 0, fail429: 0, failTransfers: 0, loseAnswers: 0 };
  private seq = 0;
  private readonly seed: number;

  constructor(
    readonly name: string,
    readonly apiKey: string,
    private readonly now: () => number,
    config: AccountConfig = {},
  ) {
    this.seed = normalizeSeed(config.seed ?? name);
    const territories = TERRITORY_NAMES.slice(0, Math.min(TERRITORY_NAMES.length, config.territories ?? 3));
    const per = Math.max(2, config.officersPerTerritory ?? 3);
    const t0 = now() - 30 * 86_400_000;
    territories.forEach((territory, ti) => {
      for (let k = 0; k < per; k++) {
        const h = hash(this.seed, ti, k);
        const id = `LO-${1001 + ti * 100 + k}`;
        this.officers.set(id, {
          id,
          nmlsId: String(100_000 + (h % 8_900_000)),
          firstName: FIRST[h % FIRST.length] as string,
          lastName: LAST[(h >>> 8) % LAST.length] as string,
          email: `${id.toLowerCase()}@zhl.example`,
          status: "ACTIVE",
          territory,
          createdAt: pacific(t0 + ti * 60_000 + k * 1000),
          updatedAt: pacific(t0 + ti * 60_000 + k * 1000),
        });
      }
      (["PRIMARY", "FALLBACK"] as const).forEach((role, k) => {
        const id = `DLM-${ti + 1}${k + 1}`;
        this.maps.set(id, {
          id,
          territory,
          accountRef: null,
          loanOfficerId: `LO-${1001 + ti * 100 + k}`,
          role,
          priority: k + 1,
          createdAt: pacific(t0),
          updatedAt: pacific(t0),
        });
      });
    });
    this.addReferrals(config.referrals ?? 10);
  }

  /** New pending referrals, spread over the territories in turn (or all in `territory`). */
  addReferrals(n: number, opts: { territory?: string | null; noContact?: boolean } = {}): Referral[] {
    const territories = [...new Set([...this.maps.values()].map((m) => m.territory))];
    const out: Referral[] = [];
    for (let i = 0; i < n; i++) {
      const k = this.seq++;
      const h = hash(this.seed, 7_777, k);
      const id = `LC-${(h.toString(16) + k.toString(16)).toUpperCase().padStart(10, "0")}`;
      const territory =
        opts.territory !== undefined ? opts.territory : (territories[k % territories.length] ?? null);
      const r: Referral = {
        id,
        created: pacific(this.now() - (n - i) * 1000),
        type: "Purchase",
        source: "Zillow Premier Agent",
        brand: "Zillow",
        channel: "Web",
        price: 250_000 + (h % 500) * 1000,
        territory,
        status: "PENDING",
        sender: opts.noContact
          ? null
          : {
              name: `${FIRST[h % FIRST.length]} ${LAST[(h >>> 4) % LAST.length]}`,
              email: `lead${k}@example.com`,
              phone: null,
            },
        recipient: null,
        details: "Pre-approval requested",
      };
      this.referrals.set(id, r);
      out.push(r);
    }
    return out;
  }

  /**
   * New records carrying one hostile kind each (tools/lib/hostile.ts): an ACTIVE officer in the first
   * territory, a FALLBACK map of the first territory naming its first officer, or a pending referral there. A
   * string kind rewrites `field` (a dotted path; the entity's own by default).
   */
  addHostile(
    entity: HostileEntity,
    kinds: readonly HostileRecordKind[] = HOSTILE_RECORD_KINDS,
    field: string = HOSTILE_FIELDS[entity],
  ): HostileMade[] {
    const first = [...this.maps.values()][0];
    const territory = first?.territory ?? null;
    const at = pacific(this.now());
    return kinds.map((kind) => {
      let id: string;
      if (entity === "referrals") {
        const [r] = this.addReferrals(1, { territory });
        const h = withHostile(r as Referral, kind, field);
        this.referrals.delete((r as Referral).id);
        this.referrals.set(h.id, h);
        id = h.id;
      } else if (entity === "officers") {
        id = this.nextId("LO");
        const o: Officer = {
          id,
          nmlsId: String(100_000 + (hash(this.seed, 9_999, this.seq) % 8_900_000)),
          firstName: "Hostile",
          lastName: `Officer ${id}`,
          email: `${id.toLowerCase()}@zhl.example`,
          status: "ACTIVE",
          territory: territory ?? "WA-SEATTLE",
          createdAt: at,
          updatedAt: at,
        };
        this.officers.set(id, withHostile(o, kind, field));
      } else {
        id = this.nextId("DLM");
        const m: TerritoryMap = {
          id,
          territory: territory ?? "WA-SEATTLE",
          accountRef: `acct ${id}`,
          loanOfficerId: first?.loanOfficerId ?? "LO-1001",
          role: "FALLBACK",
          priority: 10 + this.seq,
          createdAt: at,
          updatedAt: at,
        };
        this.maps.set(id, withHostile(m, kind, field));
      }
      const where = kind === "deep" ? DEEP_FIELD : kind === "bignum" ? BIGNUM_FIELD : field;
      return { entity, id, kind, field: where };
    });
  }

  touchOfficer(id: string, patch: Partial<Pick<Officer, "status" | "nmlsId" | "territory">>): Officer {
    const o = this.officers.get(id);
    if (!o) throw new Error(`no officer ${id}`);
    Object.assign(o, patch, { updatedAt: pacific(this.now()) });
    return o;
  }

  nextId(prefix: string): string {
    return `${prefix}-${String(++this.seq).padStart(6, "0")}`;
  }
}

/** A copy of a record; hostile structures (RawJson, top-level fields) stay as they are, to be written exactly. */
function cloneKeepingRaw<T extends object>(v: T): T {
  const copy = structuredClone(v) as Record<string, unknown>;
  for (const [k, x] of Object.entries(v)) if (x instanceof RawJson) copy[k] = x;
  return copy as T;
}

/** Everything the account holds, as the API would list it, plus what transfers did: the test's ground truth. */
export function truthOf(a: Account) {
  const byId = <T extends { id: string }>(m: Map<string, T>) =>
    [...m.values()].sort((x, y) => (x.id < y.id ? -1 : 1)).map(cloneKeepingRaw);
  return {
    loanOfficers: byId(a.officers),
    maps: byId(a.maps),
    referrals: byId(a.referrals),
    transfers: [...a.transfers.values()].map((t) => ({
      ...t,
      executions: a.executions.get(t.referralId) ?? 0,
      notifications: a.notifications.get(t.transferId) ?? 0,
    })),
  };
}
export type Truth = ReturnType<typeof truthOf>;

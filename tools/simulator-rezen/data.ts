// The reZEN simulator's world: one agent per API key's brokerage view, its transactions and listings by
// lifecycle group, its network by tier, revenue-share contributions, cap, equity and teams. Shapes are the
// community-derived ones of ../shared/PROVIDERS-WAVE2.md §4 (UUID ids, `{amount, currency}` money, epoch-ms
// `createdAt`/`updatedAt`, `YYYY-MM-DD` business dates); where nothing is published, docs/providers/rezen.md
// names the choice. Terminated deals move to TERMINATED; nothing is ever deleted except network removals.

export type Money = { amount: number; currency: "USD" | "CAD" };
export type TransactionGroup = "OPEN" | "CLOSED" | "TERMINATED";
export const TRANSACTION_GROUPS: TransactionGroup[] = ["OPEN", "CLOSED", "TERMINATED"];
export const LISTING_GROUPS = ["LISTING_ACTIVE", "LISTING_NONTERMINATED"] as const;
export const TIERS = [1, 2, 3, 4, 5] as const;

export type Participant = {
  participantRole: string;
  external: boolean;
  yentaUserId: string | null;
  firstName: string;
  lastName: string;
  emailAddress: string;
  phoneNumber: string;
  payment: { amount: number; percent: number } | null;
};

export type Transaction = {
  id: string;
  code: string;
  transactionType: "SALE" | "LEASE";
  listing: false;
  group: TransactionGroup;
  state: string;
  complianceStatus: string;
  address: { oneLine: string; street: string; city: string; state: string; zip?: string; zipCode?: string };
  price: Money;
  grossCommission: Money;
  grossCommissionPercentage: number;
  myNetPayout: Money;
  participants: Participant[];
  contractAcceptanceDate: string;
  closingDateEstimated: string;
  closingDateActual: string | null;
  mlsNum: string;
  leadSource: string;
  office: { name: string };
  currency: "USD" | "CAD";
  createdAt: number;
  updatedAt: number;
};

export type Listing = {
  id: string;
  code: string;
  listing: true;
  state: "LISTING_ACTIVE" | "LISTING_IN_CONTRACT" | "LISTING_TERMINATED";
  address: { oneLine: string; city: string; state: string; zipCode: string };
  price: Money;
  mlsNum: string;
  createdAt: number;
  updatedAt: number;
};

export type NetworkAgent = {
  id: string;
  firstName: string;
  lastName: string;
  emailAddress: string;
  status: "ACTIVE" | "INACTIVE";
  sponsorId: string;
  tier: number;
  createdAt: number;
  updatedAt: number;
};

export type Contribution = {
  id: string;
  tier: number;
  contributorYentaId: string;
  transactionId: string;
  amount: Money;
  contributedAt: number;
  createdAt: number;
};

export type Team = {
  id: string;
  name: string;
  status: "ACTIVE";
  members: { agentId: string; roles: string[] }[];
  createdAt: number;
  updatedAt: number;
};

export type Agent = {
  id: string;
  firstName: string;
  lastName: string;
  emailAddress: string;
  phoneNumber: string;
  status: "ACTIVE";
  country: "UNITED_STATES";
  accountCountry: "UNITED_STATES";
  createdAt: number;
  updatedAt: number;
};

export type Counts = {
  transactions: number;
  listings: number;
  downline: number;
  contributions: number;
  teams: number;
};
export const DEFAULT_COUNTS: Counts = {
  transactions: 45,
  listings: 12,
  downline: 30,
  contributions: 25,
  teams: 2,
};

const FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena"];
const LAST = ["Alvarez", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones"];
const CITIES = [
  ["Austin", "TX"],
  ["Denver", "CO"],
  ["Miami", "FL"],
  ["Boise", "ID"],
  ["Tampa", "FL"],
] as const;
const OPEN_STATES = [
  "NEW",
  "NEEDS_COMMISSION_VALIDATION",
  "COMMISSION_DOCUMENT_GENERATED",
  "APPROVED_FOR_CLOSING",
];

/** A deterministic generator (mulberry32), so a seed reproduces a world. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class Store {
  readonly rng: Rng;
  /** The simulator's clock (epoch ms), moved forward by every change so versions strictly increase. */
  clock = Date.UTC(2026, 10, 1);
  readonly agent: Agent;
  readonly transactions = new Map<string, Transaction>();
  readonly listings = new Map<string, Listing>();
  readonly downline = new Map<string, NetworkAgent>();
  readonly contributions = new Map<string, Contribution>();
  readonly teams = new Map<string, Team>();
  cap: { capAmount: Money; paidAmount: Money; capStartDate: string; capEndDate: string; updatedAt: number };
  equity: { sharesOwned: number; equityPurchase: Money; equityAward: Money; updatedAt: number };
  private codeSeq = 1000;

  constructor(seed: number, counts: Counts) {
    this.rng = new Rng(seed);
    const first = this.rng.pick(FIRST);
    const last = this.rng.pick(LAST);
    this.agent = {
      id: this.rng.uuid(),
      firstName: first,
      lastName: last,
      emailAddress: `${first}.${last}@realbrokerage.example`.toLowerCase(),
      phoneNumber: "+15125550100",
      status: "ACTIVE",
      country: "UNITED_STATES",
      accountCountry: "UNITED_STATES",
      createdAt: this.tick(),
      updatedAt: this.tick(),
    };
    for (let i = 0; i < counts.transactions; i++) this.createTransaction(TRANSACTION_GROUPS[i % 3]);
    for (let i = 0; i < counts.listings; i++)
      this.createListing(i % 4 === 3 ? "LISTING_IN_CONTRACT" : "LISTING_ACTIVE");
    for (let i = 0; i < counts.downline; i++) this.addDownline(i < 8 ? 1 : this.rng.int(2, 4));
    for (let i = 0; i < counts.contributions; i++) this.addContribution();
    for (let i = 0; i < counts.teams; i++) this.addTeam();
    this.cap = {
      capAmount: { amount: 12000, currency: "USD" },
      paidAmount: { amount: this.rng.int(0, 12000), currency: "USD" },
      capStartDate: "2026-03-01",
      capEndDate: "2027-02-28",
      updatedAt: this.tick(),
    };
    this.equity = {
      sharesOwned: this.rng.int(10, 900),
      equityPurchase: { amount: this.rng.int(100, 5000), currency: "USD" },
      equityAward: { amount: this.rng.int(0, 2000), currency: "USD" },
      updatedAt: this.tick(),
    };
  }

  tick(): number {
    this.clock += this.rng.int(1, 5000);
    return this.clock;
  }

  private person() {
    const firstName = this.rng.pick(FIRST);
    const lastName = this.rng.pick(LAST);
    return {
      firstName,
      lastName,
      emailAddress: `${firstName}.${lastName}${this.rng.int(1, 999)}@mail.example`.toLowerCase(),
    };
  }

  private address(useZipCode: boolean) {
    const [city, state] = this.rng.pick(CITIES);
    const street = `${this.rng.int(10, 9999)} ${this.rng.pick(["Oak", "Elm", "Main", "Pine"])} St`;
    const zip = String(this.rng.int(10000, 99999));
    return { street, city, state, zip, oneLine: `${street}, ${city}, ${state} ${zip}`, useZipCode };
  }

  createTransaction(group: TransactionGroup = "OPEN"): Transaction {
    const a = this.address(this.rng.next() < 0.5);
    const amount = this.rng.int(150, 1500) * 1000;
    const currency = this.rng.next() < 0.15 ? "CAD" : "USD";
    const created = this.tick();
    const contract = ymd(created - this.rng.int(1, 60) * 86_400_000);
    const t: Transaction = {
      id: this.rng.uuid(),
      code: `T-${this.codeSeq++}`,
      transactionType: this.rng.next() < 0.9 ? "SALE" : "LEASE",
      listing: false,
      group,
      state: this.stateOf(group),
      complianceStatus: this.rng.pick(["RECEIVED", "NOT_STARTED", "COMPLETE"]),
      // `zip` and `zipCode` both occur in the wild; the simulator serves both.
      address: {
        oneLine: a.oneLine,
        street: a.street,
        city: a.city,
        state: a.state,
        ...(a.useZipCode ? { zipCode: a.zip } : { zip: a.zip }),
      },
      price: { amount, currency },
      grossCommission: { amount: Math.round(amount * 0.03 * 100) / 100, currency },
      grossCommissionPercentage: 3,
      myNetPayout: { amount: Math.round(amount * 0.024 * 100) / 100, currency },
      participants: [
        {
          participantRole: "BUYERS_AGENT",
          external: false,
          yentaUserId: this.agent.id,
          firstName: this.agent.firstName,
          lastName: this.agent.lastName,
          emailAddress: this.agent.emailAddress,
          phoneNumber: this.agent.phoneNumber,
          payment: { amount: Math.round(amount * 0.024 * 100) / 100, percent: 80 },
        },
        {
          participantRole: "BUYER",
          external: true,
          yentaUserId: null,
          ...this.person(),
          phoneNumber: "+15125550111",
          payment: null,
        },
      ],
      contractAcceptanceDate: contract,
      closingDateEstimated: ymd(created + 30 * 86_400_000),
      closingDateActual: group === "CLOSED" ? ymd(created + 20 * 86_400_000) : null,
      mlsNum: `MLS${this.rng.int(100000, 999999)}`,
      leadSource: this.rng.pick(["Zillow", "Referral", "Sphere"]),
      office: { name: "Real Broker, LLC" },
      currency,
      createdAt: created,
      updatedAt: created,
    };
    this.transactions.set(t.id, t);
    return t;
  }

  private stateOf(group: TransactionGroup): string {
    return group === "OPEN" ? this.rng.pick(OPEN_STATES) : group === "CLOSED" ? "SETTLED" : "TERMINATED";
  }

  updateTransaction(id: string, patch: { price?: number; leadSource?: string }): Transaction {
    const t = this.mustTransaction(id);
    if (patch.price !== undefined) t.price = { ...t.price, amount: patch.price };
    if (patch.leadSource !== undefined) t.leadSource = patch.leadSource;
    t.updatedAt = this.tick();
    return t;
  }

  /** Terminated deals move to TERMINATED; reZEN deletes nothing. */
  terminateTransaction(id: string): Transaction {
    const t = this.mustTransaction(id);
    t.group = "TERMINATED";
    t.state = "TERMINATED";
    t.updatedAt = this.tick();
    return t;
  }

  closeTransaction(id: string): Transaction {
    const t = this.mustTransaction(id);
    t.group = "CLOSED";
    t.state = "SETTLED";
    t.closingDateActual = ymd(this.clock);
    t.updatedAt = this.tick();
    return t;
  }

  private mustTransaction(id: string): Transaction {
    const t = this.transactions.get(id);
    if (!t) throw new Error(`no transaction ${id}`);
    return t;
  }

  createListing(state: Listing["state"] = "LISTING_ACTIVE"): Listing {
    const a = this.address(true);
    const created = this.tick();
    const l: Listing = {
      id: this.rng.uuid(),
      code: `L-${this.codeSeq++}`,
      listing: true,
      state,
      address: { oneLine: a.oneLine, city: a.city, state: a.state, zipCode: a.zip },
      price: { amount: this.rng.int(150, 1500) * 1000, currency: "USD" },
      mlsNum: `MLS${this.rng.int(100000, 999999)}`,
      createdAt: created,
      updatedAt: created,
    };
    this.listings.set(l.id, l);
    return l;
  }

  addDownline(tier: number): NetworkAgent {
    const sponsors = [...this.downline.values()].filter((a) => a.tier === tier - 1);
    const created = this.tick();
    const a: NetworkAgent = {
      id: this.rng.uuid(),
      ...this.person(),
      status: "ACTIVE",
      sponsorId: tier === 1 || sponsors.length === 0 ? this.agent.id : this.rng.pick(sponsors).id,
      tier,
      createdAt: created,
      updatedAt: created,
    };
    this.downline.set(a.id, a);
    return a;
  }

  /** An agent who leaves the network disappears from the downline lists (no delete signal). */
  removeDownline(id: string): void {
    this.downline.delete(id);
  }

  deactivateDownline(id: string): NetworkAgent {
    const a = this.downline.get(id);
    if (!a) throw new Error(`no downline agent ${id}`);
    a.status = "INACTIVE";
    a.updatedAt = this.tick();
    return a;
  }

  addContribution(): Contribution {
    const contributors = [...this.downline.values()];
    const from = contributors.length > 0 ? this.rng.pick(contributors) : null;
    const created = this.tick();
    const c: Contribution = {
      id: this.rng.uuid(),
      tier: from?.tier ?? 1,
      contributorYentaId: from?.id ?? this.agent.id,
      transactionId: this.rng.uuid(),
      amount: { amount: this.rng.int(50, 4000) + this.rng.int(0, 99) / 100, currency: "USD" },
      contributedAt: created,
      createdAt: created,
    };
    this.contributions.set(c.id, c);
    return c;
  }

  addTeam(): Team {
    const created = this.tick();
    const members = [
      { agentId: this.agent.id, roles: ["LEADER"] },
      ...[...this.downline.values()]
        .slice(0, this.rng.int(1, 4))
        .map((a) => ({ agentId: a.id, roles: ["MEMBER"] })),
    ];
    const t: Team = {
      id: this.rng.uuid(),
      name: `Team ${this.rng.pick(LAST)} ${this.teams.size + 1}`,
      status: "ACTIVE",
      members,
      createdAt: created,
      updatedAt: created,
    };
    this.teams.set(t.id, t);
    return t;
  }

  inGroup(group: string): Transaction[] {
    return [...this.transactions.values()].filter((t) => t.group === group);
  }

  listingsIn(group: string): Listing[] {
    const all = [...this.listings.values()];
    if (group === "LISTING_ACTIVE") return all.filter((l) => l.state === "LISTING_ACTIVE");
    if (group === "LISTING_NONTERMINATED") return all.filter((l) => l.state !== "LISTING_TERMINATED");
    return [];
  }

  networkSize(tier: number): number {
    return [...this.downline.values()].filter((a) => a.tier === tier).length;
  }
}

// ---- wire shapes -------------------------------------------------------------------------------------------

export function agentWire(a: Agent) {
  return { ...a };
}

export function transactionWire(t: Transaction) {
  const { group: _group, state, ...rest } = t;
  return { ...rest, lifecycleState: { state } };
}

/** List items are partial: no participants, no money but the price, no dates; the detail has the rest. */
export function transactionItemWire(t: Transaction) {
  return {
    id: t.id,
    code: t.code,
    lifecycleState: { state: t.state },
    address: { oneLine: t.address.oneLine },
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export function listingWire(l: Listing) {
  const { state, ...rest } = l;
  return { ...rest, lifecycleState: { state } };
}

export function contributionWire(c: Contribution) {
  return { ...c };
}

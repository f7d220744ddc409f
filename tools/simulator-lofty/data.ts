// Seeded data shaped like the published lead example (developer docs) and the observed list envelopes.
import { int } from "./json";

export const TWO_POW_53 = 9007199254740992n;

export type Lead = {
  leadId: bigint;
  leadUserId: bigint;
  firstName: string;
  lastName: string;
  emails: string[];
  phones: string[];
  leadSource: number;
  source: string;
  stageId: number;
  stage: string;
  assignedUserId: bigint;
  assignedUser: string;
  score: number;
  tags: { tagId: number; tagName: string }[];
  streetAddress: string;
  city: string;
  state: string;
  zipCode: string;
  leadTypes: number[];
  createMs: number;
  updateMs: number;
  /** -1 when never touched (Lofty's "unset"). */
  lastTouchMs: number;
  trashed: boolean;
  trashedReason?: string;
};
export type Member = {
  id: bigint;
  firstName: string;
  lastName: string;
  email: string;
  role: string;
  status: string;
};
export type Note = {
  id: number;
  leadId: bigint;
  content: string;
  creatorId: bigint;
  createMs: number;
  updateMs: number;
};
export type Call = {
  id: number;
  leadId: bigint;
  userId: bigint;
  direction: string;
  duration: number;
  outcome: string;
  createMs: number;
};
export type Activity = { id: number; leadId: bigint; type: string; content: string; createdMs: number };
export type Transaction = {
  id: number;
  leadId: bigint;
  transactionName: string;
  address: string;
  status: string;
  transactionType: string;
  price: number;
  closeMs: number;
  createMs: number;
  updateMs: number;
};

/** A small seeded PRNG (mulberry32), so a seed names one data set. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Ava", "Liam", "Mia", "Noah", "Zoe", "Eli", "Ivy", "Owen", "Ruby", "Jack", "Lena", "Theo"];
const LAST = ["Nguyen", "Smith", "Garcia", "Okafor", "Kowalski", "Haddad", "Ito", "Brown", "Silva", "Novak"];
const SOURCES = ["Zillow", "Realtor.com", "Website", "Open House", "Referral"];
const STAGES: [number, string][] = [
  [1001, "New"],
  [1002, "Contacted"],
  [1003, "Qualified"],
  [1004, "Nurture"],
];
const CITIES: [string, string, string][] = [
  ["Austin", "TX", "78701"],
  ["Denver", "CO", "80202"],
  ["Tampa", "FL", "33602"],
];

/** Lofty's lead-level time format: `2026-05-25T00:00:00GMT`. */
export const gmt = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}GMT`;
/** Notes and calls: `yyyy-MM-dd HH:mm:ss`, UTC. */
export const plain = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
/** Whole seconds: every format Lofty writes has second precision. */
export const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/** A v2 task: Lofty publishes the endpoint, not the shape; ours has what a task list shows, epoch-ms times. */
export type Task = {
  id: number;
  leadId: bigint;
  assignedUserId: bigint;
  title: string;
  type: string;
  dueMs: number;
  finished: boolean;
  createMs: number;
  updateMs: number;
};

export type Counts = { leads: number; members: number; notesPerLead: number; transactions: number };
export const DEFAULT_COUNTS: Counts = { leads: 60, members: 30, notesPerLead: 1, transactions: 8 };

export class Store {
  members: Member[] = [];
  leads = new Map<string, Lead>();
  notes: Note[] = [];
  calls: Call[] = [];
  activities: Activity[] = [];
  transactions: Transaction[] = [];
  tasks: Task[] = [];
  private nextLeadId: bigint;
  private nextSmall = 700_000_000_000_001;
  readonly random: () => number;
  readonly teamId = 8_800_001;

  constructor(seed: number, counts: Counts, now: number) {
    this.random = rng(seed);
    // The first few lead ids lie below 2^53, the rest at and above it: a client that reads ids as doubles
    // merges neighbours and rounds them, as the docs warn.
    this.nextLeadId = TWO_POW_53 - 3n;
    for (let i = 0; i < counts.members; i++) {
      this.members.push({
        id: 563172647619000n + BigInt(i),
        firstName: this.pick(FIRST),
        lastName: this.pick(LAST),
        email: `agent${i}@team.example`,
        role: i === 0 ? "Owner" : "Agent",
        status: "Active",
      });
    }
    const start = seconds(now - counts.leads * 3_600_000);
    for (let i = 0; i < counts.leads; i++) {
      const lead = this.newLead(start + i * 3_600_000);
      for (let n = 0; n < counts.notesPerLead; n++) this.addNote(lead, lead.createMs + 60_000);
      if (i % 3 === 0) this.addCall(lead, lead.createMs + 120_000);
      if (i % 2 === 0) this.addActivity(lead, lead.createMs + 180_000);
    }
    const leadList = [...this.leads.values()];
    for (let i = 0; i < counts.transactions && leadList.length > 0; i++) {
      const lead = leadList[(i * 7) % leadList.length] as Lead;
      const createMs = lead.createMs + 86_400_000;
      this.transactions.push({
        id: this.small(),
        leadId: lead.leadId,
        transactionName: `${lead.lastName} purchase`,
        address: `${100 + i} Main St, ${lead.city}, ${lead.state} ${lead.zipCode}`,
        status: i % 3 === 0 ? "Closed" : "Active",
        transactionType: i % 2 === 0 ? "Buyer" : "Seller",
        price: 350_000 + i * 12_500,
        closeMs: i % 3 === 0 ? createMs + 30 * 86_400_000 : -1,
        createMs,
        updateMs: createMs,
      });
    }
    // After everything drawn from the seed, and from no draw of their own: a seed still names the same leads.
    leadList.forEach((lead, i) => {
      if (i % 4 === 0) this.addTask(lead, lead.createMs + 240_000);
    });
  }

  addTask(lead: Lead, at: number): Task {
    const task = {
      id: this.small(),
      leadId: lead.leadId,
      assignedUserId: lead.assignedUserId,
      title: `Call ${lead.firstName} back`,
      type: "Call",
      dueMs: seconds(at) + 2 * 86_400_000,
      finished: false,
      createMs: seconds(at),
      updateMs: seconds(at),
    };
    this.tasks.push(task);
    return task;
  }

  pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  small(): number {
    return this.nextSmall++;
  }

  newLead(createMs: number): Lead {
    const id = this.nextLeadId;
    this.nextLeadId += 1n + BigInt(Math.floor(this.random() * 3));
    const [stageId, stage] = this.pick(STAGES);
    const [city, state, zip] = this.pick(CITIES);
    const agent = this.pick(this.members);
    const first = this.pick(FIRST);
    const last = this.pick(LAST);
    const lead: Lead = {
      leadId: id,
      leadUserId: id + 1_000n,
      firstName: first,
      lastName: last,
      emails: [`${first.toLowerCase()}.${id}@mail.example`],
      phones: [`512555${String(id % 10000n).padStart(4, "0")}`],
      leadSource: 7,
      source: this.pick(SOURCES),
      stageId,
      stage,
      assignedUserId: agent.id,
      assignedUser: `${agent.firstName} ${agent.lastName}`,
      score: Math.floor(this.random() * 100),
      tags: this.random() < 0.5 ? [{ tagId: 301, tagName: "Hot" }] : [],
      streetAddress: `${Math.floor(this.random() * 900) + 100} Oak Ave`,
      city,
      state,
      zipCode: zip,
      leadTypes: [this.random() < 0.5 ? 2 : 1],
      createMs: seconds(createMs),
      updateMs: seconds(createMs),
      lastTouchMs: this.random() < 0.3 ? -1 : seconds(createMs),
      trashed: false,
    };
    this.leads.set(String(id), lead);
    return lead;
  }

  addNote(lead: Lead, at: number): Note {
    const note = {
      id: this.small(),
      leadId: lead.leadId,
      content: `Spoke with ${lead.firstName}`,
      creatorId: lead.assignedUserId,
      createMs: seconds(at),
      updateMs: seconds(at),
    };
    this.notes.push(note);
    return note;
  }

  addCall(lead: Lead, at: number): Call {
    const call = {
      id: this.small(),
      leadId: lead.leadId,
      userId: lead.assignedUserId,
      direction: this.random() < 0.5 ? "Outbound" : "Inbound",
      duration: Math.floor(this.random() * 600),
      outcome: "Connected",
      createMs: seconds(at),
    };
    this.calls.push(call);
    return call;
  }

  addActivity(lead: Lead, at: number): Activity {
    const activity = {
      id: this.small(),
      leadId: lead.leadId,
      type: "Property Viewed",
      content: `Viewed ${lead.streetAddress}`,
      createdMs: at,
    };
    this.activities.push(activity);
    return activity;
  }

  /** Live leads newest first (Lofty's only order): by creation time, then id. */
  liveLeads(): Lead[] {
    return [...this.leads.values()]
      .filter((l) => !l.trashed)
      .sort((a, b) => b.createMs - a.createMs || (b.leadId > a.leadId ? 1 : b.leadId < a.leadId ? -1 : 0));
  }
}

// ---- wire shapes -----------------------------------------------------------------------------------------

/** A lead as the docs' example writes it: times in GMT form, ids as bare integers, -1 for unset. */
export function leadWire(l: Lead, teamId: number) {
  return {
    leadId: int(l.leadId),
    leadUserId: int(l.leadUserId),
    firstName: l.firstName,
    lastName: l.lastName,
    birthday: "",
    emails: l.emails,
    phones: l.phones,
    leadSource: l.leadSource,
    source: l.source,
    stageId: l.stageId,
    stage: l.stage,
    assignedUserId: int(l.assignedUserId),
    assignedUser: l.assignedUser,
    lenderUserId: -1,
    score: l.score,
    tags: l.tags.map((t) => ({
      leadId: int(l.leadId),
      tagId: t.tagId,
      createTime: gmt(l.createMs),
      updateTime: gmt(l.createMs),
      tagName: t.tagName,
      creatorUserId: int(l.assignedUserId),
      visibleType: 0,
    })),
    teamId,
    streetAddress: l.streetAddress,
    city: l.city,
    state: l.state,
    zipCode: l.zipCode,
    createTime: gmt(l.createMs),
    assignTime: gmt(l.createMs),
    lastUpdateTime: gmt(l.updateMs),
    lastTouch: l.lastTouchMs === -1 ? -1 : gmt(l.lastTouchMs),
    lastVisit: -1,
    facebook: "",
    twitter: "",
    hiddenFlag: false,
    referredBy: "",
    cannotText: false,
    cannotCall: false,
    cannotEmail: false,
    leadTypes: l.leadTypes,
    leadInquiry: {
      priceMin: 300000,
      priceMax: 500000,
      locations: [l.city],
      createTime: `${new Date(l.createMs).toISOString().slice(0, 19)}Z`,
    },
    leadPropertyList: [],
    leadFamilyMemberList: [],
    customAttributes: [],
    customRoleList: [],
    pondId: -1,
    pondName: "",
    segments: [],
  };
}

export const memberWire = (m: Member) => ({
  id: int(m.id),
  firstName: m.firstName,
  lastName: m.lastName,
  email: m.email,
  role: m.role,
  status: m.status,
});

export const noteWire = (n: Note) => ({
  id: n.id,
  leadId: int(n.leadId),
  content: n.content,
  creatorId: int(n.creatorId),
  createTime: plain(n.createMs),
  updateTime: plain(n.updateMs),
});

export const callWire = (c: Call) => ({
  id: c.id,
  leadId: int(c.leadId),
  userId: int(c.userId),
  direction: c.direction,
  duration: c.duration,
  outcome: c.outcome,
  createTime: plain(c.createMs),
});

/** Activities carry no lead id: the path names the lead. `created` is epoch milliseconds. */
export const activityWire = (a: Activity) => ({
  id: a.id,
  type: a.type,
  content: a.content,
  created: a.createdMs,
});

export const transactionWire = (t: Transaction) => ({
  id: t.id,
  leadId: int(t.leadId),
  transactionName: t.transactionName,
  address: t.address,
  status: t.status,
  transactionType: t.transactionType,
  price: t.price,
  closeTime: t.closeMs,
  createTime: t.createMs,
  updateTime: t.updateMs,
});

/** A v2 task: epoch-millisecond times, `-1` for no due time. */
export const taskWire = (t: Task) => ({
  id: t.id,
  leadId: int(t.leadId),
  assignedUserId: int(t.assignedUserId),
  title: t.title,
  type: t.type,
  dueTime: t.dueMs,
  finished: t.finished,
  createTime: t.createMs,
  updateTime: t.updateMs,
});

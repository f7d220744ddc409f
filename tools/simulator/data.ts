// Lazy, seeded record generation. Record i of an entity is a pure function of
// (seed, entity, i): nothing is materialized, so a tenant with millions of people
// costs no memory and any page is generated on demand.
//
// Base records have ids i + 1, and both `created` and `updated` are
// non-decreasing in id. That makes every supported sort order (id, created,
// updated; ties broken by id) of the base set the id order, so filters and
// keyset cursors reduce to binary searches over the index range.

import { hash, pick } from "./prng";

export const ENTITIES = [
  "people",
  "deals",
  "events",
  "calls",
  "textMessages",
  "appointments",
  "users",
  "groups",
  "stages",
] as const;
export type EntityName = (typeof ENTITIES)[number];
export type Rec = Record<string, unknown>;

export function isEntity(name: string): name is EntityName {
  return (ENTITIES as readonly string[]).includes(name);
}

export function entityCode(entity: EntityName): number {
  return ENTITIES.indexOf(entity) + 1;
}

export const DEFAULT_COUNTS: Record<EntityName, number> = {
  people: 1000,
  deals: 100,
  events: 2000,
  calls: 500,
  textMessages: 500,
  appointments: 100,
  users: 25,
  groups: 5,
  stages: 12,
};

/**
 * Names of an entity's timestamp fields. FUB's published records use `created` / `updated`, deals
 * `createdAt` / `updatedAt`; stages and groups carry no timestamps at all.
 */
export const TIMESTAMPS: Record<EntityName, { created: string; updated: string } | null> = {
  people: { created: "created", updated: "updated" },
  deals: { created: "createdAt", updated: "updatedAt" },
  events: { created: "created", updated: "updated" },
  calls: { created: "created", updated: "updated" },
  textMessages: { created: "created", updated: "updated" },
  appointments: { created: "created", updated: "updated" },
  users: { created: "created", updated: "updated" },
  groups: null,
  stages: null,
};

/** Entities FUB deletes, without webhooks, together with their person. */
export const PERSON_CHILDREN = ["calls", "textMessages", "events"] as const;
export type PersonChild = (typeof PERSON_CHILDREN)[number];

export function isPersonChild(entity: EntityName): entity is PersonChild {
  return (PERSON_CHILDREN as readonly string[]).includes(entity);
}

/** Base data ends at this instant; mutations stamp the sim clock, which is later. */
export const TIMELINE_END_SEC = Date.UTC(2025, 0, 1) / 1000;
const SPAN_SEC = 4 * 365 * 86_400;
/** Records are laid out in blocks; at least every third block is one same-second burst. */
export const BLOCK = 128;

const P2: string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));

/** `YYYY-MM-DDTHH:MM:SSZ` for epoch seconds (years 1000-9999); ~10x faster than Date#toISOString. */
export function isoSec(sec: number): string {
  const s = Math.floor(sec);
  const days = Math.floor(s / 86_400);
  let rem = s - days * 86_400;
  const hh = Math.floor(rem / 3600);
  rem -= hh * 3600;
  const mi = Math.floor(rem / 60);
  const ss = rem - mi * 60;
  // civil_from_days (H. Hinnant)
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${P2[m]}-${P2[d]}T${P2[hh]}:${P2[mi]}:${P2[ss]}Z`;
}

export function isoDate(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 10);
}

/**
 * Monotone timestamps for the base records of one entity. Block b of BLOCK
 * records starts at t0 + b * step. A "burst" block (every third block, plus about
 * a quarter of the others) gives all its records the same second, like a bulk
 * import; other blocks spread their records over up to half a step, still with
 * many duplicates when the spread is shorter than the block.
 */
export class Timeline {
  readonly t0: number;
  readonly step: number;

  constructor(
    readonly seed: number,
    readonly code: number,
    count: number,
  ) {
    const blocks = Math.max(1, Math.ceil(count / BLOCK));
    this.step = Math.max(240, Math.floor(SPAN_SEC / blocks));
    this.t0 = TIMELINE_END_SEC - this.step * blocks;
  }

  updatedSec(i: number): number {
    const b = Math.floor(i / BLOCK);
    const j = i - b * BLOCK;
    const start = this.t0 + b * this.step;
    const h = hash(this.seed, this.code, b, 7);
    if (b % 3 === 0 || (h & 3) === 0) return start;
    const spread = 1 + ((h >>> 2) % Math.floor(this.step / 2));
    return start + Math.floor((j * spread) / BLOCK);
  }

  createdSec(i: number): number {
    const u = this.updatedSec(i);
    return u - Math.floor((u - this.t0) / 8);
  }
}

const COPRIMES = [1_000_003, 999_983, 1_000_033, 999_979] as const;

function coprimeTo(n: number): number {
  for (const p of COPRIMES) if (n % p !== 0) return p;
  return 1;
}

function modInverse(a: number, m: number): bigint {
  const M = BigInt(m);
  let [r0, r1] = [BigInt(a) % M, M];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % M) + M) % M;
}

/**
 * The person of each base record of a child entity (calls, texts, events), chosen so that a
 * person's children can be enumerated without materializing anything: child index i belongs to
 * slot m = ((i mod Q) * A + B) mod Q, and slot m to person 1 + ((m * C + D) mod P), both affine
 * bijections. So only Q = ceil(P / 3) people have children, a person's children are the indices
 * i0, i0 + Q, i0 + 2Q, ..., and a listing by person is a binary search on that progression.
 */
export class PersonLinks {
  readonly q: number;
  private readonly a: number;
  private readonly b: number;
  private readonly c: number;
  private readonly d: number;

  constructor(
    seed: number,
    code: number,
    readonly people: number,
  ) {
    this.q = Math.max(1, Math.ceil(people / 3));
    this.a = coprimeTo(this.q);
    this.c = coprimeTo(Math.max(1, people));
    this.b = hash(seed, 0x11c, code) % this.q;
    // The same people (the active third) have calls, texts and events; the order of each entity differs.
    this.d = people > 0 ? hash(seed, 0x11d) % people : 0;
  }

  personOf(i: number): number | null {
    if (this.people === 0) return null;
    const m = ((((i % this.q) * this.a) % this.q) + this.b) % this.q;
    return 1 + ((((m * (this.c % this.people)) % this.people) + this.d) % this.people);
  }

  /** First base index whose person is personId (then every q-th index), or null if the person has none. */
  firstIndexOf(personId: number): number | null {
    const P = this.people;
    if (!Number.isInteger(personId) || personId < 1 || personId > P) return null;
    const Q = this.q;
    const m = Number(
      ((((BigInt(personId - 1 - this.d) % BigInt(P)) + BigInt(P)) % BigInt(P)) * modInverse(this.c, P)) %
        BigInt(P),
    );
    if (m >= Q) return null;
    if (Q === 1) return 0;
    return Number(
      ((((BigInt(m - this.b) % BigInt(Q)) + BigInt(Q)) % BigInt(Q)) * modInverse(this.a, Q)) % BigInt(Q),
    );
  }
}

// ---------------------------------------------------------------------------
// Vocabulary

const FIRST = [
  "James",
  "Mary",
  "Robert",
  "Patricia",
  "John",
  "Jennifer",
  "Michael",
  "Linda",
  "David",
  "Elizabeth",
  "William",
  "Barbara",
  "Richard",
  "Susan",
  "Joseph",
  "Jessica",
  "Thomas",
  "Sarah",
  "Carlos",
  "Karen",
  "Daniel",
  "Lisa",
  "Matthew",
  "Nancy",
  "Anthony",
  "Sandra",
  "Mark",
  "Ashley",
  "Wei",
  "Priya",
  "Andrew",
  "Emily",
  "Joshua",
  "Michelle",
  "Kevin",
  "Amanda",
  "Brian",
  "Melissa",
  "Omar",
  "Sofia",
] as const;
const LAST = [
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Jones",
  "Garcia",
  "Miller",
  "Davis",
  "Rodriguez",
  "Martinez",
  "Hernandez",
  "Lopez",
  "Gonzalez",
  "Wilson",
  "Anderson",
  "Thomas",
  "Taylor",
  "Moore",
  "Jackson",
  "Martin",
  "Lee",
  "Perez",
  "Thompson",
  "White",
  "Harris",
  "Sanchez",
  "Clark",
  "Ramirez",
  "Lewis",
  "Robinson",
  "Walker",
  "Young",
  "Allen",
  "King",
  "Wright",
  "Scott",
  "Torres",
  "Nguyen",
  "Hill",
  "O'Brien",
] as const;
export const STAGE_NAMES = [
  "Lead",
  "Attempted Contact",
  "Contacted",
  "Appointment Set",
  "Active Client",
  "Under Contract",
  "Closed",
  "Past Client",
  "Sphere",
  "Nurture",
  "Unresponsive",
  "Trash",
] as const;
/** stageId of "Trash": trashed people carry it. */
export const TRASH_STAGE_ID = STAGE_NAMES.length;
const SOURCES = [
  "Zillow",
  "Realtor.com",
  "Website",
  "Referral",
  "Open House",
  "Facebook",
  "Google",
  "Sign Call",
] as const;
const TAGS = [
  "Buyer",
  "Seller",
  "Investor",
  "First Time Buyer",
  "Luxury",
  "Relocation",
  "VIP",
  "Cold",
] as const;
const CITIES = [
  ["Austin", "TX", "787"],
  ["Denver", "CO", "802"],
  ["Phoenix", "AZ", "850"],
  ["Tampa", "FL", "336"],
  ["Raleigh", "NC", "276"],
  ["Boise", "ID", "837"],
  ["Nashville", "TN", "372"],
  ["Portland", "OR", "972"],
] as const;
const STREETS = [
  "Oak",
  "Maple",
  "Cedar",
  "Pine",
  "Elm",
  "Lakeview",
  "Sunset",
  "Ridge",
  "Main",
  "Park",
] as const;
const STREET_KINDS = ["St", "Ave", "Dr", "Ln", "Ct", "Blvd"] as const;
const EVENT_TYPES = [
  "Registration",
  "Inquiry",
  "Property Inquiry",
  "Seller Inquiry",
  "Viewed Property",
  "Saved Property",
  "Visited Website",
] as const;
const CALL_OUTCOMES = [
  "Interested",
  "Not Interested",
  "Left Message",
  "No Answer",
  "Busy",
  "Bad Number",
] as const;
const TEXTS = [
  "Hi! Are you still looking for a home in the area?",
  "Thanks for reaching out, when is a good time to talk?",
  "I have a few new listings you might like.",
  "Yes, Saturday works for the showing.",
  "Can you send me the disclosures?",
  "We'd like to make an offer.",
] as const;
const APPOINTMENT_TITLES = [
  "Showing",
  "Listing Appointment",
  "Buyer Consultation",
  "Closing",
  "Inspection",
] as const;

// ---------------------------------------------------------------------------
// Shared derivations (stable across updates, so links stay consistent)

export interface GenContext {
  seed: number;
  /** Base counts per entity: link targets are drawn from the base ranges. */
  counts: Record<EntityName, number>;
  timelines: Record<EntityName, Timeline>;
  /** The person of each base child record (calls, texts, events). */
  links: Record<PersonChild, PersonLinks>;
}

/** Primary phone of a person (base or created: a pure function of the id). */
export function personPhone(seed: number, personId: number): string {
  return phone(hash(seed, 13, personId));
}

export function personName(seed: number, id: number): { firstName: string; lastName: string; name: string } {
  const firstName = pick(FIRST, hash(seed, 101, id));
  const lastName = pick(LAST, hash(seed, 102, id));
  return { firstName, lastName, name: `${firstName} ${lastName}` };
}

export function userName(seed: number, id: number): { firstName: string; lastName: string; name: string } {
  const firstName = pick(FIRST, hash(seed, 201, id));
  const lastName = pick(LAST, hash(seed, 202, id));
  return { firstName, lastName, name: `${firstName} ${lastName}` };
}

export function userRole(id: number): string {
  if (id === 1) return "Owner";
  if (id % 7 === 0) return "Lender";
  if (id % 5 === 0) return "Broker";
  return "Agent";
}

export function stageName(stageId: number): string {
  const base = STAGE_NAMES[(stageId - 1) % STAGE_NAMES.length] as string;
  const round = Math.floor((stageId - 1) / STAGE_NAMES.length);
  return round === 0 ? base : `${base} ${round + 1}`;
}

function link(ctx: GenContext, target: EntityName, h: number): number | null {
  const n = ctx.counts[target];
  return n > 0 ? 1 + (h % n) : null;
}

function phone(h: number): string {
  const area = 200 + (h % 800);
  const mid = 200 + ((h >>> 10) % 800);
  const last = (h >>> 3) % 10_000;
  return `(${area}) ${mid}-${String(last).padStart(4, "0")}`;
}

function address(seed: number, salt: number, id: number): Rec {
  const h = hash(seed, salt, id);
  const city = pick(CITIES, h >>> 5);
  return {
    type: "home",
    street: `${1 + (h % 9899)} ${pick(STREETS, h >>> 8)} ${pick(STREET_KINDS, h >>> 12)}`,
    city: city[0],
    state: city[1],
    code: `${city[2]}${String((h >>> 16) % 100).padStart(2, "0")}`,
    country: "United States",
  };
}

// ---------------------------------------------------------------------------
// Generators: record for base index i (id i + 1); created/updated from the timeline.

type Gen = (
  ctx: GenContext,
  id: number,
  createdSec: number,
  updatedSec: number,
  personId?: number | null,
) => Rec;

function stamps(entity: EntityName, createdSec: number, updatedSec: number): Rec {
  const ts = TIMESTAMPS[entity];
  return ts ? { [ts.created]: isoSec(createdSec), [ts.updated]: isoSec(updatedSec) } : {};
}

/** The person of a child record: given for created records, derived from the index for base ones. */
function childPerson(
  ctx: GenContext,
  entity: PersonChild,
  id: number,
  personId?: number | null,
): number | null {
  return personId !== undefined ? personId : ctx.links[entity].personOf(id - 1);
}

const genPerson: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 1, id);
  const n = personName(s, id);
  const stageId = 1 + (h % (STAGE_NAMES.length - 1)); // never Trash for a fresh record
  const assignedUserId = link(ctx, "users", hash(s, 11, id));
  const lenderCount = Math.floor(ctx.counts.users / 7);
  const tagCount = (h >>> 4) % 3;
  const tags: string[] = [];
  for (let t = 0; t < tagCount; t++) {
    const tag = pick(TAGS, hash(s, 12, id, t));
    if (!tags.includes(tag)) tags.push(tag);
  }
  const source = pick(SOURCES, h >>> 8);
  const emailUser = `${n.firstName}.${n.lastName.replace("'", "")}`.toLowerCase();
  const emails = [{ value: `${emailUser}${id}@example.com`, type: "home", isPrimary: 1 }];
  if ((h >>> 12) % 4 === 0)
    emails.push({ value: `${emailUser}.work${id}@example.org`, type: "work", isPrimary: 0 });
  const phones = [{ value: personPhone(s, id), type: "mobile", isPrimary: 1 }];
  const lastActivity = c + Math.floor(((u - c) * ((h >>> 14) % 100)) / 100);
  return {
    id,
    ...stamps("people", c, u),
    createdVia: pick(["API", "Import", "Manually", "Zapier"], h >>> 18),
    lastActivity: isoSec(lastActivity),
    name: n.name,
    firstName: n.firstName,
    lastName: n.lastName,
    stage: stageName(stageId),
    stageId,
    source,
    sourceUrl: source === "Website" ? `https://www.example-realty.com/listing/${id}` : null,
    contacted: (h >>> 20) % 2,
    price: 100_000 + ((h >>> 6) % 2000) * 500,
    assignedLenderId:
      lenderCount > 0 && (h >>> 22) % 3 === 0 ? 7 * (1 + (hash(s, 14, id) % lenderCount)) : null,
    assignedUserId,
    assignedTo: assignedUserId === null ? null : userName(s, assignedUserId).name,
    tags,
    emails,
    phones,
    addresses: (h >>> 24) % 2 === 0 ? [address(s, 15, id)] : [],
    collaborators:
      assignedUserId === null
        ? []
        : [
            {
              id: assignedUserId,
              name: userName(s, assignedUserId).name,
              assigned: true,
              role: userRole(assignedUserId),
            },
          ],
    customBirthday: `19${50 + ((h >>> 3) % 50)}-${String(1 + ((h >>> 9) % 12)).padStart(2, "0")}-${String(1 + ((h >>> 13) % 28)).padStart(2, "0")}`,
    customLeadScore: (h >>> 5) % 101,
    customPropertyType: pick(["Single Family", "Condo", "Townhouse", "Multi-Family", "Land"], h >>> 17),
  };
};

export const DEAL_PIPELINES = ["Buyers", "Sellers", "Referrals"] as const;
export const DEAL_STAGES = ["Lead", "Showing", "Offer", "Under Contract", "Pending", "Closed"] as const;

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Stage-dependent deal fields: name, money, and a close date only once the deal is closed. */
export function dealStageFields(rec: Rec, stageId: number, price: number, enteredStageSec: number): Rec {
  const out: Rec = { ...rec };
  out.stageId = stageId;
  out.stageName = DEAL_STAGES[(stageId - 1) % DEAL_STAGES.length] as string;
  out.enteredStageAt = isoSec(enteredStageSec);
  out.price = price;
  const commissionValue = cents(price * 0.03);
  out.commissionValue = commissionValue;
  out.agentCommission = cents(commissionValue * 0.7);
  out.teamCommission = cents(commissionValue - cents(commissionValue * 0.7));
  if (out.stageName === "Closed") out.closeDate = isoDate(enteredStageSec);
  else delete out.closeDate;
  return out;
}

const genDeal: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 2, id);
  const pid = link(ctx, "people", hash(s, 21, id));
  const uid = link(ctx, "users", hash(s, 22, id));
  const addr = address(s, 23, id);
  const pipelineId = 1 + ((h >>> 4) % DEAL_PIPELINES.length);
  const base: Rec = {
    id,
    ...stamps("deals", c, u),
    name: `${addr.street as string}, ${addr.city as string}`,
    status: "Active",
    pipelineId,
    pipelineName: DEAL_PIPELINES[pipelineId - 1],
    projectedCloseDate: isoDate(u + 86_400 * (10 + ((h >>> 12) % 80))),
    people: pid === null ? [] : [{ id: pid, name: personName(s, pid).name }],
    users: uid === null ? [] : [{ id: uid, name: userName(s, uid).name }],
    description: null,
    customClosingAttorney: pick(["Smith & Lee LLP", "Title One", "Harbor Closings"], h >>> 20),
  };
  return dealStageFields(
    base,
    1 + (h % DEAL_STAGES.length),
    150_000 + ((h >>> 8) % 3000) * 500,
    c + Math.floor((u - c) / 2),
  );
};

const genEvent: Gen = (ctx, id, c, u, personId) => {
  const s = ctx.seed;
  const h = hash(s, 3, id);
  const addr = address(s, 31, id);
  const type = pick(EVENT_TYPES, h);
  return {
    id,
    ...stamps("events", c, u),
    personId: childPerson(ctx, "events", id, personId),
    type,
    message: type === "Inquiry" ? "I'd like more information about this property." : null,
    description: `${type} via ${pick(SOURCES, h >>> 4)}`,
    source: pick(SOURCES, h >>> 4),
    occurred: isoSec(c),
    property: {
      street: addr.street,
      city: addr.city,
      state: addr.state,
      code: addr.code,
      mlsNumber: `MLS${100000 + ((h >>> 8) % 900000)}`,
      price: 200_000 + ((h >>> 10) % 2000) * 1000,
      forRent: false,
      url: `https://www.example-realty.com/mls/${id}`,
      type: pick(["Single Family", "Condo", "Townhouse"], h >>> 20),
      bedrooms: 1 + ((h >>> 22) % 5),
      bathrooms: 1 + ((h >>> 25) % 3),
      area: 800 + ((h >>> 12) % 3000),
    },
  };
};

/** The agency's own number: one side of every call and text. */
export const AGENCY_NUMBER = "(555) 010-0000";

/** A call's or text's direction and the person's side of it (the person's primary phone). */
export function contactNumbers(
  seed: number,
  salt: number,
  id: number,
  personId: number | null,
): { isIncoming: boolean; phone: string; fromNumber: string; toNumber: string } {
  const h = hash(seed, salt, id);
  const isIncoming = h % 2 === 0;
  const ph = personId === null ? phone(hash(seed, salt + 1, id)) : personPhone(seed, personId);
  return {
    isIncoming,
    phone: ph,
    fromNumber: isIncoming ? ph : AGENCY_NUMBER,
    toNumber: isIncoming ? AGENCY_NUMBER : ph,
  };
}

const genCall: Gen = (ctx, id, c, u, personId) => {
  const s = ctx.seed;
  const h = hash(s, 4, id);
  const pid = childPerson(ctx, "calls", id, personId);
  const n = contactNumbers(s, 44, id, pid);
  return {
    id,
    ...stamps("calls", c, u),
    personId: pid,
    userId: link(ctx, "users", hash(s, 43, id)),
    duration: (h >>> 4) % 1800,
    outcome: pick(CALL_OUTCOMES, h >>> 12),
    isIncoming: n.isIncoming,
    phone: n.phone,
    toNumber: n.toNumber,
    fromNumber: n.fromNumber,
    note: null,
    recordingUrl: null,
  };
};

/** Salt of a text's direction hash: the toNumber / fromNumber filters recompute it per base index. */
export const TEXT_NUMBER_SALT = 54;

const genText: Gen = (ctx, id, c, u, personId) => {
  const s = ctx.seed;
  const h = hash(s, 5, id);
  const pid = childPerson(ctx, "textMessages", id, personId);
  const n = contactNumbers(s, TEXT_NUMBER_SALT, id, pid);
  return {
    id,
    ...stamps("textMessages", c, u),
    personId: pid,
    userId: link(ctx, "users", hash(s, 53, id)),
    message: pick(TEXTS, h >>> 4),
    isIncoming: n.isIncoming,
    fromNumber: n.fromNumber,
    toNumber: n.toNumber,
    status: "Delivered",
  };
};

const genAppointment: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 6, id);
  const start = c + 86_400 * (1 + (h % 30)) + 3600 * ((h >>> 6) % 9);
  const pid = link(ctx, "people", hash(s, 61, id));
  const uid = link(ctx, "users", hash(s, 62, id));
  const invitees: Rec[] = [];
  if (pid !== null) invitees.push({ personId: pid, name: personName(s, pid).name });
  if (uid !== null) invitees.push({ userId: uid, name: userName(s, uid).name });
  const addr = address(s, 63, id);
  return {
    id,
    ...stamps("appointments", c, u),
    title: pick(APPOINTMENT_TITLES, h >>> 10),
    description: null,
    start: isoSec(start),
    end: isoSec(start + 1800 * (1 + ((h >>> 14) % 4))),
    allDay: false,
    location: `${addr.street as string}, ${addr.city as string}, ${addr.state as string}`,
    invitees,
  };
};

const genUser: Gen = (ctx, id, c, u) => {
  const n = userName(ctx.seed, id);
  const h = hash(ctx.seed, 7, id);
  return {
    id,
    ...stamps("users", c, u),
    name: n.name,
    firstName: n.firstName,
    lastName: n.lastName,
    email: `${n.firstName}.${n.lastName}${id}@example-realty.com`.toLowerCase().replace(/'/g, ""),
    phone: phone(h),
    role: userRole(id),
    status: h % 10 === 0 ? "Inactive" : "Active",
    timezone: "America/Chicago",
  };
};

const genGroup: Gen = (ctx, id) => {
  const s = ctx.seed;
  const users: Rec[] = [];
  const size = 1 + (hash(s, 8, id) % 5);
  for (let k = 0; k < size; k++) {
    const uid = link(ctx, "users", hash(s, 81, id, k));
    if (uid !== null && !users.some((x) => x.id === uid))
      users.push({ id: uid, name: userName(s, uid).name });
  }
  return { id, name: `Team ${pick(STREETS, hash(s, 82, id))} ${id}`, type: "Agent", users };
};

const genStage: Gen = (_ctx, id) => ({
  id,
  name: stageName(id),
  orderWeight: id * 100,
});

const GENERATORS: Record<EntityName, Gen> = {
  people: genPerson,
  deals: genDeal,
  events: genEvent,
  calls: genCall,
  textMessages: genText,
  appointments: genAppointment,
  users: genUser,
  groups: genGroup,
  stages: genStage,
};

/** Generate a record with the given id and timestamps (used for base and for created records). */
export function generate(
  ctx: GenContext,
  entity: EntityName,
  id: number,
  createdSec: number,
  updatedSec: number,
  personId?: number | null,
): Rec {
  return GENERATORS[entity](ctx, id, createdSec, updatedSec, personId);
}

/** Base record at index i (id i + 1). */
export function baseRecord(ctx: GenContext, entity: EntityName, i: number): Rec {
  const t = ctx.timelines[entity];
  return GENERATORS[entity](ctx, i + 1, t.createdSec(i), t.updatedSec(i));
}

/** "X" → "X (renamed 1)" → "X (renamed 2)": a rename always changes the name. */
function renamed(name: unknown): string {
  const m = / \(renamed (\d+)\)$/.exec(String(name));
  const base = m ? String(name).slice(0, m.index) : String(name);
  return `${base} (renamed ${m ? Number(m[1]) + 1 : 1})`;
}

/** Fields an update may change, per entity; returns a new record. */
export function applyUpdate(
  ctx: GenContext,
  entity: EntityName,
  rec: Rec,
  r: () => number,
  atSec: number,
): Rec {
  const next: Rec = { ...rec };
  const pickInt = (n: number) => Math.floor(r() * n);
  switch (entity) {
    case "people": {
      const what = pickInt(5);
      if (what === 0) {
        const stageId = 1 + pickInt(STAGE_NAMES.length - 1);
        next.stageId = stageId;
        next.stage = stageName(stageId);
      } else if (what === 1) {
        const tags = [...((rec.tags as string[]) ?? [])];
        const tag = TAGS[pickInt(TAGS.length)] as string;
        next.tags = tags.includes(tag) ? tags.filter((t) => t !== tag) : [...tags, tag];
      } else if (what === 2) {
        next.price = 100_000 + pickInt(2000) * 500;
      } else if (what === 3) {
        const uid = ctx.counts.users > 0 ? 1 + pickInt(ctx.counts.users) : null;
        next.assignedUserId = uid;
        next.assignedTo = uid === null ? null : userName(ctx.seed, uid).name;
      } else {
        next.contacted = rec.contacted ? 0 : 1;
      }
      break;
    }
    case "deals": {
      const stageId = 1 + pickInt(DEAL_STAGES.length);
      const entered = stageId === rec.stageId ? Date.parse(String(rec.enteredStageAt)) / 1000 : atSec;
      return dealStageFields(
        next,
        stageId,
        150_000 + pickInt(3000) * 500,
        Number.isFinite(entered) ? entered : atSec,
      );
    }
    case "events":
      next.description = `${String(rec.type)} (edited)`;
      break;
    case "calls":
      next.outcome = CALL_OUTCOMES[pickInt(CALL_OUTCOMES.length)];
      next.note = "Follow-up noted";
      break;
    case "textMessages":
      next.status = pickInt(2) === 0 ? "Delivered" : "Read";
      break;
    case "appointments":
      next.title = APPOINTMENT_TITLES[pickInt(APPOINTMENT_TITLES.length)];
      break;
    case "users":
      next.status = rec.status === "Active" ? "Inactive" : "Active";
      break;
    case "groups": {
      if (pickInt(2) === 0) {
        next.name = renamed(rec.name);
      } else {
        const uid = ctx.counts.users > 0 ? 1 + pickInt(ctx.counts.users) : null;
        const users = [...((rec.users as Rec[]) ?? [])];
        if (uid !== null) {
          next.users = users.some((u) => u.id === uid)
            ? users.filter((u) => u.id !== uid)
            : [...users, { id: uid, name: userName(ctx.seed, uid).name }];
        }
      }
      break;
    }
    case "stages":
      // Every update changes the content: without timestamps, content is all a reader can compare.
      next.orderWeight = (Number(rec.orderWeight) || 0) + 1;
      if (pickInt(2) === 0) next.name = renamed(rec.name);
      break;
  }
  return next;
}

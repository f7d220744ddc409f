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

type Gen = (ctx: GenContext, id: number, createdSec: number, updatedSec: number) => Rec;

function stamps(createdSec: number, updatedSec: number): Rec {
  return { created: isoSec(createdSec), updated: isoSec(updatedSec) };
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
  const phones = [{ value: phone(hash(s, 13, id)), type: "mobile", isPrimary: 1 }];
  const lastActivity = c + Math.floor(((u - c) * ((h >>> 14) % 100)) / 100);
  return {
    id,
    ...stamps(c, u),
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

const genDeal: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 2, id);
  const pid = link(ctx, "people", hash(s, 21, id));
  const uid = link(ctx, "users", hash(s, 22, id));
  const addr = address(s, 23, id);
  return {
    id,
    ...stamps(c, u),
    name: `${addr.street as string}, ${addr.city as string}`,
    stageId: 1 + (h % 6),
    pipelineId: 1 + ((h >>> 4) % 3),
    status: "Active",
    price: 150_000 + ((h >>> 8) % 3000) * 500,
    commissionValue: null,
    people: pid === null ? [] : [{ id: pid, name: personName(s, pid).name }],
    users: uid === null ? [] : [{ id: uid, name: userName(s, uid).name }],
    closeDate: isoDate(u + 86_400 * (10 + ((h >>> 12) % 80))),
    description: null,
  };
};

const genEvent: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 3, id);
  const addr = address(s, 31, id);
  const type = pick(EVENT_TYPES, h);
  return {
    id,
    ...stamps(c, u),
    personId: link(ctx, "people", hash(s, 32, id)),
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

const genCall: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 4, id);
  const isIncoming = h % 3 === 0;
  const ph = phone(hash(s, 41, id));
  return {
    id,
    ...stamps(c, u),
    personId: link(ctx, "people", hash(s, 42, id)),
    userId: link(ctx, "users", hash(s, 43, id)),
    duration: (h >>> 4) % 1800,
    outcome: pick(CALL_OUTCOMES, h >>> 12),
    isIncoming,
    phone: ph,
    toNumber: isIncoming ? "(555) 010-0000" : ph,
    fromNumber: isIncoming ? ph : "(555) 010-0000",
    note: null,
    recordingUrl: null,
  };
};

const genText: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const h = hash(s, 5, id);
  const isIncoming = h % 2 === 0;
  const ph = phone(hash(s, 51, id));
  return {
    id,
    ...stamps(c, u),
    personId: link(ctx, "people", hash(s, 52, id)),
    userId: link(ctx, "users", hash(s, 53, id)),
    message: pick(TEXTS, h >>> 4),
    isIncoming,
    fromNumber: isIncoming ? ph : "(555) 010-0000",
    toNumber: isIncoming ? "(555) 010-0000" : ph,
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
    ...stamps(c, u),
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
    ...stamps(c, u),
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

const genGroup: Gen = (ctx, id, c, u) => {
  const s = ctx.seed;
  const users: Rec[] = [];
  const size = 1 + (hash(s, 8, id) % 5);
  for (let k = 0; k < size; k++) {
    const uid = link(ctx, "users", hash(s, 81, id, k));
    if (uid !== null && !users.some((x) => x.id === uid))
      users.push({ id: uid, name: userName(s, uid).name });
  }
  return { id, ...stamps(c, u), name: `Team ${pick(STREETS, hash(s, 82, id))} ${id}`, type: "Agent", users };
};

const genStage: Gen = (_ctx, id, c, u) => ({
  id,
  ...stamps(c, u),
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
): Rec {
  return GENERATORS[entity](ctx, id, createdSec, updatedSec);
}

/** Base record at index i (id i + 1). */
export function baseRecord(ctx: GenContext, entity: EntityName, i: number): Rec {
  const t = ctx.timelines[entity];
  return GENERATORS[entity](ctx, i + 1, t.createdSec(i), t.updatedSec(i));
}

/** Fields an update may change, per entity; returns a new record. */
export function applyUpdate(ctx: GenContext, entity: EntityName, rec: Rec, r: () => number): Rec {
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
    case "deals":
      next.stageId = 1 + pickInt(6);
      next.price = 150_000 + pickInt(3000) * 500;
      break;
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
    case "groups":
      next.name = `${String(rec.name).replace(/ \(renamed\)$/, "")} (renamed)`;
      break;
    case "stages":
      next.orderWeight = (Number(rec.orderWeight) || 0) + 1;
      break;
  }
  return next;
}

// The Dotloop dataset of one user (account): profiles, loops with their details,
// participants, folders/documents, task lists/tasks and activities, contacts and loop
// templates. Generated once from a seed (same seed, same data, on every runtime) and then
// held in memory; mutations change it in place. Record shapes follow the published
// examples in ../shared/fixtures/dotloop.

import { hash, normalizeSeed, Rng } from "../simulator/prng";
import { HOSTILE_KINDS, type HostileKind, hostileString } from "./hostile";

export type Json = Record<string, unknown>;
export type Details = Record<string, Record<string, string>>;

export interface ParticipantRec {
  id: number;
  fullName: string;
  email: string;
  role: string;
  phone?: string;
  /** detail-only fields, keyed by display label ("company name", "zip/postal code", ...) */
  extra: Record<string, string>;
}

export interface FolderRec {
  folder: { id: number; name: string; created: string; updated: string };
  documents: { id: number; name: string; created: string; updated: string }[];
}

export interface TaskListRec {
  list: { id: number; name: string };
  tasks: { id: number; name: string; due: string; completed: boolean }[];
}

export interface LoopRec {
  loop: {
    id: number;
    profileId: number;
    name: string;
    transactionType: string;
    status: string;
    created: string;
    updated: string;
    loopUrl: string;
    totalTaskCount: number;
    completedTaskCount: number;
  };
  details: Details;
  participants: Map<number, ParticipantRec>;
  folders: FolderRec[];
  tasklists: TaskListRec[];
  activities: { date: string; message: string }[];
}

export interface ProfileRec {
  id: number;
  name: string;
  type: "INDIVIDUAL" | "OFFICE" | "COMPANY" | "BROKERAGE";
  company: string;
  phone: string;
  fax: string;
  address: string;
  city: string;
  state: string;
  zipCode: string;
  default: boolean;
  requiresTemplate: boolean;
}

export interface ContactRec {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  home: string;
  office: string;
  fax: string;
  address: string;
  city: string;
  zipCode: string;
  state: string;
  country: string;
  updated: string;
}

export interface TemplateRec {
  id: number;
  profileId: number;
  name: string;
  transactionType: string;
  shared: boolean;
  global: boolean;
}

export interface DataCounts {
  /** INDIVIDUAL profiles (loops live there); one COMPANY profile is added besides (default 2) */
  profiles?: number;
  loopsPerProfile?: number;
  contacts?: number;
  templatesPerProfile?: number;
}

export interface HostileConfig {
  rate: number;
  kinds?: HostileKind[];
}

/** Statuses per transaction type (published by a public client). */
export const STATUSES: Record<string, readonly string[]> = {
  PURCHASE_OFFER: ["PRE_OFFER", "UNDER_CONTRACT", "SOLD", "ARCHIVED"],
  LISTING_FOR_SALE: [
    "PRE_LISTING",
    "PRIVATE_LISTING",
    "ACTIVE_LISTING",
    "UNDER_CONTRACT",
    "SOLD",
    "ARCHIVED",
  ],
  LISTING_FOR_LEASE: [
    "PRE_LISTING",
    "PRIVATE_LISTING",
    "ACTIVE_LISTING",
    "UNDER_CONTRACT",
    "LEASED",
    "ARCHIVED",
  ],
  LEASE_OFFER: ["PRE_OFFER", "UNDER_CONTRACT", "LEASED", "ARCHIVED"],
  REAL_ESTATE_OTHER: ["NEW", "IN_PROGRESS", "DONE", "ARCHIVED"],
  OTHER: ["NEW", "IN_PROGRESS", "DONE", "ARCHIVED"],
};
export const TRANSACTION_TYPES = Object.keys(STATUSES);
export const ROLES = [
  "BUYER",
  "SELLER",
  "LISTING_AGENT",
  "BUYING_AGENT",
  "ESCROW_TITLE_REP",
  "LOAN_OFFICER",
  "TRANSACTION_COORDINATOR",
  "TENANT",
  "LANDLORD",
  "INSPECTOR",
] as const;

const FIRST = [
  "Brian",
  "Allen",
  "Sean",
  "Maria",
  "Li",
  "Aisha",
  "Jorge",
  "Hannah",
  "Omar",
  "Grace",
  "Ivan",
  "Zoe",
];
const LAST = ["Erwin", "Agent", "Seller", "Garay", "Nguyen", "Okafor", "Schmidt", "Rossi", "Kim", "Dubois"];
const STREETS = [
  "Main St",
  "Waterview Dr",
  "Southington Rd",
  "Wall St",
  "Oak Ave",
  "Lake Shore Dr",
  "Pine Ct",
];
const CITIES: [string, string, string][] = [
  ["Chicago", "IL", "60614"],
  ["Shaker Heights", "OH", "44120"],
  ["San Francisco", "CA", "94114"],
  ["New York", "NY", "10005"],
  ["Cincinnati", "OH", "45203"],
];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** ISO-8601 UTC with second precision and `Z`, as Dotloop writes `created`/`updated`. */
export function isoSec(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Display date "11/01/2017" (loop details carry dates as display strings). */
export function slashDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()}`;
}

/** Display date "March 05, 2017". */
export function longDate(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, "0")}, ${d.getUTCFullYear()}`;
}

/** Task `due`: a local midnight with a -04:00 / -05:00 offset, as in the published example. */
export function dueDate(ms: number): string {
  const day = new Date(ms).toISOString().slice(0, 10);
  return `${day}T00:00:00${new Date(ms).getUTCMonth() % 2 === 0 ? "-05:00" : "-04:00"}`;
}

const BASE_START = Date.UTC(2023, 0, 1);
const BASE_SPAN = Date.UTC(2025, 0, 1) - BASE_START;

/** Allocates ids of one user; every kind shares the counter so ids never collide within a user. */
export class IdAllocator {
  constructor(public next: number) {}
  take(): number {
    return this.next++;
  }
}

export class Maker {
  readonly rng: Rng;
  constructor(
    readonly seed: number,
    readonly ids: IdAllocator,
    readonly hostile: HostileConfig | null,
    salt = 0,
  ) {
    this.rng = new Rng(hash(seed, 0xd071, salt));
  }

  private name(): [string, string] {
    return [this.rng.pick(FIRST), this.rng.pick(LAST)];
  }

  private phone(): string {
    return `(555) ${100 + this.rng.int(900)}-${String(this.rng.int(10000)).padStart(4, "0")}`;
  }

  /** A string field, hostile with the configured probability. */
  text(value: string): string {
    const h = this.hostile;
    if (!h || h.rate <= 0 || !this.rng.chance(h.rate)) return value;
    const kinds = h.kinds && h.kinds.length > 0 ? h.kinds : HOSTILE_KINDS;
    return hostileString(this.rng.pick(kinds), value);
  }

  profile(i: number, individual: boolean): ProfileRec {
    const [city, state, zip] = this.rng.pick(CITIES);
    const [f, l] = this.name();
    return {
      id: this.ids.take(),
      name: individual ? `${f} ${l}` : `${l} Realty`,
      type: individual ? "INDIVIDUAL" : "COMPANY",
      company: `${l} Realty`,
      phone: this.phone(),
      fax: this.phone(),
      address: `${100 + this.rng.int(9000)} ${this.rng.pick(STREETS)}`,
      city,
      state,
      zipCode: zip,
      default: i === 0,
      requiresTemplate: !individual,
    };
  }

  /** A loop created at `created` (ms) and last updated at `updated` (ms). */
  loop(profileId: number, created: number, updated: number): LoopRec {
    const r = this.rng;
    const type = r.pick(TRANSACTION_TYPES);
    const statuses = STATUSES[type] ?? ["NEW"];
    const status = r.pick(statuses);
    const [f, l] = this.name();
    const streetNo = String(100 + r.int(9900));
    const street = r.pick(STREETS);
    const [city, state, zip] = r.pick(CITIES);
    const id = this.ids.take();
    const price = 50_000 + r.int(200) * 5_000;
    const details: Details = {
      "Property Address": {
        Country: "US",
        "Street Number": streetNo,
        "Street Name": street,
        City: city,
        "State/Prov": state,
        "Zip/Postal Code": zip,
      },
      Financials: { "Purchase/Sale Price": String(price) },
      "Contract Info": { "Transaction Number": `Trans_${id}` },
      Property: { Type: r.pick(["simple", "condo", "multi-family"]), "Lot Size": String(1 + r.int(5)) },
    };
    // Empty fields are omitted (published): only some loops carry these.
    if (r.chance(0.6)) (details["Property Address"] as Record<string, string>).County = "Cuyahoga";
    if (r.chance(0.5))
      (details["Property Address"] as Record<string, string>)["MLS Number"] = String(r.int(99999));
    if (status !== "PRE_OFFER" && status !== "PRE_LISTING" && status !== "NEW") {
      details["Contract Dates"] = { "Closing Date": slashDate(updated + r.int(90) * 86_400_000) };
    }
    if (type.startsWith("LISTING")) {
      details["Listing Information"] = {
        "Expiration Date": longDate(created + 180 * 86_400_000),
        "Original Price": `${price + 10_000}.0`,
        "Current Price": String(price),
      };
    }
    const rec: LoopRec = {
      loop: {
        id,
        profileId,
        name: this.text(`${f} ${l}, ${streetNo} ${street}, ${city}, ${state} ${zip}`),
        transactionType: type,
        status,
        created: isoSec(created),
        updated: isoSec(updated),
        loopUrl: `https://www.dotloop.com/m/loop?viewId=${id}`,
        totalTaskCount: 0,
        completedTaskCount: 0,
      },
      details,
      participants: new Map(),
      folders: [],
      tasklists: [],
      activities: [],
    };
    const nPart = 2 + r.int(4);
    for (let k = 0; k < nPart; k++) {
      const p = this.participant();
      rec.participants.set(p.id, p);
    }
    for (let k = 0, n = 1 + r.int(2); k < n; k++) {
      const fid = this.ids.take();
      const folder: FolderRec = {
        folder: {
          id: fid,
          name: k === 0 ? "Disclosures" : `Folder ${k}`,
          created: isoSec(created),
          updated: isoSec(updated),
        },
        documents: [],
      };
      for (let d = 0, nd = 1 + r.int(3); d < nd; d++) {
        folder.documents.push({
          id: this.ids.take(),
          name: d === 0 ? "disclosures.pdf" : `document-${d}.pdf`,
          created: isoSec(created),
          updated: isoSec(created + r.int(Math.max(1, updated - created))),
        });
      }
      rec.folders.push(folder);
    }
    for (let k = 0, n = 1 + r.int(2); k < n; k++) {
      const list: TaskListRec = {
        list: { id: this.ids.take(), name: k === 0 ? "My Tasks" : "Other Tasks" },
        tasks: [],
      };
      for (let t = 0, nt = 1 + r.int(4); t < nt; t++) {
        list.tasks.push({
          id: this.ids.take(),
          name: t === 0 ? "contract" : `contract ${t + 1}`,
          due: dueDate(created + (t + 1) * 7 * 86_400_000),
          completed: r.chance(0.5),
        });
      }
      rec.tasklists.push(list);
    }
    recountTasks(rec);
    for (let k = 0, n = 3 + r.int(6); k < n; k++) {
      rec.activities.push({
        date: isoSec(created + Math.floor(((updated - created) * k) / n)),
        message: `${f} ${l} ${r.pick(["viewed", "edited", "signed", "shared"])} ${r.pick(["disclosures.pdf", "the loop", "a task"])}`,
      });
    }
    return rec;
  }

  participant(): ParticipantRec {
    const [f, l] = this.name();
    const p: ParticipantRec = {
      id: this.ids.take(),
      fullName: this.text(`${f} ${l}`),
      email: `${f}.${l}.${this.rng.int(1000)}@example.com`.toLowerCase(),
      role: this.rng.pick(ROLES),
      extra: {
        "company name": `${l} Company`,
        "street name": this.rng.pick(STREETS),
        "street number": String(1 + this.rng.int(999)),
        city: this.rng.pick(CITIES)[0],
        country: "USA",
      },
    };
    // The published list shows phone on some participants only (empty fields omitted).
    if (this.rng.chance(0.6)) p.phone = this.phone();
    if (this.rng.chance(0.5)) p.extra["cell phone"] = this.phone();
    return p;
  }

  contact(updated: number): ContactRec {
    const [f, l] = this.name();
    const [city, state, zip] = this.rng.pick(CITIES);
    return {
      id: this.ids.take(),
      firstName: this.text(f),
      lastName: l,
      email: `${f}${l}${this.rng.int(10000)}@example.com`.toLowerCase(),
      home: this.phone(),
      office: this.phone(),
      fax: this.phone(),
      address: `${100 + this.rng.int(9000)} ${this.rng.pick(STREETS)}`,
      city,
      zipCode: zip,
      state,
      country: "US",
      updated: isoSec(updated),
    };
  }

  template(profileId: number, k: number): TemplateRec {
    return {
      id: this.ids.take(),
      profileId,
      name: `My Loop Template ${k + 1}`,
      transactionType: this.rng.pick(TRANSACTION_TYPES),
      shared: this.rng.chance(0.5),
      global: false,
    };
  }
}

export function recountTasks(rec: LoopRec): void {
  let total = 0;
  let done = 0;
  for (const tl of rec.tasklists) {
    for (const t of tl.tasks) {
      total++;
      if (t.completed) done++;
    }
  }
  rec.loop.totalTaskCount = total;
  rec.loop.completedTaskCount = done;
}

export interface Dataset {
  account: { id: number; firstName: string; lastName: string; email: string; defaultProfileId: number };
  profiles: Map<number, ProfileRec>;
  /** live loops by id */
  loops: Map<number, LoopRec>;
  contacts: Map<number, ContactRec>;
  templates: Map<number, TemplateRec[]>;
  ids: IdAllocator;
}

/** Generates the base dataset of a user. Base times lie in 2023–2024; created <= updated. */
export function generate(
  userId: number,
  seed: number | string,
  counts: DataCounts,
  hostile: HostileConfig | null,
): Dataset {
  const s = normalizeSeed(seed);
  // Ids start at a seed-derived base, so two users rarely share ids (Dotloop ids are global).
  const ids = new IdAllocator(1000 + (hash(s, 0x1d) % 9000) * 100_000);
  const m = new Maker(s, ids, hostile);
  const profiles = new Map<number, ProfileRec>();
  const nProfiles = counts.profiles ?? 2;
  for (let i = 0; i < nProfiles; i++) {
    const p = m.profile(i, true);
    profiles.set(p.id, p);
  }
  const company = m.profile(nProfiles, false);
  profiles.set(company.id, company);
  const first = [...profiles.values()][0] as ProfileRec;
  const [af, al] = [first.name.split(" ")[0] ?? "Brian", first.name.split(" ")[1] ?? "Erwin"];
  const loops = new Map<number, LoopRec>();
  const templates = new Map<number, TemplateRec[]>();
  const perProfile = counts.loopsPerProfile ?? 40;
  for (const p of profiles.values()) {
    if (p.type !== "INDIVIDUAL") continue;
    for (let i = 0; i < perProfile; i++) {
      const created = BASE_START + Math.floor((BASE_SPAN * 0.8 * i) / Math.max(1, perProfile));
      // Every eighth loop shares its updated second with the previous one (bulk edits happen).
      const updated = created + (i % 8 === 7 ? 0 : m.rng.int(Math.floor(BASE_SPAN * 0.2)));
      const rec = m.loop(p.id, created, updated);
      loops.set(rec.loop.id, rec);
    }
    templates.set(
      p.id,
      Array.from({ length: counts.templatesPerProfile ?? 3 }, (_, k) => m.template(p.id, k)),
    );
  }
  const contacts = new Map<number, ContactRec>();
  const nContacts = counts.contacts ?? 120;
  for (let i = 0; i < nContacts; i++) {
    const c = m.contact(BASE_START + Math.floor((BASE_SPAN * i) / Math.max(1, nContacts)));
    contacts.set(c.id, c);
  }
  return {
    account: {
      id: userId,
      firstName: af,
      lastName: al,
      email: `${af}${al}@example.com`.toLowerCase(),
      defaultProfileId: first.id,
    },
    profiles,
    loops,
    contacts,
    templates,
    ids,
  };
}

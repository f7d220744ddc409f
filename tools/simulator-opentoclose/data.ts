// One simulated Open To Close account: its field set, properties with contacts, notes and tasks, and the
// account-wide contacts, agents, users and teams. Everything is derived from the seed, so a given config
// always yields the same data. Written from ../shared/PROVIDERS-WAVE2.md §5 and the fixture, never from the
// connector.

import { normalizeSeed, Rng } from "../simulator/prng";
import { type FieldType, REAL_FIELDS } from "./fields";

export type FieldDef = { key: string; type: FieldType; label: string };
export type FieldValue = { id: number; value: string; type: FieldType; label: string; key: string };
export type Person = { id: number; first_name: string; last_name: string; email: string; phone: string };
export type PropertyContact = { contact: Person; contact_role: { title: string } };
export type Note = { id: number; title: string; content: string; created: string };
export type Task = { id: number; title: string; due_date: string; status: string };
export type Property = {
  id: number;
  created: string;
  timezone: string;
  field_values: FieldValue[];
  team_id: number;
  team_name: string;
  team_user_id: number;
  team_user_name: string;
  agent_id: number;
  agent_name: string;
  brokerage: string;
  api_data: string;
  inbound_email_address: string;
};
export type PropertyState = {
  property: Property;
  contacts: PropertyContact[];
  notes: Note[];
  tasks: Task[];
};

export interface AccountConfig {
  seed?: number | string;
  /** Size of the account's field set: 497 is the real fixture's whole set, anything less a subset of it. */
  fields?: number;
  properties?: number;
  contacts?: number;
  agents?: number;
  users?: number;
  teams?: number;
  /** Requests per second per token (the published ~1); false: unlimited. */
  ratePerSec?: number | false;
}

/** Keys public syncs read; a generated field set always has those the real set has. */
export const KNOWN_KEYS = [
  "contract_title",
  "contract_status",
  "contract_client_type",
  "listing_status",
  "property_address",
  "property_city",
  "property_state",
  "property_zip",
  "purchase_amount",
  "listing_price",
  "closing_date",
  "contract_date",
  "listing_date",
  "referred_by",
] as const;

export const TIMEZONES = ["US/Mountain", "US/Eastern", "US/Central", "US/Pacific", "America/Phoenix"];
const CONTRACT_STATUSES = ["Listing - Pre-MLS", "Active Listing", "Under Contract", "Closed", "Cancelled"];
const LISTING_STATUSES = ["Coming Soon", "Active", "Pending", "Sold", "Withdrawn"];
const CLIENT_TYPES = ["Buyer", "Seller", "Dual", "Landlord", "Tenant"];
const ROLES = ["Buyer", "Seller", "Buyer Agent", "Listing Agent", "Escrow Officer", "Lender"];
const FIRST = ["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena"];
const LAST = ["Stone", "Reyes", "Okafor", "Nguyen", "Berg", "Costa", "Diaz", "Ekstrom", "Fox", "Gray"];
const STREETS = ["Scarlett Street", "Oak Avenue", "Main Street", "Cedar Lane", "Lakeview Drive"];
const CITIES: [string, string, string][] = [
  ["Forney", "TX", "75126"],
  ["Denver", "CO", "80202"],
  ["Phoenix", "AZ", "85004"],
  ["Boise", "ID", "83702"],
];

/** The account's field set: the real one whole, or the known keys plus the first others up to `size`. */
export function fieldSetOf(size: number): FieldDef[] {
  const all = REAL_FIELDS.map(([key, type, label]) => ({ key, type, label }));
  if (size >= all.length) return all;
  const known = new Set<string>(KNOWN_KEYS);
  const chosen = new Set(all.filter((f) => known.has(f.key)).map((f) => f.key));
  for (const f of all) {
    if (chosen.size >= size) break;
    chosen.add(f.key);
  }
  return all.filter((f) => chosen.has(f.key));
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

export class Account {
  readonly rng: Rng;
  fields: FieldDef[];
  readonly properties = new Map<number, PropertyState>();
  readonly contacts = new Map<number, Person>();
  readonly agents = new Map<number, Person>();
  readonly users = new Map<number, Person>();
  readonly teams = new Map<number, { id: number; name: string }>();
  private seq: number;
  private fieldIdSeq: number;

  constructor(
    readonly name: string,
    readonly token: string,
    readonly config: AccountConfig,
  ) {
    const seed = normalizeSeed(config.seed ?? name);
    this.rng = new Rng(seed);
    this.seq = 900_000 + (seed % 50_000);
    this.fieldIdSeq = 110_000_000 + (seed % 1_000_000) * 10;
    this.fields = fieldSetOf(config.fields ?? 134);
    for (let i = 0; i < (config.teams ?? 2); i++) {
      const id = this.nextId();
      this.teams.set(id, { id, name: `Team ${FIRST[i % FIRST.length]}` });
    }
    for (const [map, n] of [
      [this.users, config.users ?? 3],
      [this.agents, config.agents ?? 4],
      [this.contacts, config.contacts ?? 25],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const p = this.person();
        map.set(p.id, p);
      }
    }
    for (let i = 0; i < (config.properties ?? 10); i++)
      this.addProperty(Date.UTC(2025, 4, 1) + i * 3_600_000);
  }

  nextId(): number {
    this.seq += 1 + this.rng.int(7);
    return this.seq;
  }

  person(): Person {
    const id = this.nextId();
    const first = this.rng.pick(FIRST);
    const last = this.rng.pick(LAST);
    return {
      id,
      first_name: first,
      last_name: last,
      email: `${first}.${last}.${id}@example.com`.toLowerCase(),
      phone: `555-${pad(this.rng.int(1000), 3)}-${pad(this.rng.int(10000), 4)}`,
    };
  }

  /** A value for a field of this type: about half are unset (""), as in the real sample. */
  valueFor(f: FieldDef, p: { street: string; city: [string, string, string] }): string {
    switch (f.key) {
      case "contract_title":
        return `${p.street}, ${p.city[0]}, ${p.city[1]}, ${p.city[2]}`;
      case "property_address":
        return p.street;
      case "property_city":
        return p.city[0];
      case "property_state":
        return p.city[1];
      case "property_zip":
        return p.city[2];
      case "contract_status":
        return this.rng.pick(CONTRACT_STATUSES);
      case "listing_status":
        return this.rng.chance(0.6) ? this.rng.pick(LISTING_STATUSES) : "";
      case "contract_client_type":
        return this.rng.pick(CLIENT_TYPES);
      case "purchase_amount":
        return this.rng.chance(0.7) ? `${200_000 + this.rng.int(600) * 1000}.00` : "";
      case "listing_price":
        return this.rng.chance(0.6) ? String(210_000 + this.rng.int(600) * 1000) : "";
    }
    if (this.rng.chance(0.5)) return "";
    switch (f.type) {
      case "date":
        return `2025-${pad(1 + this.rng.int(12))}-${pad(1 + this.rng.int(28))}`;
      case "number":
        return String(this.rng.int(100));
      case "decimal":
        return `${this.rng.int(100_000)}.${pad(this.rng.int(100))}`;
      case "choice":
        return this.rng.pick(["Yes", "No", "N/A"]);
      case "textarea":
        return `Notes on ${f.label}:\nline two`;
      default:
        return `${f.label} ${this.rng.int(1000)}`;
    }
  }

  addProperty(createdMs: number): PropertyState {
    const id = this.nextId();
    const street = `${100 + this.rng.int(900)} ${this.rng.pick(STREETS)}`;
    const city = this.rng.pick(CITIES);
    const ctx = { street, city };
    const field_values = this.fields.map((f) => ({
      id: this.fieldIdSeq++,
      value: this.valueFor(f, ctx),
      type: f.type,
      label: f.label,
      key: f.key,
    }));
    const team = this.rng.pick([...this.teams.values()]);
    const user = this.rng.pick([...this.users.values()]);
    const agent = this.rng.pick([...this.agents.values()]);
    const d = new Date(createdMs);
    const created = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    const property: Property = {
      id,
      created,
      timezone: this.rng.pick(TIMEZONES),
      field_values,
      team_id: team.id,
      team_name: team.name,
      team_user_id: user.id,
      team_user_name: `${user.first_name} ${user.last_name}`,
      agent_id: agent.id,
      agent_name: `${agent.first_name} ${agent.last_name}`,
      brokerage: "Sim Realty",
      api_data: "",
      inbound_email_address: `p${id}@inbound.example.com`,
    };
    const people = [...this.contacts.values()];
    const contacts: PropertyContact[] = [];
    for (let i = 0; i < 1 + this.rng.int(3); i++) {
      const c = this.rng.pick(people);
      const title = this.rng.pick(ROLES);
      if (!contacts.some((x) => x.contact.id === c.id && x.contact_role.title === title))
        contacts.push({ contact: { ...c }, contact_role: { title } });
    }
    const notes = Array.from({ length: this.rng.int(3) }, () => this.note());
    const tasks = Array.from({ length: this.rng.int(4) }, () => this.task());
    const state = { property, contacts, notes, tasks };
    this.properties.set(id, state);
    return state;
  }

  note(): Note {
    const id = this.nextId();
    return {
      id,
      title: `Note ${id}`,
      content: `Called about item ${this.rng.int(100)}`,
      created: "2025-06-01 10:00:00",
    };
  }

  task(): Task {
    const id = this.nextId();
    return {
      id,
      title: this.rng.pick(["Order inspection", "Send disclosures", "Schedule closing", "Collect EMD"]),
      due_date: `2025-${pad(1 + this.rng.int(12))}-${pad(1 + this.rng.int(28))}`,
      status: this.rng.pick(["open", "completed"]),
    };
  }

  /** Properties in a stable order (by id), as an offset-paged list must be to page at all. */
  sortedProperties(): PropertyState[] {
    return [...this.properties.values()].sort((a, b) => a.property.id - b.property.id);
  }
}

export interface MutateRequest {
  /** Properties with one field value changed (a known key where possible, so a projection moves). */
  edits?: number;
  creates?: number;
  deletes?: number;
  /** Fields added to and removed from the account's set: every property gains / loses them. */
  fieldSet?: { add?: number; remove?: number };
  /** Properties whose children change: a note added, a task's status flipped, a contact's role replaced. */
  childEdits?: number;
  /** Account-wide contacts changed (renamed) and removed. */
  contacts?: { updates?: number; deletes?: number };
}

export interface MutateResult {
  edited: number[];
  created: number[];
  deleted: number[];
  fieldsAdded: string[];
  fieldsRemoved: string[];
  childrenChanged: number[];
  contactsUpdated: number[];
  contactsDeleted: number[];
}

export function mutate(a: Account, req: MutateRequest, now: number): MutateResult {
  const res: MutateResult = {
    edited: [],
    created: [],
    deleted: [],
    fieldsAdded: [],
    fieldsRemoved: [],
    childrenChanged: [],
    contactsUpdated: [],
    contactsDeleted: [],
  };
  const live = () => a.sortedProperties();
  for (let i = 0; i < (req.deletes ?? 0); i++) {
    const all = live();
    if (all.length === 0) break;
    const victim = a.rng.pick(all);
    a.properties.delete(victim.property.id);
    res.deleted.push(victim.property.id);
  }
  for (let i = 0; i < (req.edits ?? 0); i++) {
    const all = live().filter((p) => !res.edited.includes(p.property.id));
    if (all.length === 0) break;
    const p = a.rng.pick(all).property;
    const key = a.rng.pick(["contract_status", "purchase_amount", "closing_date", "property_address"]);
    const f = p.field_values.find((x) => x.key === key) ?? p.field_values[0];
    if (!f) continue;
    f.value =
      key === "contract_status"
        ? `Edited ${now}`
        : key === "purchase_amount"
          ? `${300_000 + a.rng.int(500) * 1000}.00`
          : key === "closing_date"
            ? `2026-${pad(1 + a.rng.int(12))}-${pad(1 + a.rng.int(28))}`
            : `${100 + a.rng.int(900)} Edited Road`;
    res.edited.push(p.id);
  }
  for (let i = 0; i < (req.creates ?? 0); i++) res.created.push(a.addProperty(now).property.id);
  const fs = req.fieldSet ?? {};
  for (let i = 0; i < (fs.remove ?? 0); i++) {
    // Never a known key: an account removing "contract_status" is possible but says nothing more here.
    const removable = a.fields.filter((f) => !(KNOWN_KEYS as readonly string[]).includes(f.key));
    if (removable.length === 0) break;
    const gone = a.rng.pick(removable);
    a.fields = a.fields.filter((f) => f.key !== gone.key);
    for (const s of a.properties.values())
      s.property.field_values = s.property.field_values.filter((f) => f.key !== gone.key);
    res.fieldsRemoved.push(gone.key);
  }
  for (let i = 0; i < (fs.add ?? 0); i++) {
    const key = `custom_field_${now}_${i}`;
    const def: FieldDef = {
      key,
      type: a.rng.pick(["text", "date", "decimal"] as const),
      label: `Custom ${i}`,
    };
    a.fields.push(def);
    for (const s of a.properties.values()) {
      s.property.field_values.push({ id: a.nextId(), value: "", type: def.type, label: def.label, key });
    }
    res.fieldsAdded.push(key);
  }
  for (let i = 0; i < (req.childEdits ?? 0); i++) {
    const s = a.rng.pick(live());
    if (!s) break;
    s.notes.push(a.note());
    const t = s.tasks[0];
    if (t) t.status = t.status === "open" ? "completed" : "open";
    const c = s.contacts[0];
    if (c) c.contact_role = { title: `${c.contact_role.title} (changed)` };
    res.childrenChanged.push(s.property.id);
  }
  const cu = req.contacts ?? {};
  for (let i = 0; i < (cu.updates ?? 0); i++) {
    const c = a.rng.pick([...a.contacts.values()]);
    if (!c) break;
    c.last_name = `${c.last_name}-${i}`;
    res.contactsUpdated.push(c.id);
  }
  for (let i = 0; i < (cu.deletes ?? 0); i++) {
    const c = a.rng.pick([...a.contacts.values()]);
    if (!c) break;
    a.contacts.delete(c.id);
    res.contactsDeleted.push(c.id);
  }
  return res;
}

/** Ground truth: what the API would list right now, every list whole. */
export function truthOf(a: Account) {
  const props = a.sortedProperties();
  return {
    fields: a.fields,
    properties: props.map((s) => s.property),
    propertyContacts: props.flatMap((s) => s.contacts.map((c) => ({ propertyId: s.property.id, ...c }))),
    notes: props.flatMap((s) => s.notes.map((n) => ({ propertyId: s.property.id, ...n }))),
    tasks: props.flatMap((s) => s.tasks.map((t) => ({ propertyId: s.property.id, ...t }))),
    contacts: [...a.contacts.values()],
    agents: [...a.agents.values()],
    users: [...a.users.values()],
    teams: [...a.teams.values()],
  };
}
export type Truth = ReturnType<typeof truthOf>;

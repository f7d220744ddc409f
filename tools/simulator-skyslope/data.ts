// The simulator's records: files (sales and listings), users and offices of one brokerage, generated from a
// seed. Times are kept as instants (epoch second + ticks) and rendered as the server's wall clock on the way out.

import { hash } from "../simulator/prng";
import { instantText, wallText } from "./wall";

export type Time = { s: number; ticks: number };

export interface SimFile {
  kind: "sale" | "listing";
  guid: string;
  created: Time;
  modified: Time;
  deleted: boolean;
  /** Published fields other than the ids and times, in the published key order. */
  fields: Record<string, unknown>;
}

export interface SimUser {
  userGuid: string;
  deactivated: boolean;
  fields: Record<string, unknown>;
}

export interface SimOffice {
  officeGuid: string;
  deleted: boolean;
  officeName: string;
}

export interface Brokerage {
  files: Map<string, SimFile>;
  users: Map<string, SimUser>;
  offices: Map<string, SimOffice>;
  seq: number;
}

export function guid(seed: number, n: number): string {
  const h = (i: number) => hash(seed, n, i).toString(16).padStart(8, "0");
  const a = h(1);
  const b = h(2);
  const c = h(3);
  const d = h(4);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${"89ab"[hash(seed, n, 5) % 4]}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
}

const STREETS = ["Main St", "Oak Ave", "Pine Rd", "Elm Ct", "Lake Dr"];
const CITIES = ["Sacramento", "Roseville", "Davis", "Folsom"];
const STATUSES = ["Incomplete", "Active", "Pending", "Closed", "Expired"];

/** A date-only field: midnight, the way SkySlope writes dates. */
function dateOnly(s: number): string {
  return `${new Date(s * 1000).toISOString().slice(0, 10)}T00:00:00`;
}

/** Sub-second ticks of a generated time: milliseconds mostly, sometimes .NET's full 7 digits, sometimes none. */
export function ticksFor(seed: number, n: number, ms: number): number {
  const r = hash(seed, n, 77) % 10;
  if (r < 2) return 0;
  if (r < 4) return ms * 10_000 + (hash(seed, n, 78) % 10_000);
  return ms * 10_000;
}

export function fileFields(
  kind: "sale" | "listing",
  seed: number,
  n: number,
  agents: string[],
  offices: string[],
) {
  const pick = <T>(xs: T[], i: number): T => xs[hash(seed, n, i) % xs.length] as T;
  const agent = agents.length ? pick(agents, 10) : null;
  const office = offices.length && hash(seed, n, 11) % 4 !== 0 ? pick(offices, 12) : null;
  const base = 1_600_000_000 + (hash(seed, n, 13) % 60_000_000);
  const property = {
    streetNumber: String(100 + (hash(seed, n, 14) % 9000)),
    streetAddress: pick(STREETS, 15),
    unit: null,
    direction: null,
    city: pick(CITIES, 16),
    county: "Sacramento",
    state: "CA",
    zip: String(95600 + (hash(seed, n, 17) % 200)),
    areasqft: 900 + (hash(seed, n, 18) % 3000),
    yearBuilt: 1950 + (hash(seed, n, 19) % 70),
  };
  const status = pick(STATUSES, 20);
  if (kind === "sale") {
    return {
      objectType: "sale",
      listingGuid: null,
      agentGuid: agent,
      createdByGuid: agent,
      mlsNumber: `ML${hash(seed, n, 21) % 1_000_000}`,
      escrowNumber: "",
      statusId: 59 + STATUSES.indexOf(status),
      status,
      officeId: office ? 12421 : null,
      officeGuid: office,
      checklistType: "Other",
      escrowClosingDate: dateOnly(base + 40 * 86_400),
      actualClosingDate: status === "Closed" ? dateOnly(base + 45 * 86_400) : null,
      // The .NET "unset" date, as the vendor sample shows it.
      contractAcceptanceDate: hash(seed, n, 22) % 3 === 0 ? "0001-01-01T00:00:00" : dateOnly(base),
      dealType: "Purchase / Tenant",
      listingPrice: 0,
      salePrice: 100_000 + (hash(seed, n, 23) % 900) * 1000,
      isOfficeLead: false,
      email: `file${n}@skyslope.com`,
      property,
      commission: null,
      sellers: [],
      buyers: [],
      stage: { id: 1, name: status },
      agent: agent ? { guid: agent } : null,
      customFields: {},
    };
  }
  return {
    objectType: "listing",
    agentGuid: agent,
    createdByGuid: agent,
    coListingAgentGuid: null,
    referringAgentGuid: null,
    mlsNumber: `ML${hash(seed, n, 21) % 1_000_000}`,
    status,
    officeId: office ? 12421 : null,
    officeGuid: office,
    checklistType: "New",
    type: "New",
    listingDate: dateOnly(base),
    fileId: "",
    expirationDate: dateOnly(base + 180 * 86_400),
    company: null,
    listingPrice: 200_000 + (hash(seed, n, 24) % 900) * 1000,
    email: `file${n}@skyslope.com`,
    property,
    sellers: [],
    homeWarranty: null,
    stage: { id: 1, name: status },
    agent: agent ? { guid: agent } : null,
    customFields: {},
  };
}

/** The keys of a file, in the order of SkySlope's published sample (one list per objectType). */
export const SALE_KEYS = [
  "objectType",
  "saleGuid",
  "listingGuid",
  "agentGuid",
  "createdByGuid",
  "mlsNumber",
  "escrowNumber",
  "statusId",
  "status",
  "officeId",
  "officeGuid",
  "checklistType",
  "escrowClosingDate",
  "actualClosingDate",
  "contractAcceptanceDate",
  "modifiedOn",
  "source",
  "otherSource",
  "dealType",
  "listingPrice",
  "salePrice",
  "isOfficeLead",
  "coBrokerCompany",
  "email",
  "property",
  "commission",
  "sellers",
  "buyers",
  "titleContact",
  "escrowContact",
  "attorneyContact",
  "lenderContact",
  "otherSideAgentContact",
  "homeWarrantyContact",
  "miscContact",
  "commercialLease",
  "commissionBreakdowns",
  "coAgentGuids",
  "commissionSplits",
  "stage",
  "commissionReferral",
  "agent",
  "coAgents",
  "earnestMoneyDeposit",
  "customFields",
  "createdOn",
] as const;
export const LISTING_KEYS = [
  "objectType",
  "listingGuid",
  "agentGuid",
  "createdByGuid",
  "coListingAgentGuid",
  "referringAgentGuid",
  "mlsNumber",
  "status",
  "modifiedOn",
  "officeId",
  "officeGuid",
  "checklistType",
  "type",
  "listingDate",
  "source",
  "otherSource",
  "fileId",
  "commission",
  "expirationDate",
  "company",
  "listingPrice",
  "email",
  "property",
  "commercialLease",
  "sellers",
  "homeWarranty",
  "miscContact",
  "stage",
  "coAgentGuids",
  "agent",
  "coAgents",
  "customFields",
  "createdOn",
] as const;
const LISTS = new Set(["sellers", "buyers", "attorneyContact", "commissionBreakdowns", "commissionSplits"]);

/** A file as the API returns it: the published keys in their order, the times rendered in `zone`. */
export function renderFile(f: SimFile, zone: string): Record<string, unknown> {
  const values: Record<string, unknown> = {
    ...f.fields,
    ...(f.kind === "sale" ? { saleGuid: f.guid } : { listingGuid: f.guid }),
    modifiedOn: wallText(zone, f.modified.s, f.modified.ticks),
    createdOn: wallText(zone, f.created.s, f.created.ticks),
  };
  const out: Record<string, unknown> = {};
  for (const k of f.kind === "sale" ? SALE_KEYS : LISTING_KEYS)
    out[k] = k in values ? values[k] : LISTS.has(k) ? [] : null;
  return out;
}

export const instantOf = (t: Time) => instantText(t.s, t.ticks);

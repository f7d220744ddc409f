import { z } from "zod";
import { opentocloseProperties } from "../../db/schema";
import { decimalOf, localDate, localToInstant } from "./local-time";
import { blank, otcEntity, otcId, otcRef, text } from "./records";
import { listingDelete, propertyToListing, propertyToTransaction, transactionDelete } from "./unified";

/**
 * One field of a property, `{id, key, label, type, value}`. The set is configured per account, so nothing here
 * names a field: an entry without a usable `key` is skipped, a value that is not a string is read as text, and
 * a type nobody has seen is kept as sent.
 */
const fieldValue = z.looseObject({
  id: z.unknown().optional(),
  key: z.unknown().optional(),
  label: z.unknown().optional(),
  type: z.unknown().optional(),
  value: z.unknown().optional(),
});

export const otcPropertySchema = z.looseObject({
  id: otcId,
  created: text,
  timezone: text,
  field_values: z.array(fieldValue),
  team_id: otcRef,
  team_name: text,
  team_user_id: otcRef,
  team_user_name: text,
  agent_id: otcRef,
  agent_name: text,
});
export type OtcProperty = z.infer<typeof otcPropertySchema>;

export type FieldSet = {
  /** key → value as a string ("" = unset). */
  values: Record<string, string>;
  /** key → {type, label}: what the account's field set says each key is. */
  types: Record<string, { type: string | null; label: string | null }>;
};

const asText = (v: unknown): string | null =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null;

/** The field values keyed by `key`. A key repeated in one property keeps its first non-empty value. */
export function fieldSet(p: Pick<OtcProperty, "field_values">): FieldSet {
  const values: Record<string, string> = {};
  const types: FieldSet["types"] = {};
  for (const f of p.field_values) {
    const key = asText(f.key);
    if (!key) continue;
    const value = asText(f.value) ?? "";
    if (!(key in values) || (values[key] === "" && value !== "")) values[key] = value;
    if (!(key in types)) types[key] = { type: asText(f.type), label: asText(f.label) };
  }
  return { values, types };
}

/** The keys syncs of this provider read (from public clients); any may be missing from an account's set. */
export const KEYS = {
  title: "contract_title",
  contractStatus: "contract_status",
  clientType: "contract_client_type",
  listingStatus: "listing_status",
  address: "property_address",
  city: "property_city",
  state: "property_state",
  zip: "property_zip",
  purchaseAmount: "purchase_amount",
  listingPrice: "listing_price",
  contractDate: "contract_date",
  listingDate: "listing_date",
  closingDate: "closing_date",
  settlementDate: "settlement_date",
  mlsNumber: "mls_number",
} as const;

/** What a transaction or listing needs, typed from the field set; a field absent or unreadable is null. */
export function typedProperty(p: OtcProperty) {
  const { values } = fieldSet(p);
  const get = (k: string) => blank(values[k]);
  const zone = p.timezone ?? null;
  return {
    title: get(KEYS.title),
    contractStatus: get(KEYS.contractStatus),
    listingStatus: get(KEYS.listingStatus),
    clientType: get(KEYS.clientType),
    address: get(KEYS.address),
    city: get(KEYS.city),
    state: get(KEYS.state),
    zip: get(KEYS.zip),
    mlsNumber: get(KEYS.mlsNumber),
    purchaseAmount: decimalOf(get(KEYS.purchaseAmount)),
    listingPrice: decimalOf(get(KEYS.listingPrice)),
    contractDate: localDate(get(KEYS.contractDate), zone),
    listingDate: localDate(get(KEYS.listingDate), zone),
    closingDate: localDate(get(KEYS.closingDate), zone) ?? localDate(get(KEYS.settlementDate), zone),
  };
}
export type TypedProperty = ReturnType<typeof typedProperty>;

/** `created` is wall-clock time in the property's own zone. */
export const createdOf = (p: { created?: string | null; timezone?: string | null }) =>
  localToInstant(p.created, p.timezone);

/** Properties (transactions): paged by limit/offset as bare arrays; every field value kept, the rest typed. */
export const properties = otcEntity({
  name: "properties",
  listPath: "/properties",
  schema: otcPropertySchema,
  coreTable: opentocloseProperties,
  createdAt: createdOf,
  columns: (p) => {
    const set = fieldSet(p);
    const t = typedProperty(p);
    return {
      timezone: p.timezone ?? null,
      fields: set.values,
      field_types: set.types,
      team_id: p.team_id ?? null,
      team_name: p.team_name ?? null,
      team_user_id: p.team_user_id ?? null,
      team_user_name: p.team_user_name ?? null,
      agent_id: p.agent_id ?? null,
      agent_name: p.agent_name ?? null,
      title: t.title,
      contract_status: t.contractStatus,
      listing_status: t.listingStatus,
      client_type: t.clientType,
      address: t.address,
      city: t.city,
      state: t.state,
      zip: t.zip,
      purchase_amount: t.purchaseAmount,
      listing_price: t.listingPrice,
      contract_date: t.contractDate,
      listing_date: t.listingDate,
      closing_date: t.closingDate,
    };
  },
  more: (p, source) => {
    const t = typedProperty(p);
    const listing = propertyToListing(p, t, source);
    return [propertyToTransaction(p, t, source), ...(listing ? [listing] : [])];
  },
  alsoDelete: (sourceId) => [transactionDelete(sourceId), listingDelete(sourceId)],
});

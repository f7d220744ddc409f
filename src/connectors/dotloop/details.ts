import { z } from "zod";

/**
 * A loop's detail: section name → field label → display string, labels as Dotloop shows them ("Property
 * Address" › "Zip/Postal Code"), empty fields omitted. Values are strings on the wire; a number or null from
 * another client is taken too, so no rendering of a value is a reason to refuse a loop.
 */
const value = z.union([z.string(), z.number(), z.boolean()]).nullish();
export const loopDetailSchema = z.record(z.string(), z.record(z.string(), value).nullish());
export type LoopDetail = z.infer<typeof loopDetailSchema>;

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

/** The first non-empty value of any of these labels, in any section when `section` is null. */
function pick(detail: LoopDetail, section: string | null, labels: string[]): string | null {
  const wanted = new Set(labels.map(norm));
  for (const [name, fields] of Object.entries(detail)) {
    if (!fields || (section !== null && norm(name) !== norm(section))) continue;
    for (const [label, v] of Object.entries(fields)) {
      if (v == null || !wanted.has(norm(label))) continue;
      const s = String(v).trim();
      if (s !== "") return s;
    }
  }
  return null;
}

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

function ymd(y: number, m: number, d: number): string | null {
  const t = Date.UTC(y, m - 1, d);
  const dt = new Date(t);
  // A date that rolls over (02/30) is not the date the agent typed.
  if (y < 1000 || y > 9999 || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/**
 * Dotloop's display dates as a calendar date: "11/01/2017" (US month first), "March 05, 2017" (or "Mar 5
 * 2017"), and ISO "2017-11-01[T…]". Anything else ("TBD") is no date; the section keeps the text.
 */
export function displayDate(s: string | null): string | null {
  if (s === null) return null;
  const v = s.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(v);
  if (m) return ymd(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v);
  if (m) return ymd(Number(m[3]), Number(m[1]), Number(m[2]));
  m = /^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$/.exec(v);
  if (m?.[1]) {
    const name = m[1].toLowerCase();
    const month = MONTHS.findIndex((x) => name.length >= 3 && x.startsWith(name)) + 1;
    if (month > 0) return ymd(Number(m[3]), month, Number(m[2]));
  }
  return null;
}

/** Amounts as display strings ("25000", "110000.0", "$1,250,000.50") → a numeric literal; else null. */
export function displayAmount(s: string | null): string | null {
  if (s === null) return null;
  const v = s
    .trim()
    .replace(/^\$\s*/, "")
    .replaceAll(",", "");
  if (!/^-?\d{1,15}(?:\.\d{1,6})?$/.test(v)) return null;
  return v;
}

export type TypedDetail = {
  address: string | null;
  street_number: string | null;
  street_name: string | null;
  unit: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  county: string | null;
  country: string | null;
  mls_number: string | null;
  purchase_price: string | null;
  original_price: string | null;
  current_price: string | null;
  contract_date: string | null;
  closing_date: string | null;
  offer_date: string | null;
  listing_date: string | null;
  expiration_date: string | null;
  transaction_number: string | null;
};

/** The fields a transaction needs, read from the labels Dotloop publishes (case and punctuation aside). */
export function typedDetail(d: LoopDetail): TypedDetail {
  const addr = "Property Address";
  const streetNumber = pick(d, addr, ["Street Number"]);
  const streetName = pick(d, addr, ["Street Name"]);
  const unit = pick(d, addr, ["Unit Number", "Unit"]);
  const city = pick(d, addr, ["City"]);
  const state = pick(d, addr, ["State/Prov", "State"]);
  const postal = pick(d, addr, ["Zip/Postal Code", "Zip Code", "Postal Code"]);
  const street = [streetNumber, streetName].filter(Boolean).join(" ");
  const line = [
    street ? (unit ? `${street} #${unit}` : street) : null,
    city,
    [state, postal].filter(Boolean).join(" "),
  ]
    .filter((x) => x !== null && x !== "")
    .join(", ");
  return {
    address: line || null,
    street_number: streetNumber,
    street_name: streetName,
    unit,
    city,
    state,
    postal_code: postal,
    county: pick(d, addr, ["County"]),
    country: pick(d, addr, ["Country"]),
    mls_number: pick(d, null, ["MLS Number"]),
    purchase_price: displayAmount(
      pick(d, "Financials", ["Purchase/Sale Price", "Sale Price", "Purchase Price"]),
    ),
    original_price: displayAmount(pick(d, "Listing Information", ["Original Price"])),
    current_price: displayAmount(pick(d, "Listing Information", ["Current Price"])),
    contract_date: displayDate(pick(d, "Contract Dates", ["Contract Agreement Date", "Contract Date"])),
    closing_date: displayDate(pick(d, "Contract Dates", ["Closing Date"])),
    offer_date: displayDate(pick(d, "Offer Dates", ["Offer Date"]) ?? pick(d, null, ["Offer Date"])),
    listing_date: displayDate(pick(d, "Listing Information", ["Listing Date"])),
    expiration_date: displayDate(pick(d, "Listing Information", ["Expiration Date"])),
    transaction_number: pick(d, null, ["Transaction Number"]),
  };
}

import { z } from "zod";
import { dotloopAccounts, dotloopProfiles } from "../../db/schema";
import { dotloopEntity, dotloopId, dotloopRef, text } from "./records";

export const dotloopAccountSchema = z.looseObject({
  id: dotloopId,
  firstName: text,
  lastName: text,
  email: text,
  defaultProfileId: dotloopRef,
});
export type DotloopAccount = z.infer<typeof dotloopAccountSchema>;

/** GET /account answers one record (`{data: {...}}`), the user the token belongs to; no times published. */
export const account = dotloopEntity({
  name: "account",
  listPath: "/account",
  single: true,
  versioning: "contentHash",
  schema: dotloopAccountSchema,
  coreTable: dotloopAccounts,
  columns: (a) => ({
    first_name: a.firstName ?? null,
    last_name: a.lastName ?? null,
    email: a.email ?? null,
    default_profile_id: a.defaultProfileId ?? null,
  }),
});

export const dotloopProfileSchema = z.looseObject({
  id: dotloopId,
  name: text,
  type: text,
  company: text,
  phone: text,
  fax: text,
  address: text,
  city: text,
  state: text,
  zipCode: text,
  default: z.boolean().nullish(),
  requiresTemplate: z.boolean().nullish(),
});
export type DotloopProfile = z.infer<typeof dotloopProfileSchema>;

/** Profiles: not paged as far as anyone has seen, no times published. */
export const profiles = dotloopEntity({
  name: "profiles",
  listPath: "/profile",
  versioning: "contentHash",
  schema: dotloopProfileSchema,
  coreTable: dotloopProfiles,
  columns: (p) => ({
    name: p.name ?? null,
    type: p.type ?? null,
    company: p.company ?? null,
    phone: p.phone ?? null,
    fax: p.fax ?? null,
    address: p.address ?? null,
    city: p.city ?? null,
    state: p.state ?? null,
    zip_code: p.zipCode ?? null,
    is_default: p.default ?? null,
    requires_template: p.requiresTemplate ?? null,
  }),
});

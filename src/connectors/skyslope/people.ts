import { z } from "zod";
import { skyslopeOffices, skyslopeUsers } from "../../db/schema";
import { guidRef, skyslopeEntity, skyslopeGuid, text } from "./records";

export const userSchema = z.looseObject({
  userGuid: skyslopeGuid,
  publicId: z.union([z.string(), z.number()]).nullish(),
  firstName: text,
  lastName: text,
  email: text,
  phone: text,
  alternatePhone: text,
  userType: text,
  officeGuid: guidRef,
});

/**
 * Account users: the seeds' `account_users` entity. Listed without `includeDeactivated`, so a deactivated user
 * leaves the list and the complete scan retires it (and a reactivated one comes back). No times published:
 * versioned by content, every run is a complete scan; one page (no paging is published for users).
 */
export const accountUsers = skyslopeEntity({
  name: "account_users",
  listPath: "/api/users",
  collectionKey: "value.users",
  idField: "userGuid",
  versioning: "contentHash",
  schema: userSchema,
  coreTable: skyslopeUsers,
  columns: (u) => ({
    public_id: u.publicId == null ? null : String(u.publicId),
    first_name: u.firstName ?? null,
    last_name: u.lastName ?? null,
    email: u.email ?? null,
    phone: u.phone ?? null,
    user_type: u.userType ?? null,
    office_guid: u.officeGuid || null,
  }),
});

export const officeSchema = z.looseObject({ officeGuid: skyslopeGuid, officeName: text });

/** Offices of the brokerage, versioned by content like users. */
export const offices = skyslopeEntity({
  name: "offices",
  listPath: "/api/offices",
  collectionKey: "value.offices",
  idField: "officeGuid",
  versioning: "contentHash",
  schema: officeSchema,
  coreTable: skyslopeOffices,
  columns: (o) => ({ name: o.officeName ?? null }),
});

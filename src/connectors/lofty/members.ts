import { z } from "zod";
import { loftyMembers } from "../../db/schema";
import { loftyEntity, loftyId, text } from "./records";

/** Team members (users): 25 a page by scrollId, no times published, so versioned by content. */
export const loftyMemberSchema = z.looseObject({
  id: loftyId,
  firstName: text,
  lastName: text,
  email: text,
  role: text,
  status: text,
});

export const members = loftyEntity({
  name: "members",
  listPath: "/v1.0/members",
  collectionKey: "members",
  idField: "id",
  schema: loftyMemberSchema,
  coreTable: loftyMembers,
  columns: (m) => ({
    first_name: m.firstName ?? null,
    last_name: m.lastName ?? null,
    email: m.email ?? null,
    role: m.role ?? null,
    active: m.status == null ? null : m.status.toLowerCase() === "active",
  }),
});

import { z } from "zod";
import { zhlDedicatedLoanOfficerMap, zhlLoanOfficers } from "../../db/schema";
import { text, zhlEntity, zhlId, zhlTimestamp } from "./records";

/** An NMLS id as the registry issues them: digits, no leading zero, at most 12 (the job checks it again). */
export const NMLS_ID = /^[1-9]\d{0,11}$/;

export const zhlLoanOfficerSchema = z.looseObject({
  id: zhlId,
  // Kept as sent, valid or not: a roster row with a bad NMLS id is stored, and the transfer job refuses it.
  nmlsId: z.union([z.string(), z.number().int()]).nullish(),
  firstName: text,
  lastName: text,
  email: text,
  status: text,
  territory: text,
  createdAt: zhlTimestamp.nullish(),
  updatedAt: zhlTimestamp.nullish(),
});
export type ZhlLoanOfficer = z.infer<typeof zhlLoanOfficerSchema>;

export const loanOfficers = zhlEntity({
  name: "loanOfficers",
  listPath: "/loan-officers",
  collectionKey: "loanOfficers",
  schema: zhlLoanOfficerSchema,
  coreTable: zhlLoanOfficers,
  columns: (o) => ({
    nmls_id: o.nmlsId == null ? null : String(o.nmlsId),
    first_name: o.firstName ?? null,
    last_name: o.lastName ?? null,
    email: o.email ?? null,
    status: o.status ?? null,
    territory: o.territory ?? null,
  }),
});

export const zhlTerritoryMapSchema = z.looseObject({
  id: zhlId,
  territory: text,
  accountRef: text,
  loanOfficerId: zhlId,
  role: z.enum(["PRIMARY", "FALLBACK"]),
  priority: z.number().int().nullish(),
  createdAt: zhlTimestamp.nullish(),
  updatedAt: zhlTimestamp.nullish(),
});
export type ZhlTerritoryMap = z.infer<typeof zhlTerritoryMapSchema>;

export const territoryMaps = zhlEntity({
  name: "territoryMaps",
  listPath: "/dedicated-loan-officer-maps",
  collectionKey: "maps",
  schema: zhlTerritoryMapSchema,
  coreTable: zhlDedicatedLoanOfficerMap,
  columns: (m) => ({
    territory: m.territory ?? null,
    account_ref: m.accountRef ?? null,
    loan_officer_id: m.loanOfficerId,
    role: m.role,
    priority: m.priority ?? null,
  }),
});

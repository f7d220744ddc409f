import { z } from "zod";
import { loftyLeads } from "../../db/schema";
import { idText, loftyEntity, loftyId, loftyNumber, loftyRef, loftyTime, numberOf, text } from "./records";
import { instantOf } from "./time";
import { contactDelete, leadToContact } from "./unified";

const tag = z.looseObject({ tagId: loftyRef, tagName: text, createTime: loftyTime, updateTime: loftyTime });

/** The documented lead record: plain-string emails and phones, paired ids and names, times in GMT form. */
export const loftyLeadSchema = z.looseObject({
  leadId: loftyId,
  leadUserId: loftyRef,
  firstName: text,
  lastName: text,
  emails: z.array(z.string()).nullish(),
  phones: z.array(z.string()).nullish(),
  leadSource: loftyNumber,
  source: text,
  stageId: loftyRef,
  stage: text,
  assignedUserId: loftyRef,
  assignedUser: text,
  lenderUserId: loftyRef,
  score: loftyNumber,
  tags: z.array(tag).nullish(),
  teamId: loftyRef,
  streetAddress: text,
  city: text,
  state: text,
  zipCode: text,
  createTime: loftyTime,
  assignTime: loftyTime,
  lastUpdateTime: loftyTime,
  lastTouch: loftyTime,
  lastVisit: loftyTime,
  leadTypes: z.array(z.number().int()).nullish(),
  pondId: loftyRef,
});
export type LoftyLead = z.infer<typeof loftyLeadSchema>;

const tagNames = (l: LoftyLead) =>
  (l.tags ?? []).map((t) => t.tagName).filter((n): n is string => typeof n === "string" && n !== "");

/** The lead path; its answer is wrapped under `lead` (documented, and observed). */
export const LEAD_PATH = "/v1.0/leads/{id}";

/**
 * Leads: the list is capped at 25 a page and pages on by `scrollId` only, newest first, with no updated
 * filter, so every run is a complete scan. Positions shift while it pages (a trashed lead moves everything
 * after it up), so a lead a scan did not see is fetched on its own before its absence deletes it.
 */
export const leads = loftyEntity({
  name: "leads",
  listPath: "/v1.0/leads",
  collectionKey: "leads",
  recordKey: "lead",
  idField: "leadId",
  schema: loftyLeadSchema,
  coreTable: loftyLeads,
  created: (l) => l.createTime,
  updated: (l) => l.lastUpdateTime,
  confirmAbsence: { path: LEAD_PATH },
  // A trashed lead takes its history, transactions and tasks out of every list, with no event of their own.
  cascades: [
    { entity: "notes", column: "lead_id" },
    { entity: "calls", column: "lead_id" },
    { entity: "activities", column: "lead_id" },
    { entity: "transactions", column: "lead_id" },
    { entity: "tasks", column: "lead_id" },
  ],
  columns: (l) => ({
    first_name: l.firstName ?? null,
    last_name: l.lastName ?? null,
    emails: l.emails ?? [],
    phones: l.phones ?? [],
    primary_email: l.emails?.[0] ?? null,
    primary_phone: l.phones?.[0] ?? null,
    source: l.source ?? null,
    stage_id: idText(l.stageId),
    stage: l.stage ?? null,
    assigned_user_id: idText(l.assignedUserId),
    assigned_user: l.assignedUser ?? null,
    lead_types: l.leadTypes ?? [],
    tags: tagNames(l),
    score: numberOf(l.score),
    street_address: l.streetAddress ?? null,
    city: l.city ?? null,
    state: l.state ?? null,
    zip_code: l.zipCode ?? null,
    pond_id: idText(l.pondId),
    last_touch_at: instantOf(l.lastTouch),
  }),
  more: (l, source) => [
    leadToContact(
      {
        id: idText(l.leadId) ?? "",
        created: l.createTime,
        updated: l.lastUpdateTime,
        firstName: l.firstName ?? null,
        lastName: l.lastName ?? null,
        email: l.emails?.[0] ?? null,
        phone: l.phones?.[0] ?? null,
        stage: l.stage ?? null,
        source: l.source ?? null,
        tags: tagNames(l),
        assignedUserId: idText(l.assignedUserId),
      },
      source,
    ),
  ],
  alsoDelete: (sourceId) => [contactDelete(sourceId)],
});

import { z } from "zod";
import { dotloopContacts, dotloopLoopParticipants } from "../../db/schema";
import { dotloopEntity, dotloopId, dotloopTimestamp, pathId, stampedParents, text } from "./records";
import { contactDelete, contactToContact, participantDelete, participantToContact } from "./unified";

export const dotloopContactSchema = z.looseObject({
  id: dotloopId,
  firstName: text,
  lastName: text,
  email: text,
  home: text,
  office: text,
  fax: text,
  address: text,
  city: text,
  zipCode: text,
  state: text,
  country: text,
  created: dotloopTimestamp.nullish(),
  updated: dotloopTimestamp.nullish(),
});
export type DotloopContact = z.infer<typeof dotloopContactSchema>;

/** The user's address book: batch paged, no published filter, so every run lists it whole. */
export const contacts = dotloopEntity({
  name: "contacts",
  listPath: "/contact",
  schema: dotloopContactSchema,
  coreTable: dotloopContacts,
  columns: (c) => ({
    first_name: c.firstName ?? null,
    last_name: c.lastName ?? null,
    email: c.email ?? null,
    home: c.home ?? null,
    office: c.office ?? null,
    fax: c.fax ?? null,
    address: c.address ?? null,
    city: c.city ?? null,
    state: c.state ?? null,
    zip_code: c.zipCode ?? null,
    country: c.country ?? null,
  }),
  more: (c, source) => [contactToContact(c, source)],
  alsoDelete: (sourceId) => [contactDelete(sourceId)],
});

/** Keys of a participant that are not display-label detail fields. */
const LIST_KEYS = new Set(["id", "fullName", "email", "role", "phone", "loopId", "profileId"]);

export const dotloopParticipantSchema = z.looseObject({
  id: dotloopId,
  fullName: text,
  email: text,
  role: text,
  phone: text,
  // The detail form adds display-label keys ("company name", "zip/postal code", "cell phone").
  "cell phone": text,
  ...stampedParents,
});
export type DotloopParticipant = z.infer<typeof dotloopParticipantSchema>;

/**
 * Whether a participant's toCore also writes its unified `contacts` row. Participants publish no update time,
 * so they are versioned by content; a unified table has no `raw`, so the upsert hashes its content columns.
 */
export const PARTICIPANTS_FEED_UNIFIED_CONTACTS = true;

/** A loop's participants: no times published, so versioned by content; deletes come as LOOP_PARTICIPANT_DELETED. */
export const participants = dotloopEntity({
  name: "participants",
  listPath: "/profile/{profileId}/loop/{loopId}/participant",
  parent: {
    entity: "loops",
    pathParam: "loopId",
    ancestors: { profileId: "profile_id" },
    stamp: { loopId: "loopId", profileId: "profileId" },
    // A participant change moves its loop's `updated` (no other event says so): changed loops are enough.
    deltaParents: "changed",
  },
  versioning: "contentHash",
  schema: dotloopParticipantSchema,
  coreTable: dotloopLoopParticipants,
  columns: (p, source) => {
    const fields = Object.fromEntries(Object.entries(p).filter(([k]) => !LIST_KEYS.has(k)));
    return {
      loop_id: pathId(source, "loopId", p),
      profile_id: pathId(source, "profileId", p),
      full_name: p.fullName ?? null,
      email: p.email ?? null,
      role: p.role ?? null,
      phone: p.phone ?? null,
      fields: Object.keys(fields).length > 0 ? fields : null,
    };
  },
  more: (p, source) => (PARTICIPANTS_FEED_UNIFIED_CONTACTS ? [participantToContact(p, source)] : []),
  // A delete reaches the unified row either way: harmless when there is none, right once there is.
  alsoDelete: (sourceId) => [participantDelete(sourceId)],
});

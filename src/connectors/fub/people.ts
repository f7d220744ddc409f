import { z } from "zod";
import { contacts, fubPeople } from "../../db/schema";
import { fubBase, fubEntity, fubFlag, fubRef, fubTimestamp, instantOrNull } from "./records";
import { fubPersonToContact } from "./unified";

const contactPoint = z.looseObject({
  value: z.string(),
  type: z.string().nullish(),
  isPrimary: fubFlag,
});

export const fubPersonSchema = z.looseObject({
  ...fubBase,
  name: z.string().nullish(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  stage: z.string().nullish(),
  stageId: fubRef,
  source: z.string().nullish(),
  assignedUserId: fubRef,
  price: z.number().nullish(),
  contacted: fubFlag,
  lastActivity: fubTimestamp.nullish(),
  tags: z.array(z.string()).nullish(),
  emails: z.array(contactPoint).nullish(),
  phones: z.array(contactPoint).nullish(),
});

export type FubPerson = z.infer<typeof fubPersonSchema>;

/** FUB's Trash is a stage; people in it are listed only with includeTrash=true. */
export const FUB_TRASH_STAGE = "Trash";

export function isTrashed(p: FubPerson): boolean {
  return p.stage === FUB_TRASH_STAGE;
}

function primary(points: FubPerson["emails"]): string | null {
  if (!points || points.length === 0) return null;
  return (points.find((x) => Boolean(x.isPrimary)) ?? points[0])?.value ?? null;
}

export const people = fubEntity({
  name: "people",
  schema: fubPersonSchema,
  coreTable: fubPeople,
  // Deleting a person in FUB deletes their calls, texts and events with no webhook for them.
  cascades: [
    { entity: "calls", column: "person_id" },
    { entity: "textMessages", column: "person_id" },
    { entity: "events", column: "person_id" },
  ],
  // Trashed people must be seen, or a person moved to Trash would stay live here forever.
  listParams: { includeTrash: "true" },
  columns: (p) => ({
    name: p.name ?? null,
    first_name: p.firstName ?? null,
    last_name: p.lastName ?? null,
    stage: p.stage ?? null,
    stage_id: p.stageId ?? null,
    source: p.source ?? null,
    assigned_user_id: p.assignedUserId ?? null,
    price: p.price ?? null,
    contacted: p.contacted == null ? null : Boolean(p.contacted),
    last_activity: instantOrNull(p.lastActivity),
    tags: p.tags ?? null,
    emails: p.emails ?? null,
    phones: p.phones ?? null,
    trashed: isTrashed(p),
    primary_email: primary(p.emails),
    primary_phone: primary(p.phones),
  }),
  // A trashed person is not live: deleted_at marks it so every "live rows" reader agrees with FUB's lists;
  // restoring it (a newer version out of Trash) clears deleted_at through the upsert's last-writer-wins.
  shared: (p) => (isTrashed(p) ? { deleted_at: instantOrNull(p.updated) } : {}),
  unified: (p, source) => {
    const contact = fubPersonToContact(p, source);
    if (isTrashed(p)) contact.row.deleted_at = instantOrNull(p.updated);
    return contact;
  },
  unifiedDelete: (sourceId) => ({ table: contacts, sourceId }),
});

import { z } from "zod";
import { opentocloseNotes, opentoclosePropertyContacts, opentocloseTasks } from "../../db/schema";
import { fieldOf } from "../define";
import { localDate } from "./local-time";
import { otcEntity, otcId, otcRef, PROPERTY_FIELD, text, underProperty } from "./records";

const personFields = {
  first_name: text,
  last_name: text,
  email: text,
  phone: text,
};

export const otcPropertyContactSchema = z.looseObject({
  contact: z.looseObject({ id: otcId, ...personFields }),
  contact_role: z.looseObject({ title: text }).nullish(),
  [PROPERTY_FIELD]: otcId,
});
export type OtcPropertyContact = z.infer<typeof otcPropertyContactSchema>;

const roleOf = (item: { contact_role?: { title?: string | null } | null }) => item.contact_role?.title ?? "";

/**
 * A property contact's key. The list item has no id of its own (`{contact, contact_role}`), so it is the
 * property, the contact and the role: the same person in two roles is two rows, and a role change is a delete
 * of the old pair and a new one.
 */
export function propertyContactKey(propertyId: string | number, contactId: string | number, role: string) {
  return `${propertyId}:${contactId}:${role}`;
}

function propertyContactIdOf(raw: unknown): string | null {
  const property = fieldOf(raw, PROPERTY_FIELD);
  const contactId = fieldOf(fieldOf(raw, "contact"), "id");
  const role = fieldOf(fieldOf(raw, "contact_role"), "title");
  const ok = (v: unknown) =>
    (typeof v === "number" && Number.isSafeInteger(v) && v > 0) ||
    (typeof v === "string" && /^[1-9]\d{0,15}$/.test(v));
  if (!ok(property) || !ok(contactId)) return null;
  return propertyContactKey(String(property), String(contactId), typeof role === "string" ? role : "");
}

/** A property's contacts with their roles: `GET /properties/{id}/contacts`, one list per property. */
export const propertyContacts = otcEntity({
  name: "propertyContacts",
  listPath: "/properties/{property_id}/contacts",
  parent: underProperty,
  schema: otcPropertyContactSchema,
  coreTable: opentoclosePropertyContacts,
  sourceIdOf: propertyContactIdOf,
  idOf: (c) => propertyContactKey(c[PROPERTY_FIELD], c.contact.id, roleOf(c)),
  columns: (c) => ({
    property_id: c[PROPERTY_FIELD],
    contact_id: c.contact.id,
    role: c.contact_role?.title ?? null,
    first_name: c.contact.first_name ?? null,
    last_name: c.contact.last_name ?? null,
    email: c.contact.email ?? null,
    phone: c.contact.phone ?? null,
  }),
});

// Notes and tasks: paths published, shapes not. Only an id is required; the rest is read where it is found.
export const otcNoteSchema = z.looseObject({
  id: otcId,
  title: text,
  content: text,
  [PROPERTY_FIELD]: otcRef,
});
export type OtcNote = z.infer<typeof otcNoteSchema>;

export const notes = otcEntity({
  name: "notes",
  listPath: "/properties/{property_id}/notes",
  parent: underProperty,
  schema: otcNoteSchema,
  coreTable: opentocloseNotes,
  columns: (n) => ({
    property_id: n[PROPERTY_FIELD] ?? null,
    title: n.title ?? null,
    content: n.content ?? null,
  }),
});

export const otcTaskSchema = z.looseObject({
  id: otcId,
  title: text,
  due_date: text,
  status: text,
  [PROPERTY_FIELD]: otcRef,
});
export type OtcTask = z.infer<typeof otcTaskSchema>;

export const tasks = otcEntity({
  name: "tasks",
  listPath: "/properties/{property_id}/tasks",
  parent: underProperty,
  schema: otcTaskSchema,
  coreTable: opentocloseTasks,
  columns: (t) => ({
    property_id: t[PROPERTY_FIELD] ?? null,
    title: t.title ?? null,
    due_date: localDate(t.due_date, null),
    status: t.status ?? null,
  }),
});

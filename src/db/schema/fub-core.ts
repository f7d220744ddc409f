import { boolean, integer, jsonb, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { coreColumns, tz } from "./columns";

/** Follow Up Boss core tables, named as in the system this platform replaces. */
export const fubPeople = pgTable(
  "fub_people",
  {
    ...coreColumns(),
    name: text("name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    stage: text("stage"),
    stageId: integer("stage_id"),
    source: text("source"),
    assignedUserId: integer("assigned_user_id"),
    price: numeric("price"),
    contacted: boolean("contacted"),
    lastActivity: tz("last_activity"),
    tags: jsonb("tags"),
    emails: jsonb("emails"),
    phones: jsonb("phones"),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] })],
);

import type { PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import { opentocloseAgents, opentocloseContacts, opentocloseTeams, opentocloseUsers } from "../../db/schema";
import { otcEntity, otcId, text } from "./records";

// Contacts, agents, users and teams: paths published (limit/offset, bare arrays), shapes not. Names, email and
// phone are read where a public client reads them; everything else stays in `raw`.

export const otcPersonSchema = z.looseObject({
  id: otcId,
  first_name: text,
  last_name: text,
  email: text,
  phone: text,
});
export type OtcPerson = z.infer<typeof otcPersonSchema>;

function personEntity(name: string, listPath: string, coreTable: PgTable) {
  return otcEntity({
    name,
    listPath,
    schema: otcPersonSchema,
    coreTable,
    columns: (p) => ({
      first_name: p.first_name ?? null,
      last_name: p.last_name ?? null,
      email: p.email ?? null,
      phone: p.phone ?? null,
    }),
  });
}

export const contacts = personEntity("contacts", "/contacts", opentocloseContacts);
export const agents = personEntity("agents", "/agents", opentocloseAgents);
export const users = personEntity("users", "/users", opentocloseUsers);

export const otcTeamSchema = z.looseObject({ id: otcId, name: text });
export type OtcTeam = z.infer<typeof otcTeamSchema>;

export const teams = otcEntity({
  name: "teams",
  listPath: "/teams",
  schema: otcTeamSchema,
  coreTable: opentocloseTeams,
  columns: (t) => ({ name: t.name ?? null }),
});

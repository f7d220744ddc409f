import { z } from "zod";
import { rezenAgents } from "../../db/schema";
import { yenta } from "./hosts";
import { epochMs, rezenEntity, rezenUuid, text } from "./records";

export const rezenAgentSchema = z.looseObject({
  id: rezenUuid,
  firstName: text,
  lastName: text,
  emailAddress: text,
  phoneNumber: text,
  status: text,
  country: text,
  accountCountry: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});
export type RezenAgent = z.infer<typeof rezenAgentSchema>;

/** The key's own agent (agent data): its id is the yentaId every per-participant list is asked for. */
export const agents = rezenEntity({
  name: "agents",
  listPath: yenta("/agents/me"),
  single: true,
  schema: rezenAgentSchema,
  coreTable: rezenAgents,
  columns: (a) => ({
    first_name: a.firstName ?? null,
    last_name: a.lastName ?? null,
    email_address: a.emailAddress ?? null,
    phone_number: a.phoneNumber ?? null,
    status: a.status ?? null,
    country: a.country ?? null,
    account_country: a.accountCountry ?? null,
  }),
});

/** Every child of the agent names it by this placeholder and stamped field. */
export const AGENT_PARENT = {
  entity: "agents",
  pathParam: "yentaId",
  stamp: { yentaId: "yentaId" },
} as const;

import { z } from "zod";
import { fubUsers } from "../../db/schema";
import { fubBase, fubEntity } from "./records";

export const fubUserSchema = z.looseObject({
  ...fubBase,
  name: z.string().nullish(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  role: z.string().nullish(),
  status: z.string().nullish(),
  timezone: z.string().nullish(),
});

export type FubUser = z.infer<typeof fubUserSchema>;

export const users = fubEntity({
  name: "users",
  schema: fubUserSchema,
  coreTable: fubUsers,
  columns: (u) => ({
    name: u.name ?? null,
    first_name: u.firstName ?? null,
    last_name: u.lastName ?? null,
    email: u.email ?? null,
    phone: u.phone ?? null,
    role: u.role ?? null,
    status: u.status ?? null,
    timezone: u.timezone ?? null,
  }),
});

import { z } from "zod";
import {
  rezenContributions,
  rezenEquity,
  rezenNetworkCap,
  rezenNetworkDownline,
  rezenNetworkFrontline,
  rezenNetworkSize,
  rezenTeamRoster,
} from "../../db/schema";
import { AGENT_PARENT } from "./agents";
import { arrakis, yenta } from "./hosts";
import {
  businessDate,
  dateOf,
  epochMs,
  money,
  moneyColumns,
  msToIso,
  num,
  rezenEntity,
  rezenUuid,
  text,
} from "./records";

const tierNumber = (v: string | number | null | undefined) => {
  const n = Number(v);
  return Number.isInteger(n) ? n : null;
};

export const rezenNetworkSizeSchema = z.looseObject({
  tier: z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d{0,2}$/)]),
  networkSize: z.number().int().nonnegative().nullish(),
  yentaId: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/** Network size per tier: the tiers the downline and the contributions are listed by. */
export const networkSize = rezenEntity({
  name: "networkSize",
  listPath: yenta("/agents/{yentaId}/network-size-by-tier"),
  parent: AGENT_PARENT,
  single: true,
  collectionKey: "tiers",
  idField: "tier",
  schema: rezenNetworkSizeSchema,
  coreTable: rezenNetworkSize,
  columns: (t) => ({
    yenta_id: t.yentaId ?? null,
    tier: tierNumber(t.tier),
    network_size: t.networkSize ?? null,
  }),
});

const TIER_PARENT = {
  entity: "networkSize",
  pathParam: "tier",
  ancestors: { yentaId: "yenta_id" },
} as const;

const agentFields = {
  id: rezenUuid,
  firstName: text,
  lastName: text,
  emailAddress: text,
  status: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
};

export const rezenDownlineSchema = z.looseObject({
  ...agentFields,
  sponsorId: text,
  tier: z.union([z.number(), z.string()]).nullish(),
  sponsorYentaId: text,
});

/**
 * Downline per tier. reZEN's only updated-since filter (`updatedAtFrom/To`) is date-granular and names no
 * removal, so each run lists every tier whole (versioned by content) and an agent gone from the downline is
 * deleted by absence.
 */
export const downline = rezenEntity({
  name: "downline",
  listPath: yenta("/agents/{yentaId}/down-line/{tier}"),
  parent: { ...TIER_PARENT, stamp: { sponsorYentaId: "yentaId", tier: "tier" } },
  collectionKey: "downLineAgents",
  schema: rezenDownlineSchema,
  coreTable: rezenNetworkDownline,
  columns: (a) => ({
    sponsor_yenta_id: a.sponsorYentaId ?? null,
    tier: tierNumber(a.tier),
    first_name: a.firstName ?? null,
    last_name: a.lastName ?? null,
    email_address: a.emailAddress ?? null,
    status: a.status ?? null,
    sponsor_id: a.sponsorId ?? null,
  }),
});

export const rezenFrontlineSchema = z.looseObject({
  ...agentFields,
  sizeOfNetwork: z.number().int().nonnegative().nullish(),
  yentaId: text,
});

export const frontline = rezenEntity({
  name: "frontline",
  listPath: yenta("/agents/{yentaId}/front-line-agents-info"),
  parent: AGENT_PARENT,
  single: true,
  collectionKey: "frontLineAgentInfos",
  schema: rezenFrontlineSchema,
  coreTable: rezenNetworkFrontline,
  columns: (a) => ({
    yenta_id: a.yentaId ?? null,
    first_name: a.firstName ?? null,
    last_name: a.lastName ?? null,
    email_address: a.emailAddress ?? null,
    status: a.status ?? null,
    size_of_network: a.sizeOfNetwork ?? null,
  }),
});

export const rezenCapSchema = z.looseObject({
  yentaId: z.string().min(1),
  capAmount: money,
  paidAmount: money,
  capStartDate: businessDate,
  capEndDate: businessDate,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/** The agent's cap progress: one record, keyed by the agent (stamped; the answer carries no id). */
export const networkCap = rezenEntity({
  name: "networkCap",
  listPath: yenta("/agents/{yentaId}/cap-info"),
  parent: AGENT_PARENT,
  single: true,
  idField: "yentaId",
  schema: rezenCapSchema,
  coreTable: rezenNetworkCap,
  columns: (c) => ({
    ...moneyColumns("cap", c.capAmount),
    ...moneyColumns("paid", c.paidAmount),
    cap_start_date: dateOf(c.capStartDate),
    cap_end_date: dateOf(c.capEndDate),
  }),
});

export const rezenEquitySchema = z.looseObject({
  yentaId: z.string().min(1),
  sharesOwned: num,
  equityPurchase: money,
  equityAward: money,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/** The agent's equity (per-agent endpoint a community-derived choice): one record keyed by the agent. */
export const equity = rezenEntity({
  name: "equity",
  listPath: yenta("/agents/{yentaId}/equity"),
  parent: AGENT_PARENT,
  single: true,
  idField: "yentaId",
  schema: rezenEquitySchema,
  coreTable: rezenEquity,
  columns: (e) => ({
    shares_owned: e.sharesOwned == null ? null : String(e.sharesOwned),
    ...moneyColumns("equity_purchase", e.equityPurchase),
    ...moneyColumns("equity_award", e.equityAward),
  }),
});

export const rezenContributionSchema = z.looseObject({
  id: rezenUuid,
  contributorYentaId: text,
  transactionId: text,
  amount: money,
  contributedAt: epochMs.nullish(),
  tier: z.union([z.number(), z.string()]).nullish(),
  yentaId: text,
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/** Revenue-share contributions per tier (arrakis /revshares/{yentaId}/contributions/{tier}). */
export const contributions = rezenEntity({
  name: "contributions",
  listPath: arrakis("/revshares/{yentaId}/contributions/{tier}"),
  parent: { ...TIER_PARENT, stamp: { yentaId: "yentaId", tier: "tier" } },
  collectionKey: "contributions",
  schema: rezenContributionSchema,
  coreTable: rezenContributions,
  columns: (c) => {
    const m = moneyColumns("amount", c.amount);
    return {
      yenta_id: c.yentaId ?? null,
      tier: tierNumber(c.tier),
      contributor_yenta_id: c.contributorYentaId ?? null,
      transaction_id: c.transactionId ?? null,
      amount: m.amount_amount,
      currency: m.amount_currency,
      contributed_at: msToIso(c.contributedAt),
    };
  },
});

export const rezenTeamSchema = z.looseObject({
  id: rezenUuid,
  name: text,
  status: text,
  members: z.array(z.looseObject({ agentId: text, roles: z.array(z.string()).nullish() })).nullish(),
  createdAt: epochMs.nullish(),
  updatedAt: epochMs.nullish(),
});

/** The teams the key's agent belongs to, with their members inline (team roster). */
export const teamRoster = rezenEntity({
  name: "teamRoster",
  listPath: yenta("/teams/my-teams"),
  collectionKey: "teams",
  schema: rezenTeamSchema,
  coreTable: rezenTeamRoster,
  columns: (t) => ({
    name: t.name ?? null,
    status: t.status ?? null,
    members: t.members ?? [],
    member_count: t.members?.length ?? 0,
  }),
});

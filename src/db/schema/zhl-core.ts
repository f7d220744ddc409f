import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { coreColumns, tz } from "./columns";

/**
 * Zillow Home Loans tables. Nothing about the ZHL API is public: the names and concepts are the seeds' own
 * (`ZhlLoanOfficer`, `ZhlDedicatedLoanOfficerMap`, `ZhlStatusChangelog`), the shapes are the seeds-derived
 * simulator's (docs/providers/zhl.md). Loan officers and territory maps are synced core rows (text ids);
 * transfers and the changelog are written by the transfer job, not by the sync.
 */
const live = sql`deleted_at is null`;

export const zhlLoanOfficers = pgTable(
  "zhl_loan_officers",
  {
    ...coreColumns("text"),
    /** NMLS id as sent (digits); validated again by the transfer job before an officer receives a contact. */
    nmlsId: text("nmls_id"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    /** `active`, `inactive` or `on_leave`: only `active` officers receive transfers. */
    status: text("status"),
    territory: text("territory"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zhl_loan_officers_territory_idx").on(t.accountId, t.connectionId, t.territory).where(live),
  ],
);

/** A territory (or account) assignment: which officer serves it, as primary or fallback, in priority order. */
export const zhlDedicatedLoanOfficerMap = pgTable(
  "zhl_dedicated_loan_officer_map",
  {
    ...coreColumns("text"),
    territory: text("territory"),
    /** The partner account the assignment is dedicated to, when it is not territory-wide. */
    accountRef: text("account_ref"),
    loanOfficerId: text("loan_officer_id"),
    /** `primary` or `fallback`. */
    role: text("role"),
    priority: integer("priority"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.sourceId] }),
    index("zhl_dlo_map_territory_idx").on(t.accountId, t.connectionId, t.territory).where(live),
  ],
);

/**
 * One row per transfer (a referral handed to a loan officer). `idempotency_key` is unique: a run that repeats,
 * or restarts after a crash, finds the row it claimed and never transfers the same referral twice. The same
 * key travels on the provider call (`Idempotency-Key`), so a call whose answer was lost is answered again, not
 * executed again. Status: claimed → transferring → transferred → notified; or `parked` once the bounded
 * attempts are spent, or `ineligible` when validation refuses it (both visible, neither retried by itself).
 */
export const zhlTransfers = pgTable(
  "zhl_transfers",
  {
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    referralId: text("referral_id").notNull(),
    territory: text("territory"),
    status: text("status").notNull(),
    /** The officer the current (or last) attempt targets, and whether it is the territory's fallback. */
    loanOfficerId: text("loan_officer_id"),
    fallback: integer("fallback").notNull().default(0),
    attempts: integer("attempts").notNull().default(0),
    providerTransferId: text("provider_transfer_id"),
    externalContactReference: text("external_contact_reference"),
    /** Why the last attempt failed, or why it is parked/ineligible (a reason code, never a payload). */
    lastError: text("last_error"),
    /** The job run that holds the row; a run that crashed leaves it, and the next run takes it over. */
    claimedBy: text("claimed_by"),
    claimedAt: tz("claimed_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.connectionId, t.referralId] }),
    uniqueIndex("zhl_transfers_idempotency_key").on(t.idempotencyKey),
    index("zhl_transfers_status_idx").on(t.accountId, t.connectionId, t.status),
  ],
);

/** The audit trail: every step of every transfer (and every status change the job saw), in order. */
export const zhlStatusChangelog = pgTable(
  "zhl_status_changelog",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    connectionId: text("connection_id").notNull(),
    referralId: text("referral_id"),
    loanOfficerId: text("loan_officer_id"),
    /** validated, assigned, transfer_attempt, transferred, fallback_assigned, notified, failed, parked, ineligible. */
    step: text("step").notNull(),
    fromStatus: text("from_status"),
    toStatus: text("to_status"),
    detail: jsonb("detail"),
    runId: text("run_id"),
    at: tz("at").notNull().defaultNow(),
  },
  (t) => [index("zhl_status_changelog_referral_idx").on(t.accountId, t.connectionId, t.referralId, t.at)],
);

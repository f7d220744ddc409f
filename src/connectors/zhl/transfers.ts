import { sql } from "drizzle-orm";
import { sanitizeError } from "../../core/safe-error";
import { holdableText, stringReason, toStorableJson } from "../../core/storable";
import type { Db } from "../../db/client";
import type { JobContext, JobResult } from "../types";
import { zhlId } from "./records";
import { NMLS_ID } from "./roster";

// The loan-officer transfer workflow, run every 30 minutes per connection (ConnectorSpec.jobs): each pending
// referral is validated (contact present, a mapped territory), routed to the territory's primary officer (or,
// when the primary is unavailable, has an invalid NMLS id or refuses, its fallback), transferred, notified and
// logged, every step in zhl_status_changelog. A referral is claimed in Postgres before any provider call, and
// every provider call carries an idempotency key derived from the claim, so a repeated or crashed run never
// transfers a referral twice. Retryable failures are bounded: after TRANSFER_MAX_ATTEMPTS the transfer is parked.
// Referrals are the provider's data and may hold anything: an id that is no ZHL id is parked under a storable
// rendering of it, a territory Postgres can't hold is refused, and an error no check foresaw costs an attempt of
// that referral only (the run goes on with the others), so no referral can fail every run of the job.

export const TRANSFER_MAX_ATTEMPTS = 5;
/** A claim older than this belongs to a run that is gone (crashed); the next run takes it over. */
export const TRANSFER_LEASE_MS = 10 * 60_000;
/** Referrals one run handles; the rest wait for the next run. */
export const TRANSFERS_PER_RUN = 200;
const PAGE_SIZE = 100;
/** What of a provider string the workflow's rows keep where the string only identifies or routes. */
const MAX_KEPT = 100;

export type TransferStatus = "claimed" | "transferred" | "notified" | "failed" | "parked" | "ineligible";
const UNFINISHED: TransferStatus[] = ["claimed", "failed", "transferred"];

type Referral = {
  id: string;
  status?: string;
  territory?: string | null;
  sender?: { name?: string | null; email?: string | null; phone?: string | null } | null;
};

type TransferRow = {
  referral_id: string;
  idempotency_key: string;
  status: TransferStatus;
  attempts: number;
  loan_officer_id: string | null;
  provider_transfer_id: string | null;
};

type Candidate = {
  loan_officer_id: string;
  role: string;
  nmls_id: string | null;
  status: string | null;
  present: boolean;
};

type Step = {
  step: string;
  referralId: string;
  officer?: string | null;
  from?: string | null;
  to?: string | null;
  detail?: Record<string, unknown>;
};

const isReferral = (v: unknown): v is Referral =>
  !!v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string";

const rowsOf = <T>(r: { rows: unknown[] }) => r.rows as T[];

/** One run of the workflow for one connection. */
export async function runTransfers(ctx: JobContext): Promise<JobResult> {
  const w = new Workflow(ctx);
  // Before the roster's first sync every territory would look unmapped and every referral be refused: wait.
  if (!(await w.rosterSynced())) return { items: 0, itemErrors: 0 };
  const pending = await w.pendingReferrals();
  const unfinished = await w.unfinishedIds();
  const byId = new Map(pending.map((r) => [r.id, r]));
  // Our own unfinished transfers first (a crash or a lost answer left them), then what the provider lists.
  const order = [...unfinished, ...pending.map((r) => r.id).filter((id) => !unfinished.includes(id))];
  let items = 0;
  let itemErrors = 0;
  for (const id of order.slice(0, TRANSFERS_PER_RUN)) {
    let outcome: Awaited<ReturnType<Workflow["process"]>>;
    try {
      if (!zhlId.safeParse(id).success) outcome = await w.refuseId(id);
      else outcome = await w.process(id, byId.get(id) ?? (await w.referral(id)));
    } catch (error) {
      // Recording it may fail too (Postgres is down): that fails the run, as any outage does.
      outcome = await w.unforeseen(id, error);
    }
    if (outcome === "skipped") continue;
    await w.release(id);
    items++;
    if (outcome === "failed" || outcome === "parked") itemErrors++;
  }
  return { items, itemErrors, parked: await w.parkedCount() };
}

class Workflow {
  constructor(private readonly ctx: JobContext) {}

  private scope = () => sql`account_id = ${this.ctx.accountId} and connection_id = ${this.ctx.connectionId}`;

  async parkedCount(): Promise<number> {
    const rows = await this.ctx.tenant(async (db) =>
      rowsOf<{ n: number }>(
        await db.execute(
          sql`select count(*)::int as n from zhl_transfers where ${this.scope()} and status = 'parked'`,
        ),
      ),
    );
    return rows[0]?.n ?? 0;
  }

  async rosterSynced(): Promise<boolean> {
    const rows = await this.ctx.tenant(async (db) =>
      rowsOf<{ n: number }>(
        await db.execute(sql`select count(*)::int as n from (select 1 from zhl_loan_officers
          where ${this.scope()} and deleted_at is null limit 1) x`),
      ),
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  /** The provider's pending referrals, page by page (bounded by what one run handles). */
  async pendingReferrals(): Promise<Referral[]> {
    const out: Referral[] = [];
    for (let page = 1; out.length < TRANSFERS_PER_RUN; page++) {
      const res = await this.ctx.call(`/referrals?status=PENDING&page=${page}&pageSize=${PAGE_SIZE}`);
      if (res.status !== 200) throw new Error(`referrals list answered ${res.status}`);
      const list = (res.body as { referrals?: unknown })?.referrals;
      if (!Array.isArray(list)) throw new Error("referrals list without a referrals array");
      out.push(...list.filter(isReferral));
      if (list.length < PAGE_SIZE) break;
    }
    return out;
  }

  async unfinishedIds(): Promise<string[]> {
    const rows = await this.ctx.tenant(async (db) =>
      rowsOf<{ referral_id: string }>(
        await db.execute(sql`select referral_id from zhl_transfers where ${this.scope()}
          and status = any(${`{${UNFINISHED.join(",")}}`}::text[]) order by created_at, referral_id`),
      ),
    );
    return rows.map((r) => r.referral_id);
  }

  /** One referral by id: null when the provider no longer has it; throws on anything else but 2xx. */
  async referral(id: string): Promise<Referral | null> {
    const res = await this.ctx.call(`/referrals/${encodeURIComponent(id)}`);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`referral answered ${res.status}`);
    const body = (res.body as { referral?: unknown })?.referral ?? res.body;
    return isReferral(body) ? body : null;
  }

  private key(referralId: string) {
    return `zhl:${this.ctx.connectionId}:${referralId}`;
  }

  private async log(db: Db, s: Step) {
    await db.execute(sql`insert into zhl_status_changelog
      (id, account_id, connection_id, referral_id, loan_officer_id, step, from_status, to_status, detail, run_id)
      values (${crypto.randomUUID()}, ${this.ctx.accountId}, ${this.ctx.connectionId}, ${s.referralId},
        ${s.officer ?? null}, ${s.step}, ${s.from ?? null}, ${s.to ?? null},
        ${s.detail ? toStorableJson(s.detail) : null}::jsonb, ${this.ctx.runId})`);
  }

  /**
   * A listed referral whose id is no ZHL id (NUL, a lone surrogate, a megabyte, a path) is never sent: it is
   * parked once, under a storable rendering of its id, where the status shows it.
   */
  async refuseId(id: string): Promise<"parked" | "skipped"> {
    const kept = holdableText(id, MAX_KEPT);
    return this.ctx.tenant(async (db) => {
      const rows = rowsOf<{ referral_id: string }>(
        await db.execute(sql`
          insert into zhl_transfers (account_id, connection_id, idempotency_key, referral_id, status, last_error)
          values (${this.ctx.accountId}, ${this.ctx.connectionId}, ${this.key(kept)}, ${kept}, 'parked',
            'referral_id_invalid')
          on conflict (account_id, connection_id, referral_id) do nothing
          returning referral_id`),
      );
      if (rows.length === 0) return "skipped";
      await this.log(db, {
        step: "parked",
        referralId: kept,
        to: "parked",
        detail: { error: "referral_id_invalid" },
      });
      return "parked";
    });
  }

  /**
   * An error no check foresaw while handling one referral: one attempt of its transfer (parked at the bound),
   * under the error's SQLSTATE or class, never its message (which may quote the provider's data).
   */
  async unforeseen(referralId: string, error: unknown): Promise<"failed" | "parked"> {
    const safe = sanitizeError(error);
    const name = error instanceof Error ? error.name.replace(/[^A-Za-z0-9_]/g, "").slice(0, 40) : "";
    const code = `internal_${safe.code ?? (name || "error")}`;
    const id = holdableText(referralId, MAX_KEPT);
    return this.ctx.tenant(async (db) => {
      const rows = rowsOf<{ status: TransferStatus }>(
        await db.execute(sql`
          insert into zhl_transfers (account_id, connection_id, idempotency_key, referral_id, status, attempts,
            last_error)
          values (${this.ctx.accountId}, ${this.ctx.connectionId}, ${this.key(id)}, ${id},
            ${TRANSFER_MAX_ATTEMPTS <= 1 ? "parked" : "failed"}, 1, ${code})
          on conflict (account_id, connection_id, referral_id) do update
            set attempts = zhl_transfers.attempts + 1, last_error = excluded.last_error, claimed_by = null,
              status = case when zhl_transfers.attempts + 1 >= ${TRANSFER_MAX_ATTEMPTS} then 'parked'
                            when zhl_transfers.status = 'transferred' then 'transferred' else 'failed' end,
              updated_at = now()
            where zhl_transfers.status = any(${`{${UNFINISHED.join(",")}}`}::text[])
          returning status`),
      );
      const to = rows[0]?.status ?? "parked";
      await this.log(db, {
        step: to === "parked" ? "parked" : "attempt_failed",
        referralId: id,
        to,
        detail: { error: code },
      });
      return to === "parked" ? "parked" : "failed";
    });
  }

  /** Records a step and moves the transfer's row in one transaction. */
  private async move(
    referralId: string,
    from: TransferStatus,
    to: TransferStatus,
    step: string,
    set: { officer?: string | null; fallback?: boolean; attempts?: number; error?: string | null } = {},
    extra: { transferId?: string | null; reference?: string | null; detail?: Record<string, unknown> } = {},
  ) {
    await this.ctx.tenant(async (db) => {
      await db.execute(sql`update zhl_transfers set status = ${to},
          loan_officer_id = coalesce(${set.officer ?? null}, loan_officer_id),
          fallback = case when ${set.fallback ?? null}::boolean is null then fallback
                          when ${set.fallback ?? false}::boolean then 1 else 0 end,
          attempts = coalesce(${set.attempts ?? null}::int, attempts),
          last_error = ${set.error ?? null},
          provider_transfer_id = coalesce(${extra.transferId ?? null}, provider_transfer_id),
          external_contact_reference = coalesce(${extra.reference ?? null}, external_contact_reference),
          updated_at = now()
        where ${this.scope()} and referral_id = ${referralId}`);
      await this.log(db, {
        step,
        referralId,
        officer: set.officer ?? null,
        from,
        to,
        ...(extra.detail || set.error
          ? { detail: { ...extra.detail, ...(set.error ? { error: set.error } : {}) } }
          : {}),
      });
    });
  }

  /** Lets the next run take the row at once: this run is done with it, whatever state it is left in. */
  async release(referralId: string) {
    await this.ctx.tenant((db) =>
      db.execute(sql`update zhl_transfers set claimed_by = null
        where ${this.scope()} and referral_id = ${holdableText(referralId, MAX_KEPT)}
          and claimed_by = ${this.ctx.runId}`),
    );
  }

  /**
   * Claims the referral's transfer row for this run: new, or unfinished and not held by a live run. Null when
   * it is done, parked, refused, or held by another run within its lease.
   */
  private async claim(referralId: string, territory: string | null): Promise<TransferRow | null> {
    const leaseStart = new Date(this.ctx.now() - TRANSFER_LEASE_MS).toISOString();
    const now = new Date(this.ctx.now()).toISOString();
    return this.ctx.tenant(async (db) => {
      const rows = rowsOf<TransferRow & { inserted: boolean; previous: string | null }>(
        await db.execute(sql`
          insert into zhl_transfers (account_id, connection_id, idempotency_key, referral_id, territory, status,
            claimed_by, claimed_at)
          values (${this.ctx.accountId}, ${this.ctx.connectionId}, ${this.key(referralId)}, ${referralId},
            ${territory}, 'claimed', ${this.ctx.runId}, ${now}::timestamptz)
          on conflict (account_id, connection_id, referral_id) do update
            set claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, updated_at = now()
            where zhl_transfers.status = any(${`{${UNFINISHED.join(",")}}`}::text[])
              and (zhl_transfers.claimed_by is null or zhl_transfers.claimed_by = excluded.claimed_by
                   or zhl_transfers.claimed_at < ${leaseStart}::timestamptz)
          returning referral_id, idempotency_key, status, attempts, loan_officer_id, provider_transfer_id,
            (xmax = 0) as inserted`),
      );
      const row = rows[0];
      if (!row) return null;
      await this.log(db, {
        step: row.inserted ? "claimed" : "reclaimed",
        referralId,
        from: row.inserted ? null : row.status,
        to: row.status,
      });
      return row;
    });
  }

  private async candidates(territory: string): Promise<Candidate[]> {
    return this.ctx.tenant(async (db) =>
      rowsOf<Candidate>(
        await db.execute(sql`
          select m.loan_officer_id, m.role, o.nmls_id, o.status, (o.source_id is not null) as present
          from zhl_dedicated_loan_officer_map m
          left join zhl_loan_officers o on o.account_id = m.account_id and o.connection_id = m.connection_id
            and o.source_id = m.loan_officer_id and o.deleted_at is null
          where m.account_id = ${this.ctx.accountId} and m.connection_id = ${this.ctx.connectionId}
            and m.deleted_at is null and m.territory = ${territory}
          order by case m.role when 'PRIMARY' then 0 else 1 end, m.priority nulls last, m.source_id`),
      ),
    );
  }

  /** Takes one referral as far as it goes in this run. */
  async process(
    referralId: string,
    referral: Referral | null,
  ): Promise<"skipped" | "done" | "failed" | "parked" | "ineligible"> {
    const territory = typeof referral?.territory === "string" ? referral.territory : null;
    const row = await this.claim(referralId, territory === null ? null : holdableText(territory, MAX_KEPT));
    if (!row) return "skipped";
    if (row.status === "transferred" && row.provider_transfer_id)
      return this.notify(row, row.provider_transfer_id, row.loan_officer_id);
    if (!referral) {
      await this.move(referralId, row.status, "parked", "parked", { error: "referral_gone" });
      return "parked";
    }
    const refusal = eligibility(referral);
    if (refusal) {
      await this.move(referralId, row.status, "ineligible", "ineligible", { error: refusal });
      return "ineligible";
    }
    const candidates = await this.candidates(territory as string);
    if (candidates.length === 0) {
      await this.move(referralId, row.status, "ineligible", "ineligible", { error: "territory_unmapped" });
      return "ineligible";
    }
    await this.move(referralId, row.status, row.status, "validated", {}, { detail: { territory } });
    let status = row.status;
    let primaryPassed = false;
    for (const c of candidates) {
      const fallback = c.role !== "PRIMARY";
      const unusable = !c.present
        ? "officer_unknown"
        : (c.status ?? "").toUpperCase() !== "ACTIVE"
          ? "officer_unavailable"
          : !NMLS_ID.test(c.nmls_id ?? "")
            ? "nmls_invalid"
            : null;
      if (unusable) {
        await this.move(
          referralId,
          status,
          status,
          "officer_skipped",
          { officer: c.loan_officer_id },
          {
            detail: { reason: unusable, role: c.role },
          },
        );
        if (!fallback) primaryPassed = true;
        continue;
      }
      if (fallback && primaryPassed)
        await this.move(referralId, status, status, "fallback_assigned", {
          officer: c.loan_officer_id,
          fallback: true,
        });
      else
        await this.move(referralId, status, status, "assigned", {
          officer: c.loan_officer_id,
          fallback,
        });
      const res = await this.ctx.call("/transfers", {
        method: "POST",
        headers: { "Idempotency-Key": `${row.idempotency_key}:${c.loan_officer_id}` },
        body: { referralId, loanOfficerId: c.loan_officer_id, nmlsId: c.nmls_id },
      });
      const body = (res.body ?? {}) as { transferId?: unknown; externalContactReference?: unknown };
      if ((res.status === 200 || res.status === 201) && typeof body.transferId === "string") {
        await this.move(
          referralId,
          status,
          "transferred",
          "transferred",
          { officer: c.loan_officer_id, fallback },
          {
            // The provider's strings as far as Postgres can hold them: they identify, they are not data.
            transferId: holdableText(body.transferId, MAX_KEPT),
            reference:
              typeof body.externalContactReference === "string"
                ? holdableText(body.externalContactReference, MAX_KEPT)
                : null,
            detail: { transferId: body.transferId, replayed: res.status === 200 },
          },
        );
        return this.notify(row, body.transferId, c.loan_officer_id);
      }
      if (res.status === 409 && errorCode(res.body) === "REFERRAL_ALREADY_TRANSFERRED") {
        // Transferred by someone else (not under our key, or the replay would have answered): nothing to retry.
        await this.move(referralId, status, "parked", "parked", {
          officer: c.loan_officer_id,
          error: "referral_already_transferred",
        });
        return "parked";
      }
      if (res.status === 409 || res.status === 422) {
        await this.move(
          referralId,
          status,
          status,
          "transfer_refused",
          { officer: c.loan_officer_id },
          {
            detail: { status: res.status, code: errorCode(res.body) },
          },
        );
        primaryPassed = true;
        continue;
      }
      return this.failAttempt(row, status, c.loan_officer_id, `transfer_http_${res.status}`, res.status);
    }
    status = "parked";
    await this.move(referralId, row.status, status, "parked", { error: "no_officer_accepted" });
    return "parked";
  }

  private async notify(
    row: TransferRow,
    transferId: string,
    officer: string | null,
  ): Promise<"done" | "failed" | "parked"> {
    const res = await this.ctx.call(`/transfers/${encodeURIComponent(transferId)}/notifications`, {
      method: "POST",
      headers: { "Idempotency-Key": `${row.idempotency_key}:notify` },
      body: { channel: "EMAIL" },
    });
    if (res.status >= 200 && res.status < 300) {
      await this.move(row.referral_id, "transferred", "notified", "notified", { officer });
      return "done";
    }
    return this.failAttempt(row, "transferred", officer, `notify_http_${res.status}`, res.status);
  }

  /**
   * A failure worth retrying (429, 5xx, network) counts an attempt; a refusal of another kind, or the last
   * attempt, parks the transfer where the status shows it.
   */
  private async failAttempt(
    row: TransferRow,
    from: TransferStatus,
    officer: string | null,
    error: string,
    status: number,
  ): Promise<"failed" | "parked"> {
    const attempts = row.attempts + 1;
    const retryable = status === 0 || status === 429 || status >= 500;
    const stay: TransferStatus = from === "transferred" ? "transferred" : "failed";
    const to: TransferStatus = retryable && attempts < TRANSFER_MAX_ATTEMPTS ? stay : "parked";
    await this.move(row.referral_id, from, to, to === "parked" ? "parked" : "attempt_failed", {
      officer,
      attempts,
      error,
    });
    return to === "parked" ? "parked" : "failed";
  }
}

/** Why a referral cannot be transferred, or null: a contact to hand over and a territory to route by. */
export function eligibility(r: Referral): string | null {
  const s = r.sender;
  const filled = (v: unknown) => typeof v === "string" && v.trim() !== "";
  if (!filled(s?.name) || !(filled(s?.email) || filled(s?.phone))) return "contact_missing";
  if (typeof r.territory !== "string" || !r.territory.trim()) return "territory_missing";
  // A territory Postgres can't hold matches no stored map (it would reach the query changed): never routed.
  if (stringReason(r.territory)) return "territory_invalid";
  return null;
}

function errorCode(body: unknown): string | null {
  const e = (body as { error?: { code?: unknown } } | null)?.error;
  return typeof e?.code === "string" ? e.code.slice(0, 64) : null;
}

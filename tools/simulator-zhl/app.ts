// ZHL simulator, SEEDS-DERIVED: Zillow Home Loans publishes no API (../shared/PROVIDERS-WAVE2.md §6), so every
// path, shape and rule here is a documented choice built from the seeds' own models (ZhlLoanOfficer,
// ZhlDedicatedLoanOfficerMap, ZhlStatusChangelog, the transfer workflow) and, for referrals, the public
// Zillow Mortgages lender-contact notification (`LC-` ids, ISO-8601 with an offset, an ack carrying
// `externalContactReference`). It proves the connector consistent with these choices, not with Zillow.
// A Hono app on web-standard APIs only (Node, Bun, Deno, workerd). README.md lists every choice.
//
// - auth: `Authorization: Bearer <partner API key>`; missing or unknown → 401 {error:{code,message}}.
// - lists: `?page=` (1-based) and `?pageSize=` (default 50, max 100, clamped), `{<items>, page, pageSize, total}`.
// - GET /v1/loan-officers, /v1/dedicated-loan-officer-maps, /v1/referrals[?status=PENDING], /v1/referrals/{id}.
// - POST /v1/transfers {referralId, loanOfficerId, nmlsId} needs `Idempotency-Key`: 201 on the first call, the
//   same body with 200 and `Idempotent-Replayed: true` on a repeat, 422 when the key comes with another body;
//   409 OFFICER_UNAVAILABLE (officer not ACTIVE, or set to refuse), 409 REFERRAL_ALREADY_TRANSFERRED,
//   422 NMLS_MISMATCH, 404 for an unknown referral or officer.
// - POST /v1/transfers/{id}/notifications with `Idempotency-Key`: 202, a repeat 200 (counted once).
// - fault knobs per account: next N requests 503, next N 429 (Retry-After: 1), next N transfers 503, next N
//   transfers executed and then answered 502 (the answer lost), and officers that refuse.

import { Hono } from "hono";
import { serialize } from "../lib/hostile";
import { Account, type AccountConfig, pacific, type Transfer, truthOf } from "./data";

export type {
  AccountConfig,
  HostileEntity,
  HostileMade,
  Officer,
  Referral,
  TerritoryMap,
  Transfer,
  Truth,
} from "./data";
export { Account, HOSTILE_FIELDS, TERRITORY_NAMES } from "./data";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export interface SimulatorOptions {
  now?: () => number;
  accounts?: Record<string, AccountConfig & { apiKey: string }>;
}

export interface Simulator {
  app: Hono;
  accounts: Map<string, Account>;
  /** Requests per account and path (without query). */
  requests: Map<string, Record<string, number>>;
  putAccount(name: string, apiKey: string, config?: AccountConfig): Account;
  account(name: string): Account;
  truth(name: string): ReturnType<typeof truthOf>;
  close(): Promise<void>;
}

/** Bodies may hold hostile structures (RawJson): written exactly as the provider would. */
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(serialize(body), { status, headers: { "Content-Type": "application/json", ...headers } });
const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  json({ error: { code, message } }, status, headers);

function page<T>(key: string, items: T[], url: URL): Response {
  const p = Number(url.searchParams.get("page") ?? 1);
  const size = Number(url.searchParams.get("pageSize") ?? DEFAULT_PAGE_SIZE);
  if (!Number.isInteger(p) || p < 1 || !Number.isInteger(size) || size < 1)
    return error(400, "BAD_PAGING", "page and pageSize must be positive integers");
  const n = Math.min(size, MAX_PAGE_SIZE);
  return json({ [key]: items.slice((p - 1) * n, p * n), page: p, pageSize: n, total: items.length });
}

const sorted = <T extends { id: string }>(m: Map<string, T>) =>
  [...m.values()].sort((a, b) => (a.id < b.id ? -1 : 1));

export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  const now = opts.now ?? (() => Date.now());
  const accounts = new Map<string, Account>();
  const byKey = new Map<string, Account>();
  const requests = new Map<string, Record<string, number>>();
  const app = new Hono();

  const putAccount = (name: string, apiKey: string, config: AccountConfig = {}) => {
    const a = new Account(name, apiKey, now, config);
    accounts.set(name, a);
    byKey.set(apiKey, a);
    return a;
  };
  for (const [name, c] of Object.entries(opts.accounts ?? {})) putAccount(name, c.apiKey, c);

  app.use("/v1/*", async (c, next) => {
    const auth = c.req.header("authorization") ?? "";
    const m = /^Bearer (.+)$/.exec(auth);
    const account = m ? byKey.get(m[1] as string) : undefined;
    if (!account) return error(401, "UNAUTHORIZED", "a valid partner API key is required (Bearer)");
    const path = new URL(c.req.url).pathname;
    const counts = requests.get(account.name) ?? {};
    counts[`${c.req.method} ${path}`] = (counts[`${c.req.method} ${path}`] ?? 0) + 1;
    requests.set(account.name, counts);
    if (account.faults.fail429 > 0) {
      account.faults.fail429--;
      return error(429, "RATE_LIMITED", "too many requests", { "Retry-After": "1" });
    }
    if (account.faults.fail5xx > 0) {
      account.faults.fail5xx--;
      return error(503, "UNAVAILABLE", "service unavailable");
    }
    c.set("account" as never, account as never);
    await next();
  });
  const acct = (c: { get(k: never): unknown }) => c.get("account" as never) as Account;

  app.get("/v1/loan-officers", (c) => page("loanOfficers", sorted(acct(c).officers), new URL(c.req.url)));
  app.get("/v1/dedicated-loan-officer-maps", (c) => page("maps", sorted(acct(c).maps), new URL(c.req.url)));
  app.get("/v1/referrals", (c) => {
    const url = new URL(c.req.url);
    const status = url.searchParams.get("status");
    const list = sorted(acct(c).referrals).filter((r) => !status || r.status === status);
    return page("referrals", list, url);
  });
  app.get("/v1/referrals/:id", (c) => {
    const r = acct(c).referrals.get(c.req.param("id"));
    return r ? json({ referral: r }) : error(404, "NOT_FOUND", "no such referral");
  });

  app.post("/v1/transfers", async (c) => {
    const a = acct(c);
    const key = c.req.header("idempotency-key");
    if (!key) return error(400, "IDEMPOTENCY_KEY_REQUIRED", "Idempotency-Key header is required");
    let body: { referralId?: unknown; loanOfficerId?: unknown; nmlsId?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return error(400, "BAD_JSON", "body is not JSON");
    }
    if (a.faults.failTransfers > 0) {
      a.faults.failTransfers--;
      return error(503, "UNAVAILABLE", "transfers unavailable");
    }
    const seen = a.transferKeys.get(key);
    if (seen) {
      if (seen.referralId !== body.referralId || seen.loanOfficerId !== body.loanOfficerId)
        return error(422, "IDEMPOTENCY_KEY_REUSED", "this key was used with another request");
      return json(seen.transfer, 200, { "Idempotent-Replayed": "true" });
    }
    const referral = typeof body.referralId === "string" ? a.referrals.get(body.referralId) : undefined;
    if (!referral) return error(404, "REFERRAL_NOT_FOUND", "no such referral");
    const officer = typeof body.loanOfficerId === "string" ? a.officers.get(body.loanOfficerId) : undefined;
    if (!officer) return error(404, "OFFICER_NOT_FOUND", "no such loan officer");
    if (String(body.nmlsId ?? "") !== officer.nmlsId)
      return error(422, "NMLS_MISMATCH", "nmlsId does not match the loan officer");
    if (referral.status !== "PENDING")
      return error(409, "REFERRAL_ALREADY_TRANSFERRED", "the referral was transferred already");
    if (officer.status !== "ACTIVE" || a.refusing.has(officer.id))
      return error(409, "OFFICER_UNAVAILABLE", "the loan officer does not accept transfers");
    const transfer: Transfer = {
      transferId: a.nextId("TR"),
      referralId: referral.id,
      loanOfficerId: officer.id,
      nmlsId: officer.nmlsId,
      status: "TRANSFERRED",
      created: pacific(now()),
      externalContactReference: a.nextId("ZHL"),
      applicationURL: `https://www.zillow.com/homeloans/apply/${referral.id}`,
    };
    referral.status = "TRANSFERRED";
    referral.recipient = { loanOfficerId: officer.id };
    a.transfers.set(transfer.transferId, transfer);
    a.transferKeys.set(key, { referralId: referral.id, loanOfficerId: officer.id, transfer });
    a.executions.set(referral.id, (a.executions.get(referral.id) ?? 0) + 1);
    if (a.faults.loseAnswers > 0) {
      a.faults.loseAnswers--;
      return error(502, "BAD_GATEWAY", "upstream answer lost");
    }
    return json(transfer, 201);
  });

  app.post("/v1/transfers/:id/notifications", (c) => {
    const a = acct(c);
    const key = c.req.header("idempotency-key");
    if (!key) return error(400, "IDEMPOTENCY_KEY_REQUIRED", "Idempotency-Key header is required");
    const transfer = a.transfers.get(c.req.param("id"));
    if (!transfer) return error(404, "TRANSFER_NOT_FOUND", "no such transfer");
    const seen = a.notificationKeys.get(key);
    if (seen) return json(seen, 200, { "Idempotent-Replayed": "true" });
    const sent = { transferId: transfer.transferId, notificationId: a.nextId("NT") };
    a.notificationKeys.set(key, sent);
    a.notifications.set(transfer.transferId, (a.notifications.get(transfer.transferId) ?? 0) + 1);
    return json(sent, 202);
  });

  app.get("/_sim/truth/:account", (c) => {
    const a = accounts.get(c.req.param("account"));
    return a ? json(truthOf(a)) : error(404, "NOT_FOUND", "no such account");
  });

  return {
    app,
    accounts,
    requests,
    putAccount,
    account(name) {
      const a = accounts.get(name);
      if (!a) throw new Error(`no simulator account ${name}`);
      return a;
    },
    truth(name) {
      const a = accounts.get(name);
      if (!a) throw new Error(`no simulator account ${name}`);
      return truthOf(a);
    },
    async close() {},
  };
}

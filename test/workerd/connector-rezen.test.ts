import { describe, expect, it } from "vitest";
import apiError from "../../../shared/fixtures/rezen/error.apierror.json";
import { connectorFor, webhookOnlySchemes } from "../../src/connectors/registry";
import { rezen } from "../../src/connectors/rezen";
import { contributions, downline } from "../../src/connectors/rezen/network";
import { rezenTotals, transactions } from "../../src/connectors/rezen/transactions";
import { resolveRezenWebhook } from "../../src/connectors/rezen/webhooks";
import { rezenContributions as contributionsTable, rezenTransactions } from "../../src/db/schema";
import { listings, transactions as unifiedTransactions } from "../../src/db/schema/unified";
import { subscriptionContext } from "../../src/oauth/subscriptions";

const source = { accountId: "acc_rz", connectionId: "con_rz" };
const ID = "3f2b8c1e-9a7d-4e21-b0c4-5d6e7f8a9b0c";
const ME = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const detail = (patch: Record<string, unknown> = {}) => ({
  id: ID.toUpperCase(),
  code: "T-1",
  transactionType: "SALE",
  listing: false,
  lifecycleState: { state: "TERMINATED" },
  address: { oneLine: "1 Main St, Austin, TX 78701", city: "Austin", state: "TX", zipCode: "78701" },
  price: { amount: 450000.5, currency: "CAD" },
  grossCommission: { amount: 13515, currency: "CAD" },
  myNetPayout: 9000,
  participants: [{ participantRole: "BUYER", external: true }],
  contractAcceptanceDate: "2026-10-01",
  closingDateEstimated: 1793577600000,
  createdAt: 1790000000000,
  updatedAt: 1790000123456,
  ...patch,
});

describe("reZEN connector", () => {
  it("is registered, out of the webhook-only list, X-API-KEY only, one rate context per host", () => {
    expect(connectorFor("rezen")).toBe(rezen);
    expect(Object.keys(webhookOnlySchemes())).not.toContain("rezen");
    expect(rezen.authHeaders({ apiKey: "k" })).toEqual({ "X-API-KEY": "k" });
    const policy = rezen.rateLimit({ apiKey: "k" });
    expect(policy.contexts?.map((c) => [c.name, c.pathPrefix])).toEqual([
      ["arrakis", "/arrakis/api/v1"],
      ["yenta", "/yenta/api/v1"],
    ]);
    expect(policy.scope).toEqual({ credential: "apiKey" });
    expect(apiError).toEqual({ "com.real.commons.apierror.ApiError": { message: "Not authorized." } });
  });

  it("sends each service's requests to its own host on the default base, and as they are elsewhere", () => {
    const creds = { apiKey: "k" };
    expect(rezen.sendUrl(`${rezen.defaultBaseUrl}/arrakis/api/v1/transactions/x?pageNumber=0`, creds)).toBe(
      "https://arrakis.therealbrokerage.com/api/v1/transactions/x?pageNumber=0",
    );
    expect(rezen.sendUrl(`${rezen.defaultBaseUrl}/yenta/api/v1/agents/me`, creds)).toBe(
      "https://yenta.therealbrokerage.com/api/v1/agents/me",
    );
    // A simulator (or an egress) serves the prefixes itself; a path no service claims is not sent anywhere real.
    expect(rezen.sendUrl("http://127.0.0.1:9/arrakis/api/v1/transactions/x", creds)).toBe(
      "http://127.0.0.1:9/arrakis/api/v1/transactions/x",
    );
    expect(rezen.sendUrl(`${rezen.defaultBaseUrl}/elsewhere/x`, creds)).toBe(
      `${rezen.defaultBaseUrl}/elsewhere/x`,
    );
  });

  it("registers its webhook on the service's own host when the connection uses the production hosts", async () => {
    const sent: string[] = [];
    const ctx = subscriptionContext({
      fetch: async (input) => {
        sent.push(String(input));
        return new Response(JSON.stringify({ id: "3f1c2a9e-0000-4000-8000-000000000001" }), { status: 201 });
      },
      sendUrl: (u) => rezen.sendUrl(u, { apiKey: "k" }),
      baseUrl: rezen.defaultBaseUrl,
      accessToken: "",
      headers: rezen.authHeaders({ apiKey: "k" }),
      credentials: { apiKey: "k" },
      webhookUrl: "https://etl.example/webhooks/rezen/c1",
    });
    await ctx.call("/arrakis/api/v1/webhooks", { method: "POST", body: { url: "x" } });
    expect(sent).toEqual(["https://arrakis.therealbrokerage.com/api/v1/webhooks"]);
  });

  it("pages from 0 with pageNumber/pageSize, per lifecycle group, newest change first", () => {
    const entity = rezen.entities.transactionList;
    if (!entity) throw new Error("no transactionList");
    const url = new URL(
      rezen.firstPageUrl({
        baseUrl: "http://sim.test",
        entity,
        mode: "delta",
        since: null,
        parentId: "OPEN",
        parentParams: { yentaId: ME },
      }),
    );
    expect(url.pathname).toBe(`/arrakis/api/v1/transactions/participant/${ME}/transactions/OPEN`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      pageNumber: "0",
      pageSize: "20",
      sortBy: "UPDATED_AT",
      sortDirection: "DESC",
    });
    const full = rezen.parsePage(
      { transactions: Array.from({ length: 20 }, (_, i) => ({ id: String(i) })), hasNext: true },
      entity,
      url.toString(),
    );
    expect(new URL(full.nextUrl ?? "").searchParams.get("pageNumber")).toBe("1");
    const last = rezen.parsePage({ transactions: [{ id: "x" }], hasNext: false }, entity, url.toString());
    expect(last.nextUrl).toBeNull();
  });

  it("maps a detail: money as amount + currency, epoch ms as instants, zipCode, TERMINATED stays live", () => {
    const parsed = transactions.schema.parse(detail());
    const [own, unified] = transactions.toCore(parsed, source);
    expect(own?.table).toBe(rezenTransactions);
    expect(own?.row).toMatchObject({
      source_id: ID,
      source_updated_at: "2026-09-21T14:15:23.456Z",
      price_amount: "450000.5",
      price_currency: "CAD",
      my_net_payout_amount: "9000",
      my_net_payout_currency: null,
      zip: "78701",
      lifecycle_state: "TERMINATED",
      deleted_at: null,
      contract_acceptance_date: "2026-10-01",
      closing_date_estimated: "2026-11-02",
    });
    expect(unified?.table).toBe(unifiedTransactions);
    expect(unified?.row).toMatchObject({
      source_id: ID,
      status: "TERMINATED",
      price: "450000.5",
      provider: "rezen",
    });
    const zip = transactions.schema.parse(detail({ address: { city: "Boise", zip: "83702" } }));
    expect(transactions.toCore(zip, source)[0]?.row.zip).toBe("83702");
  });

  it("refuses non-UUID ids, a detail without updatedAt, and seconds-or-ISO times", () => {
    expect(transactions.schema.safeParse(detail({ id: "12345" })).success).toBe(false);
    expect(transactions.schema.safeParse(detail({ updatedAt: undefined })).success).toBe(false);
    expect(transactions.schema.safeParse(detail({ updatedAt: "2026-01-01T00:00:00Z" })).success).toBe(false);
    expect(transactions.schema.safeParse(detail({ updatedAt: 1.5 })).success).toBe(false);
    expect(transactions.cursorOf(detail())).toEqual({ updated: "2026-09-21T14:15:23.456Z", id: ID });
  });

  it("stamps the tier and the sponsor on network rows; contributions keep amount + currency", () => {
    const agent = downline.schema.parse({
      id: ME,
      firstName: "Ana",
      status: "ACTIVE",
      tier: "2",
      sponsorYentaId: ID,
    });
    expect(downline.toCore(agent, source)[0]?.row).toMatchObject({
      tier: 2,
      sponsor_yenta_id: ID,
      status: "ACTIVE",
    });
    const c = contributions.schema.parse({
      id: ID,
      amount: { amount: 12.5, currency: "USD" },
      contributedAt: 1790000000000,
      tier: "1",
    });
    const [row] = contributions.toCore(c, source);
    expect(row?.table).toBe(contributionsTable);
    expect(row?.row).toMatchObject({
      amount: "12.5",
      currency: "USD",
      tier: 1,
      contributed_at: "2026-09-21T14:13:20.000Z",
    });
    expect(rezen.entities.listings?.deleteTargets(ID).map((t) => t.table)).toContain(listings);
  });

  it("resolves a Standard Webhooks event to a detail fetch at the record's own URL; others to nothing", () => {
    const r = resolveRezenWebhook({
      type: "TRANSACTION_TERMINATED",
      timestamp: "2026-11-30T10:00:00Z",
      data: { id: ID },
    });
    expect(r).toMatchObject({
      entity: "transactions",
      ids: [ID],
      deleted: false,
      records: [{ id: ID, path: `/arrakis/api/v1/transactions/${ID}` }],
    });
    expect(resolveRezenWebhook({ type: "AGENT_UPDATED", data: { id: ID } })).toBeNull();
    expect(() => resolveRezenWebhook({ type: "TRANSACTION_UPDATED", data: { id: "../x" } })).toThrow();
    expect(() => resolveRezenWebhook("nope")).toThrow();
  });

  it("counts transactions per participant from the stored yentaId: the transaction groups summed", () => {
    const list = rezen.entities.transactionList;
    const agents = rezen.entities.agents;
    if (!list || !agents) throw new Error("entities missing");
    const url = rezenTotals.url({ baseUrl: "http://sim.test/", entity: list, credentials: { yentaId: ME } });
    expect(url).toBe(`http://sim.test/arrakis/api/v1/transactions/participant/${ME}/lifecycle-group-counts`);
    expect(rezenTotals.url({ baseUrl: "http://sim.test", entity: list, credentials: {} })).toBeNull();
    expect(
      rezenTotals.url({ baseUrl: "http://sim.test", entity: agents, credentials: { yentaId: ME } }),
    ).toBeNull();
    const body = {
      lifecycleGroupCounts: [
        { lifecycleGroup: "OPEN", count: 3 },
        { lifecycleGroup: "CLOSED", count: 4 },
        { lifecycleGroup: "TERMINATED", count: 1 },
        { lifecycleGroup: "LISTING_ACTIVE", count: 9 },
      ],
    };
    expect(rezenTotals.of(body, list, url ?? "")).toBe(8);
    expect(rezenTotals.of({}, list, url ?? "")).toBeNull();
  });
});

// Zillow's hostile records, served by its seeds-derived simulator (as the webhooks' fetch by ids reads them),
// through staging and the transform for agents and contact sync events (whose contact feeds the unified
// contacts and activities): what Postgres can hold lands whole, the rest is parked with its reason, page-mates
// land, nothing retries.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { BIGNUM_EXACT, HOSTILE_RECORD_KINDS } from "../../tools/lib/hostile";
import { createSimulator } from "../../tools/simulator-zillow/app";
import { rows } from "../support/db";
import { expectFaithful, pageBody, stageAndTransform, storedRaws } from "../support/hostile";

const BASE = "http://zillow.test";
const CLIENT = { id: "hostile-client", secret: "hostile-secret" };

async function connected() {
  const sim = createSimulator({
    seed: 9,
    counts: { teams: 2, agents: 10, events: 10 },
    clients: { [CLIENT.id]: CLIENT.secret },
  });
  const redirect = "http://cb.test/";
  const auth = await sim.app.request(
    `${BASE}/oauth/authorize?response_type=code&client_id=${CLIENT.id}&redirect_uri=${encodeURIComponent(redirect)}`,
  );
  const code = new URL(auth.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const token = await sim.app.request(`${BASE}/oauth/token`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${CLIENT.id}:${CLIENT.secret}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirect }).toString(),
  });
  const { access_token } = (await token.json()) as { access_token: string };
  const byIds = async (path: string, ids: string[]) =>
    (
      (await pageBody(
        await sim.app.request(`${BASE}${path}?ids=${ids.join(",")}&pageSize=100`, {
          headers: { Authorization: `Bearer ${access_token}` },
        }),
      )) as { data: { id: string }[] }
    ).data;
  return { sim, byIds };
}

describe("Zillow hostile records from the simulator", () => {
  it("agents: every kind stored whole or parked with its reason, page-mates land", async () => {
    const { sim, byIds } = await connected();
    const { hostile: made } = await sim.mutate({ hostileAgents: true });
    expect(made.map((m) => m.kind)).toEqual([...HOSTILE_RECORD_KINDS]);
    const clean = ["ZU000002", "ZU000003"];
    const records = await byIds("/v1/agents", [...clean, ...made.map((m) => m.id)]);
    expect(records).toHaveLength(clean.length + made.length);
    const result = await stageAndTransform("zillow", "agents", records);
    const stored = await storedRaws("zillow_agents", result.accountId);
    expectFaithful(made, new Map(records.map((r) => [r.id, r])), result, stored);
    for (const id of clean) expect(stored.has(id)).toBe(true);
    expect(result.failed.size).toBe(2);
    const long = made.find((m) => m.kind === "long")?.id;
    const [name] = await rows<{ len: number }>(sql`select length(name) as len from zillow_agents
      where account_id = ${result.accountId} and source_id = ${long}`);
    expect(name?.len).toBeGreaterThan(800_000);
  });

  it("contact sync events: every kind stored whole (contact and activity too) or parked with its reason", async () => {
    const { sim, byIds } = await connected();
    const { hostile: made } = await sim.mutate({ hostileEvents: true });
    const clean = ["ZE000001", "ZE000002"];
    const records = await byIds("/v1/contact-sync-events", [...clean, ...made.map((m) => m.id)]);
    const result = await stageAndTransform("zillow", "contactSyncEvents", records);
    const stored = await storedRaws("zillow_contact_sync_events", result.accountId);
    expectFaithful(made, new Map(records.map((r) => [r.id, r])), result, stored);
    for (const id of clean) expect(stored.has(id)).toBe(true);
    // The unified contact of every stored event, with the hostile last name as served.
    const contacts = await rows<{ id: string; last: string }>(sql`select source_id as id, last_name as last
      from contacts where account_id = ${result.accountId} and provider = 'zillow'`);
    const events = records as unknown as { id: string; contact: { id: string; lastName: string } }[];
    const served = new Map(events.map((e) => [e.contact.id, e]));
    expect(contacts.length).toBe(stored.size);
    for (const c of contacts) expect(c.last).toBe(served.get(c.id)?.contact.lastName);
    const bignum = made.find((m) => m.kind === "bignum")?.id;
    expect((stored.get(bignum as string) as Record<string, unknown>).extraNumbers).toEqual(BIGNUM_EXACT);
  });
});

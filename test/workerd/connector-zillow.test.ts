import { describe, expect, it } from "vitest";
import type { EntityDef } from "../../src/connectors/types";
import { zillow } from "../../src/connectors/zillow";
import { signZillow, zillowWebhookScheme } from "../../src/connectors/zillow/signature";
import { resolveZillowWebhook } from "../../src/connectors/zillow/webhooks";
import { parseJsonExact } from "../../src/core/exact-json";
import { createSimulator } from "../../tools/simulator-zillow/app";
import { signWebhook } from "../../tools/simulator-zillow/signature";

// The Zillow connector against its seeds-derived simulator in-process (pages parsed as the engine parses them),
// and its webhook scheme against the simulator's own signing, written apart from the connector's.
const BASE = "http://zillow.test";
const CLIENT = { id: "wk-client", secret: "wk-secret" };
const entity = (name: string) => zillow.entities[name] as EntityDef;
const source = { accountId: "acc", connectionId: "con" };

async function connected() {
  const s = createSimulator({
    seed: 3,
    counts: { teams: 4, agents: 230, events: 120 },
    clients: { [CLIENT.id]: CLIENT.secret },
  });
  const auth = await s.app.request(
    `${BASE}/oauth/authorize?response_type=code&client_id=${CLIENT.id}&redirect_uri=${encodeURIComponent("http://cb.test/")}`,
  );
  const code = new URL(auth.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const token = await s.app.request(`${BASE}/oauth/token`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${CLIENT.id}:${CLIENT.secret}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: "http://cb.test/",
    }).toString(),
  });
  const { access_token } = (await token.json()) as { access_token: string };
  const get = async (url: string) => {
    const res = await s.app.request(url, { headers: { Authorization: `Bearer ${access_token}` } });
    expect(res.status, url).toBe(200);
    return parseJsonExact(await res.text());
  };
  return { s, get };
}

async function crawl(get: (url: string) => Promise<unknown>, name: string, since: string | null = null) {
  const e = entity(name);
  let url: string | null = zillow.firstPageUrl({
    baseUrl: BASE,
    entity: e,
    mode: since ? "delta" : "onboarding",
    since,
  });
  const records: unknown[] = [];
  const urls: string[] = [];
  while (url && urls.length < 20) {
    urls.push(url);
    const page = zillow.parsePage(await get(url), e, url);
    records.push(...page.records);
    url = page.nextUrl;
  }
  return { records, urls };
}

describe("Zillow connector against the seeds-derived simulator", () => {
  it("pages every list to its short last page; every record validates and maps (soft deletes with deleted_at)", async () => {
    const { s, get } = await connected();
    const truth = s.truth();
    const agents = await crawl(get, "agents");
    expect(agents.urls).toHaveLength(3);
    expect(agents.records).toHaveLength(230);
    const rows = agents.records.map(
      (r) => entity("agents").toCore(entity("agents").schema.parse(r), source)[0]?.row,
    );
    expect(rows.filter((r) => r?.deleted_at !== null)).toHaveLength(
      truth.agents.filter((a) => a.deleted).length,
    );
    expect(
      rows.every(
        (r) => typeof r?.source_updated_at === "string" && String(r.source_updated_at).endsWith("Z"),
      ),
    ).toBe(true);
    for (const name of ["teams", "syncUsers", "contactSyncEvents"]) {
      const { records } = await crawl(get, name);
      expect(records.length, name).toBe(
        {
          teams: truth.teams.length,
          syncUsers: truth.syncUsers.length,
          contactSyncEvents: truth.events.length,
        }[name],
      );
      for (const r of records) expect(entity(name).schema.safeParse(r).success, name).toBe(true);
    }
    const me = await crawl(get, "auth");
    expect(me.records).toHaveLength(1);
    const authRow = entity("auth").toCore(entity("auth").schema.parse(me.records[0]), source)[0]?.row;
    expect(authRow).toMatchObject({ source_id: s.data.ownerZuid, zuid: s.data.ownerZuid, auth_state: null });
  });

  it("a contact sync event feeds the unified contact and activity", async () => {
    const { get } = await connected();
    const { records } = await crawl(get, "contactSyncEvents");
    const writes = entity("contactSyncEvents").toCore(
      entity("contactSyncEvents").schema.parse(records[0]),
      source,
    );
    expect(writes.map((w) => (w.row as { source_id: string }).source_id)).toEqual([
      (records[0] as { id: string }).id,
      (records[0] as { contact: { id: string } }).contact.id,
      (records[0] as { id: string }).id,
    ]);
    expect(writes[1]?.row).toMatchObject({ provider: "zillow", lead_source: "Zillow" });
  });

  it("a delta asks updatedSince sorted by updatedAt and gets only what changed since", async () => {
    const { s, get } = await connected();
    const since = new Date(Date.now() - 1000).toISOString();
    const before = await crawl(get, "agents", since);
    expect(before.urls[0]).toContain("updatedSince=");
    expect(before.urls[0]).toContain("sort=updatedAt");
    s.setWebhookUrl(null);
    const m = await s.mutate({ agentUpdates: 2, agentDeletes: 1 });
    const after = await crawl(get, "agents", since);
    expect((after.records as { id: string }[]).map((r) => r.id).sort()).toEqual(
      [
        ...new Set([...(before.records as { id: string }[]).map((r) => r.id), ...m.updated, ...m.deleted]),
      ].sort(),
    );
  });

  it("the webhook scheme verifies the simulator's signature; other keys, tampering and stale times fail", async () => {
    const scheme = zillowWebhookScheme("clientId");
    const body = JSON.stringify({ eventId: "e1", eventType: "agent.updated", ids: ["ZU000002"] });
    const now = 1_800_000_000;
    const headers = (v: string | null) => ({
      get: (n: string) => (n.toLowerCase() === "x-zillow-signature" ? v : null),
    });
    const raw = new TextEncoder().encode(body);
    const simSigned = await signWebhook(CLIENT.id, now, body);
    expect(simSigned).toBe(await signZillow(CLIENT.id, now, body));
    const verify = (v: string | null, creds = { clientId: CLIENT.id }, nowSec = now, bytes = raw) =>
      scheme.verify({ rawBody: bytes, headers: headers(v), credentials: creds, nowSec });
    expect(await verify(simSigned)).toEqual({ ok: true });
    expect(await verify(simSigned, { clientId: "other" })).toEqual({ ok: false, code: "bad_signature" });
    expect(await verify(simSigned, { clientId: CLIENT.id }, now + 301)).toEqual({
      ok: false,
      code: "stale_timestamp",
    });
    expect(await verify(null)).toEqual({ ok: false, code: "missing_signature" });
    expect(
      await verify(simSigned, { clientId: CLIENT.id }, now, new TextEncoder().encode(`${body} `)),
    ).toEqual({
      ok: false,
      code: "bad_signature",
    });
    expect(await verify("t=abc,v1=00")).toEqual({ ok: false, code: "bad_signature" });
    expect(resolveZillowWebhook(JSON.parse(body))).toMatchObject({
      entity: "agents",
      ids: ["ZU000002"],
      deleted: false,
    });
    expect(resolveZillowWebhook({ eventId: "e2", eventType: "loanOfficer.updated", ids: ["x"] })).toBeNull();
    expect(() => resolveZillowWebhook({ eventType: "agent.updated" })).toThrow();
  });
});

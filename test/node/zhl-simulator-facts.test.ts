// Pins the seeds-derived ZHL simulator to what ../shared/PROVIDERS-WAVE2.md §6 says is knowable: nothing of the
// ZHL API is public, so the simulator must say "seeds-derived" everywhere it describes itself; its referrals
// carry the public Zillow Mortgages lender-contact notification's fields (`LC-` ids, ISO-8601 with an offset,
// price in dollars, sender/recipient), its transfer ack carries `externalContactReference` (< 256) and
// `applicationURL` (≤ 4000), NMLS ids fit the int32 the public lender API takes, and loan officers come with
// territory maps (the seeds' ZhlDedicatedLoanOfficerMap). Then the documented choices: Bearer key, paging,
// idempotency keys and the fault knobs.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSimulator, MAX_PAGE_SIZE } from "../../tools/simulator-zhl/app";

const FACTS = readFileSync(new URL("../../../shared/PROVIDERS-WAVE2.md", import.meta.url), "utf8");
const BASE = "http://zhl.test";
const KEY = "zhl-facts-key";

function setup(config: { territories?: number; referrals?: number } = {}) {
  const clock = { now: Date.UTC(2026, 0, 5, 18, 0, 0) };
  const sim = createSimulator({ now: () => clock.now, accounts: { a: { apiKey: KEY, ...config } } });
  const call = (path: string, init: RequestInit = {}) =>
    sim.app.request(`${BASE}${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${KEY}`,
        "Content-Type": "application/json",
        ...(init.headers ?? {}),
      },
    });
  const list = async <T>(path: string) => {
    const res = await call(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  return { sim, clock, call, list };
}

/** The lender-contact notification's field list as the facts file gives it: required names, optional names. */
function contactNotificationFields() {
  const m = /zillowLenderContactNotification`[^`]*`\{([^}]*)\}`/.exec(FACTS);
  expect(m, "the facts file lists the lender-contact notification fields").not.toBeNull();
  const names = (m?.[1] ?? "").split(",").map((f) => f.trim().split(/[\s:(]/)[0] as string);
  return {
    required: names.filter((n) => !n.endsWith("?")),
    optional: names.filter((n) => n.endsWith("?")).map((n) => n.slice(0, -1)),
  };
}

describe("ZHL simulator facts (seeds-derived)", () => {
  it("is labelled seeds-derived wherever it describes itself, as §6 requires", () => {
    expect(FACTS).toMatch(/Label it "seeds-derived", not "provider-faithful"/);
    for (const file of ["app.ts", "README.md", "main.ts"]) {
      const text = readFileSync(new URL(`../../tools/simulator-zhl/${file}`, import.meta.url), "utf8");
      expect(text.toLowerCase(), file).toContain("seeds-derived");
    }
    const doc = readFileSync(new URL("../../docs/providers/zhl.md", import.meta.url), "utf8");
    expect(doc.toLowerCase()).toContain("seeds-derived");
  });

  it("serves referrals with every required field of the public lender-contact notification", async () => {
    const { required, optional } = contactNotificationFields();
    expect(required).toEqual(
      expect.arrayContaining([
        "id",
        "created",
        "type",
        "source",
        "brand",
        "channel",
        "price",
        "recipient",
        "sender",
        "details",
      ]),
    );
    const { referrals } = await setup({ referrals: 7 }).list<{ referrals: Record<string, unknown>[] }>(
      "/v1/referrals?status=PENDING",
    );
    expect(referrals).toHaveLength(7);
    for (const r of referrals) {
      for (const f of required) expect(r, f).toHaveProperty(f);
      for (const f of optional) if (f in r) expect(r[f], f).not.toBeUndefined();
      // `LC-` ids (ContactId) and ISO-8601 with an offset, shaped like the facts' example.
      expect(FACTS).toContain("`LC-` ids");
      expect(String(r.id)).toMatch(/^LC-[0-9A-F]+$/);
      const example = /"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})"/.exec(FACTS)?.[1] ?? "";
      expect(example).toBe("2015-01-22T10:30:00-08:00");
      expect(String(r.created)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
      expect(Number.isFinite(Date.parse(String(r.created)))).toBe(true);
      // price in dollars: a whole number, not cents in a string.
      expect(typeof r.price).toBe("number");
    }
  });

  it("acks a transfer 2xx with externalContactReference (< 256) and applicationURL (≤ 4000)", async () => {
    expect(FACTS).toMatch(/externalContactReference \(<256\), applicationURL \(≤4000\)/);
    const { call, list } = setup();
    const { referrals } = await list<{ referrals: { id: string; territory: string }[] }>("/v1/referrals");
    const { loanOfficers } = await list<{
      loanOfficers: { id: string; nmlsId: string; territory: string }[];
    }>("/v1/loan-officers");
    const r = referrals[0] as { id: string; territory: string };
    const o = loanOfficers.find((x) => x.territory === r.territory) as { id: string; nmlsId: string };
    const res = await call("/v1/transfers", {
      method: "POST",
      headers: { "Idempotency-Key": "k1" },
      body: JSON.stringify({ referralId: r.id, loanOfficerId: o.id, nmlsId: o.nmlsId }),
    });
    expect(res.status).toBe(201);
    const ack = (await res.json()) as { externalContactReference: string; applicationURL: string };
    expect(ack.externalContactReference.length).toBeGreaterThan(0);
    expect(ack.externalContactReference.length).toBeLessThan(256);
    expect(ack.applicationURL.length).toBeLessThanOrEqual(4000);
  });

  it("gives loan officers NMLS ids that fit the public API's int32, statuses and territories with maps", async () => {
    expect(FACTS).toContain("nmlsId int32");
    expect(FACTS).toContain("ZhlDedicatedLoanOfficerMap` (territory)");
    const { list } = setup({ territories: 4 });
    const { loanOfficers, total } = await list<{
      loanOfficers: { id: string; nmlsId: string; status: string; territory: string; updatedAt: string }[];
      total: number;
    }>("/v1/loan-officers");
    expect(total).toBe(12);
    for (const o of loanOfficers) {
      expect(o.nmlsId).toMatch(/^[1-9]\d*$/);
      expect(Number(o.nmlsId)).toBeLessThanOrEqual(2 ** 31 - 1);
      expect(["ACTIVE", "INACTIVE", "ON_LEAVE"]).toContain(o.status);
      expect(o.updatedAt).toMatch(/[+-]\d{2}:\d{2}$/);
    }
    const { maps } = await list<{ maps: { territory: string; role: string; loanOfficerId: string }[] }>(
      "/v1/dedicated-loan-officer-maps",
    );
    const territories = new Set(loanOfficers.map((o) => o.territory));
    expect(territories.size).toBe(4);
    for (const t of territories) {
      const roles = maps.filter((m) => m.territory === t).map((m) => m.role);
      expect(roles.sort()).toEqual(["FALLBACK", "PRIMARY"]);
    }
  });

  it("refuses calls without the partner key (401 JSON) and pages 1-based with a clamped size", async () => {
    const { sim, list } = setup({ referrals: 130 });
    const anon = await sim.app.request(`${BASE}/v1/loan-officers`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    const wrong = await sim.app.request(`${BASE}/v1/loan-officers`, {
      headers: { Authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
    const p1 = await list<{ referrals: unknown[]; total: number; pageSize: number }>(
      "/v1/referrals?pageSize=500",
    );
    expect(p1.pageSize).toBe(MAX_PAGE_SIZE);
    expect(p1.referrals).toHaveLength(100);
    expect(p1.total).toBe(130);
    const p2 = await list<{ referrals: unknown[] }>("/v1/referrals?pageSize=500&page=2");
    expect(p2.referrals).toHaveLength(30);
  });

  it("executes a transfer once per idempotency key, replays it, and refuses a reused key or a refusing officer", async () => {
    const { sim, call, list } = setup();
    const a = sim.account("a");
    const { referrals } = await list<{ referrals: { id: string; territory: string }[] }>("/v1/referrals");
    const [r1, r2] = referrals as { id: string; territory: string }[];
    const officer = [...a.officers.values()].find((o) => o.territory === r1?.territory);
    const post = (key: string | null, body: unknown) =>
      call("/v1/transfers", {
        method: "POST",
        headers: key ? { "Idempotency-Key": key } : {},
        body: JSON.stringify(body),
      });
    const body = { referralId: r1?.id, loanOfficerId: officer?.id, nmlsId: officer?.nmlsId };
    expect((await post(null, body)).status).toBe(400);
    const first = await post("key-1", body);
    expect(first.status).toBe(201);
    const again = await post("key-1", body);
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(a.executions.get(r1?.id as string)).toBe(1);
    expect((await post("key-1", { ...body, referralId: r2?.id })).status).toBe(422);
    expect((await post("key-2", body)).status).toBe(409); // already transferred under another key
    a.refusing.add(officer?.id as string);
    const refused = await post("key-3", { ...body, referralId: r2?.id });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("OFFICER_UNAVAILABLE");
    expect((await post("key-4", { ...body, referralId: r2?.id, nmlsId: "1" })).status).toBe(422);
  });

  it("fault knobs: 503 and 429 before anything happens, and a lost answer after the transfer was made", async () => {
    const { sim, call, list } = setup();
    const a = sim.account("a");
    a.faults.fail5xx = 1;
    expect((await call("/v1/loan-officers")).status).toBe(503);
    a.faults.fail429 = 1;
    const limited = await call("/v1/loan-officers");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("1");
    const { referrals } = await list<{ referrals: { id: string; territory: string }[] }>("/v1/referrals");
    const r = referrals[0] as { id: string; territory: string };
    const o = [...a.officers.values()].find((x) => x.territory === r.territory);
    a.faults.loseAnswers = 1;
    const body = JSON.stringify({ referralId: r.id, loanOfficerId: o?.id, nmlsId: o?.nmlsId });
    const lost = await call("/v1/transfers", { method: "POST", headers: { "Idempotency-Key": "L" }, body });
    expect(lost.status).toBe(502);
    expect(a.executions.get(r.id)).toBe(1);
    const replay = await call("/v1/transfers", { method: "POST", headers: { "Idempotency-Key": "L" }, body });
    expect(replay.status).toBe(200);
    expect(sim.truth("a").transfers).toHaveLength(1);
    expect(sim.truth("a").transfers[0]?.executions).toBe(1);
  });
});

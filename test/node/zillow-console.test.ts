import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminClient, waitFor } from "../../tools/lib/admin-client";
import type { Stack } from "../../tools/lib/stack";
import type { RunningSimulator } from "../../tools/simulator-zillow/main";
import { type Browser, launchChromium, type Page } from "../browser/chromium";
import { runCli } from "./cli-support";
import { query, waitDrained } from "./dotloop-support";
import { waitSettled } from "./fub-support";
import { authoriseZillow, startZillowStack, ZILLOW_ENTITIES, type ZillowStack } from "./zillow-support";

// A Zillow connection's consistency checks and actions as an operator sees them: in the console (headless
// Chromium) and through `edge-etl`, against wrangler dev, the Zillow simulator and Postgres. The simulator's seed
// gives agents of other ZUIDs' grants (ZUID mismatches) and sync users on another team (team drift); what the
// console and the CLI show must equal what the API answers. Screenshots go to test-results/console/.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SHOTS = path.join(ROOT, "test-results", "console");
const accountId = "acc_zillow_console";

let env: ZillowStack;
let zl: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let connectionId = "";
let browser: Browser;
let page: Page;
let tmp: string;

type Group = { count: number; sample: Record<string, unknown>[] };
type CheckAnswer = { check: string; ok: boolean } & Record<string, unknown>;
const groupsOf = (r: CheckAnswer) =>
  Object.fromEntries(
    Object.entries(r)
      .filter(([, v]) => typeof v === "object" && v !== null && Array.isArray((v as Group).sample))
      .map(([k, v]) => [k, (v as Group).count]),
  );

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const text = (selector: string) =>
  page.$eval(selector, (el) => (el as unknown as { textContent: string | null }).textContent ?? "");

async function waitForText(selector: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    `${selector} ~ ${pattern}`,
    async () => {
      const t = await text(selector).catch(() => "");
      return pattern.test(t) ? t : null;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

const cli = (args: string[]) =>
  runCli(args, {
    ...process.env,
    EDGE_ETL_URL: stack.workerUrl,
    EDGE_ETL_TOKEN: stack.adminToken,
    HOME: path.join(tmp, "nohome"),
    XDG_CONFIG_HOME: undefined,
  });

/** Runs a check from the console and reads what it shows: the summary and each group's count and sample rows. */
async function runCheckInConsole(name: string) {
  const item = `[data-checks-connection="${connectionId}"] li[data-check="${name}"]`;
  await page.click(`${item} button[data-run-check="${name}"]`);
  await page.waitForSelector(`${item} .check-summary`);
  const summary = await text(`${item} .check-summary`);
  const groups = await page.$$eval(`${item} .finding-group`, (els) =>
    els.map((el) => {
      const e = el as unknown as {
        getAttribute(n: string): string | null;
        querySelectorAll(s: string): { length: number };
        querySelector(s: string): { textContent: string | null } | null;
      };
      return {
        name: e.getAttribute("data-group") ?? "",
        count: Number(e.getAttribute("data-count")),
        shown: e.querySelector(".group-count")?.textContent ?? "",
        rows: e.querySelectorAll("tbody tr").length,
      };
    }),
  );
  return { summary, groups };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "edge-etl-zillow-console-"));
  mkdirSync(SHOTS, { recursive: true });
  env = await startZillowStack({
    name: "zillow-console",
    clientId: "console-zillow-client",
    clientSecret: "console-zillow-secret",
    sim: { seed: 4242, counts: { teams: 5, agents: 80, events: 40 } },
  });
  ({ zl, stack, admin } = env);
  await admin.createAccount(accountId, "Zillow Console");
  const hops = await authoriseZillow(env, accountId);
  expect(hops.status, JSON.stringify(hops.body)).toBe(201);
  connectionId = String(hops.body.connectionId);
  await waitSettled(admin, stack.databaseUrl, accountId, ZILLOW_ENTITIES, "Zillow onboarding");
  await waitDrained(stack.databaseUrl, accountId);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await env?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("Zillow consistency checks and actions in the console and the CLI", () => {
  it("runs zuidAlignment and teamDrift from the console; the counts shown are the API's", {
    timeout: 120_000,
  }, async () => {
    const truth = zl.sim.truth();
    const base = `/admin/accounts/${accountId}/connections/${connectionId}`;
    const zuidApi = await admin.ok<CheckAnswer>("GET", `${base}/checks/zuidAlignment`);
    const driftApi = await admin.ok<CheckAnswer>("GET", `${base}/checks/teamDrift`);
    // The seed holds both kinds of disagreement, so neither check is OK.
    const foreign = truth.agents.filter(
      (a) => !a.deleted && a.authZuid !== null && a.authZuid !== truth.ownerZuid,
    );
    expect(foreign.length).toBeGreaterThan(0);
    expect(zuidApi.ok).toBe(false);
    expect(driftApi.ok).toBe(false);
    expect((driftApi.drifted as Group).count).toBeGreaterThan(0);

    await page.goto(`${stack.workerUrl}/console`);
    await page.waitForSelector("#token");
    await page.type("#token", stack.adminToken);
    await page.keyboard.press("Enter");
    await page.waitForSelector(`a[href="#/a/${accountId}"]`);
    await page.click(`a[href="#/a/${accountId}"]`);
    // From the connection's card to its checks.
    const link = `[data-connection="${connectionId}"] a.checks-link`;
    await page.waitForSelector(link);
    await page.click(link);
    await page.waitForSelector(
      `[data-checks-connection="${connectionId}"] li[data-check="teamDrift"] button`,
    );
    expect(page.url()).toContain(`/checks?connection=${connectionId}`);

    for (const [name, answer] of [
      ["zuidAlignment", zuidApi],
      ["teamDrift", driftApi],
    ] as const) {
      const shown = await runCheckInConsole(name);
      const expected = groupsOf(answer);
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      expect(shown.summary).toBe(`${total.toLocaleString()} findings`);
      expect(Object.fromEntries(shown.groups.map((g) => [g.name, g.count]))).toEqual(expected);
      for (const g of shown.groups) {
        expect(g.shown).toBe(g.count.toLocaleString());
        expect(g.rows).toBe((answer[g.name] as Group).sample.length);
      }
    }
    await shot("zillow-01-checks");
  });

  it("runs the resolve action from the console and shows its result; bad input shows the API's code", {
    timeout: 60_000,
  }, async () => {
    const truth = zl.sim.truth();
    const live = truth.agents.filter((a) => !a.deleted).length;
    const action = `[data-checks-connection="${connectionId}"] li[data-action="resolve"]`;
    expect(await page.$eval(`${action} textarea`, (el) => (el as unknown as { value: string }).value)).toBe(
      "{}",
    );
    // Keyboard: focus the input, then Tab to its Run button.
    await page.focus(`${action} textarea`);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${action} pre.action-result:not([hidden])`);
    const result = JSON.parse(await text(`${action} pre.action-result`)) as {
      action: string;
      agents: number;
      transitions: number;
    };
    expect(result).toMatchObject({ action: "resolve", agents: live, transitions: live });
    const [logged] = await query<{ n: number }>(
      stack.databaseUrl,
      "select count(*)::int as n from zillow_connection_logs where account_id = $1 and actor = 'admin'",
      [accountId],
    );
    expect(logged?.n).toBe(live);
    await shot("zillow-02-resolved");

    const override = `[data-checks-connection="${connectionId}"] li[data-action="override"]`;
    await page.click(`${override} textarea`, { count: 3 });
    await page.keyboard.type('{"agentId": "x", "method": "BEST"}');
    await page.click(`${override} button[type=submit]`);
    expect(await waitForText("#error", /^[a-z_]+: /)).not.toContain("HTTP 5");
    await page.click(`${override} textarea`, { count: 3 });
    await page.keyboard.type("{not json");
    await page.click(`${override} button[type=submit]`);
    expect(await waitForText("#error", /^invalid_json: /)).toContain("JSON");
  });

  it("reads on a phone: no sideways scroll on the checks", async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.reload();
    await page.waitForSelector(
      `[data-checks-connection="${connectionId}"] li[data-check="teamDrift"] button`,
    );
    await runCheckInConsole("teamDrift");
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot("zillow-03-phone");
  });

  it("edge-etl lists the checks, exits 1 on teamDrift with its count, and runs resolve", {
    timeout: 60_000,
  }, async () => {
    const listed = await cli(["checks", accountId, connectionId]);
    expect(listed.code, listed.stderr).toBe(0);
    for (const name of ["zuidAlignment", "teamDrift", "resolve", "override", "eligibility"]) {
      expect(listed.stdout).toContain(name);
    }
    const drift = await admin.ok<CheckAnswer>(
      "GET",
      `/admin/accounts/${accountId}/connections/${connectionId}/checks/teamDrift`,
    );
    const count = (drift.drifted as Group).count;
    const run = await cli(["check", accountId, connectionId, "teamDrift"]);
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe(`teamDrift: ${count.toLocaleString("en-US")} findings`);
    expect(lines).toContain(`drifted: ${count.toLocaleString("en-US")}`);
    expect(run.stdout).toMatch(/^AGENT_ID\s+ZUID\s+TEAM_ID\s+SYNC_USER_ID\s+SYNC_TEAM_ID$/m);
    const json = await cli(["check", accountId, connectionId, "teamDrift", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ check: "teamDrift", ok: false, drifted: { count } });
    const resolved = await cli(["action", accountId, connectionId, "resolve"]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ action: "resolve", transitions: 0 });
    const bad = await cli(["action", accountId, connectionId, "override", "--input", '{"agentId":"x"}']);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toContain("(HTTP 400)");
  });
});

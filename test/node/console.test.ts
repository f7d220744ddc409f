import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { SimulatorClient } from "../../tools/lib/simulator-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type Browser, launchChromium, type Page } from "../browser/chromium";

// The operator console in headless Chromium (Debian's chromium, driven by puppeteer-core) against the whole
// stack: simulator + Worker under wrangler dev + Postgres. Screenshots go to test-results/console/.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SHOTS = path.join(ROOT, "test-results", "console");
const ADMIN_TOKEN = "console-admin-token-5f1e2d";
const API_KEY = "console-fub-key";
const SYSTEM_KEY = "console-system-key";
const PEOPLE = 1_500;
const ACCOUNT = "acc_console";
const CONNECTION = "con_console";

let stack: Stack;
let sim: SimulatorClient;
let admin: AdminClient;
let browser: Browser;
let page: Page;
let tmp: string;

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const text = (selector: string) =>
  page.$eval(selector, (el) => (el as unknown as { textContent: string | null }).textContent ?? "");
const evaluate = <T>(expression: string) => page.evaluate(expression) as Promise<T>;
const row = `[data-connection="${CONNECTION}"] tr[data-entity="people"]`;
const peopleStatus = () => text(`${row} .status`).catch(() => "");

async function query<T>(sqlText: string, params: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return (await client.query(sqlText, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Waits until the notice (role=status) or the error box (role=alert) holds `pattern`. */
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

/** Starts a people sync from the console's form, in the given mode. */
async function syncPeopleFromConsole(mode: "delta" | "onboarding") {
  await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}`);
  await page.waitForSelector("#sync-now");
  await page.select("#sync-connection", CONNECTION);
  await page.select("#sync-entity", "people");
  await page.select("#sync-mode", mode);
  await page.click("#sync-now");
  await waitForText("#notice", /Sync requested/);
}

const TERMINAL = /^(COMPLETED|COMPLETED_WITH_ERRORS|ERROR)$/;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "edge-etl-console-"));
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({
    mode: "test",
    adminToken: ADMIN_TOKEN,
    credentialsKey: "con1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo: path.join(tmp, "wrangler"),
  });
  sim = new SimulatorClient(stack.simulatorUrl);
  await sim.putTenant(API_KEY, { seed: 22, systemKey: SYSTEM_KEY, counts: { people: PEOPLE } });
  admin = new AdminClient(stack.workerUrl, ADMIN_TOKEN);
  await admin.createAccount(ACCOUNT, "Console Realty");
  await admin.createConnection(ACCOUNT, {
    id: CONNECTION,
    provider: "fub",
    baseUrl: stack.simulatorUrl,
    credentials: { apiKey: API_KEY, systemKey: SYSTEM_KEY, system: "edge-etl-console" },
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("operator console in headless Chromium", () => {
  it("is served by the Worker with no third-party resource and a strict CSP", async () => {
    const res = await fetch(`${stack.workerUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${stack.workerUrl}/console/app.js`);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(await js.text()).not.toMatch(/https?:\/\//);
  });

  it("signs in from the keyboard; a wrong token shows the API's message; the token stays out of the URL", async () => {
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${stack.workerUrl}/console`);
    await page.waitForSelector("#token");
    await page.focus("#token");
    await page.keyboard.type("not-the-token");
    await page.keyboard.press("Enter");
    expect(await waitForText("#error", /unauthorized: send Authorization/)).toContain("Bearer");

    await page.click("#token", { count: 3 });
    await page.keyboard.type(ADMIN_TOKEN);
    // Tab order: token, account id, Sign in.
    await page.keyboard.press("Tab");
    expect(await evaluate<string>("document.activeElement.id")).toBe("account");
    await page.keyboard.press("Tab");
    expect(await evaluate<string>("document.activeElement.textContent")).toBe("Sign in");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`a[href="#/a/${ACCOUNT}"]`);
    expect(await evaluate<string>("sessionStorage.getItem('edge-etl-console:token')")).toBe(ADMIN_TOKEN);
    expect(await evaluate<string>("localStorage.length")).toBe(0);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    for (const url of requests) {
      expect(url).not.toContain(ADMIN_TOKEN);
      expect(url.startsWith(stack.workerUrl)).toBe(true);
    }
    // Every control has an accessible name.
    const unnamed = await evaluate<number>(
      "[...document.querySelectorAll('input,select')].filter(e => !e.labels || !e.labels.length).length",
    );
    expect(unnamed).toBe(0);
    await shot("01-accounts");
  });

  it("starts an onboarding sync and shows its progress bar and ETA until it completes", async () => {
    // Slow pages, so the run is watched in flight.
    await sim.setFaults(API_KEY, { latencyMs: 200 });
    await page.click(`a[href="#/a/${ACCOUNT}"]`);
    await page.waitForSelector(row);
    expect(await peopleStatus()).toBe("PENDING");
    await syncPeopleFromConsole("onboarding");
    let inFlight: { value: number; eta: string } | null = null;
    const final = await waitFor(
      "the people run to end",
      async () => {
        const status = await peopleStatus();
        if (status === "IN_PROGRESS" && !inFlight) {
          const value = await page
            .$eval(`${row} progress`, (el) => Number((el as unknown as { value: number }).value))
            .catch(() => -1);
          const eta = await text(`${row} .eta`).catch(() => "");
          if (value > 0 && value < 100 && /ETA \d/.test(eta)) {
            inFlight = { value, eta };
            await shot("02-sync-in-progress");
          }
        }
        return TERMINAL.test(status) ? status : null;
      },
      { timeoutMs: 120_000, intervalMs: 150 },
    );
    await sim.setFaults(API_KEY, {});
    expect(inFlight, "the progress bar and ETA were seen mid-run").not.toBeNull();
    expect(final).toBe("COMPLETED");
    const fetched = await text(`${row} td[data-label="Fetched / written"]`);
    expect(fetched.replaceAll(",", "")).toMatch(/^\d+ \/ \d+$/);
    expect(await text(`${row} td[data-label="Fresh as of"]`)).toMatch(/ago/);
    await shot("03-sync-completed");
  });

  it("filters failed records and replays them", async () => {
    await sim.setFaults(API_KEY, { malformedRate: 0.05 });
    await syncPeopleFromConsole("onboarding");
    const status = await waitFor(
      "the run with malformed records to end",
      async () => {
        const s = await peopleStatus();
        return TERMINAL.test(s) && s !== "COMPLETED" ? s : null;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    // Read before the faults are cleared, which forgets them.
    const malformed = (
      (await sim.tenant<{ malformedIds: Record<string, number[]> }>(API_KEY)).malformedIds.people ?? []
    ).length;
    await sim.setFaults(API_KEY, {});
    expect(status).toBe("COMPLETED_WITH_ERRORS");
    expect(malformed).toBeGreaterThan(0);

    // The run ends once its pages are fetched; their transforms (which file the failures) may still be going.
    await waitFor("every malformed record filed", async () => {
      const r = await admin.ok<{ items: unknown[] }>(
        "GET",
        `/admin/accounts/${ACCOUNT}/failed?entity=people&limit=500`,
      );
      return r.items.length === malformed;
    });
    // The row's failed count links to the failed records filtered by entity.
    await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}`);
    await page.waitForSelector(`${row} td[data-label="Failed"] a`);
    await page.click(`${row} td[data-label="Failed"] a`);
    await page.waitForSelector("#failed-list tbody tr");
    expect(await evaluate<string>("document.getElementById('f-entity').value")).toBe("people");
    // 50 a page: "Load more" follows the API's cursor to the end.
    const listed = () => page.$$eval("#failed-list tbody tr", (rows) => rows.length);
    for (let pages = 1; await page.$("#failed-more"); pages++) {
      await page.click("#failed-more");
      await waitFor(
        "the next page",
        async () => (await listed()) > pages * 50 || !(await page.$("#failed-more")),
      );
    }
    expect(await listed()).toBe(malformed);
    await page.type("#f-code", "no_such_code");
    await page.click("form[aria-label='Filter failed records'] button[type=submit]");
    await page.waitForSelector("#failed-empty");
    await page.click("#f-code", { count: 3 });
    await page.keyboard.press("Backspace");
    await page.click("form[aria-label='Filter failed records'] button[type=submit]");
    await page.waitForSelector("#failed-list tbody tr");
    await page.click("#replay");
    const notice = await waitForText("#notice", /records sent again/);
    expect(Number(/: ([\d,]+) records/.exec(notice)?.[1]?.replaceAll(",", ""))).toBe(malformed);
    await shot("04-failed-replayed");
  });

  it("confirms a held delete", async () => {
    const m = (await sim.mutate(API_KEY, { entity: "people", deletes: 400 })) as { deleted: number[] };
    expect(m.deleted.length).toBe(400);
    await syncPeopleFromConsole("onboarding");
    const held = await waitFor(
      "a held delete",
      async () => {
        const r = await admin.ok<{ items: { runId: string; deletes: number }[] }>(
          "GET",
          `/admin/accounts/${ACCOUNT}/deletes`,
        );
        return r.items[0];
      },
      { timeoutMs: 120_000, intervalMs: 300 },
    );
    await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}/deletes`);
    const confirm = `tr[data-run="${held.runId}"] button.danger`;
    await page.waitForSelector(confirm);
    await shot("05-held-delete");
    await page.click(confirm);
    expect(await waitForText("#notice", /confirmed/)).toContain(held.runId);
    await page.waitForSelector(`tr[data-run="${held.runId}"]`, { hidden: true });
    const decided = await admin.ok<{ items: { runId: string }[] }>(
      "GET",
      `/admin/accounts/${ACCOUNT}/deletes?status=confirmed`,
    );
    expect(decided.items.map((i) => i.runId)).toContain(held.runId);
    const live = await waitFor("the confirmed deletes applied", async () => {
      const rows = await query<{ n: string }>(
        "select count(*) as n from fub_people where account_id = $1 and source_id = any($2::bigint[]) and deleted_at is null",
        [ACCOUNT, m.deleted],
      );
      return Number(rows[0]?.n) === 0;
    });
    expect(live).toBe(true);
  });

  it("resyncs one record by its provider id; an unknown id shows the API's error", async () => {
    const m = (await sim.mutate(API_KEY, { entity: "people", updates: 1 })) as { updated: number[] };
    const id = String(m.updated[0]);
    const version = async () =>
      (
        await query<{ v: Date | null }>(
          "select source_updated_at as v from fub_people where account_id = $1 and source_id = $2",
          [ACCOUNT, id],
        )
      )[0]?.v?.getTime() ?? 0;
    const before = await version();
    await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}`);
    await page.waitForSelector("#resync-go");
    await page.select("#resync-connection", CONNECTION);
    await page.select("#resync-entity", "people");
    await page.type("#resync-id", id);
    await page.click("#resync-go");
    expect(await waitForText("#notice", /fetched and staged/)).toContain(`people ${id}`);
    const after = await waitFor("the resynced version in core", async () => {
      const v = await version();
      return v > before ? v : null;
    });
    expect(after).toBeGreaterThan(before);
    await shot("06-resynced");

    await page.click("#resync-id", { count: 3 });
    await page.keyboard.type("999999999");
    await page.click("#resync-go");
    expect(await waitForText("#error", /record_not_found/)).toContain("999999999");
  });

  it("shows the webhook inbox, and run history only where the API serves it", async () => {
    await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}/webhooks`);
    await page.waitForSelector("#webhooks-list p, #webhooks-list table");
    const runs = await admin.request("GET", `/admin/accounts/${ACCOUNT}/runs?limit=1`);
    const tab = await page.$(`nav.tabs a[href="#/a/${ACCOUNT}/runs"]`);
    expect(tab !== null).toBe(runs.status === 200);
  });

  it("links a connection to its checks and actions; a provider without any says so", async () => {
    await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}`);
    await page.waitForSelector(`[data-connection="${CONNECTION}"] a.checks-link`);
    await page.click(`[data-connection="${CONNECTION}"] a.checks-link`);
    const section = `[data-checks-connection="${CONNECTION}"]`;
    expect(await waitForText(section, /No checks for this connection\./)).toContain(
      "No actions for this connection.",
    );
    expect(await page.$(`nav.tabs a[href="#/a/${ACCOUNT}/checks"][aria-current=page]`)).not.toBeNull();
  });

  it("reads on a phone: no sideways scroll, tables stacked as labelled cards", async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.goto(`${stack.workerUrl}/console#/a/${ACCOUNT}`);
    await page.waitForSelector(row);
    const overflow = await evaluate<number>(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await evaluate<string>(`getComputedStyle(document.querySelector('${row}')).display`)).toBe(
      "block",
    );
    await shot("07-phone");
  });
});

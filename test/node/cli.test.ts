import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderCheck } from "../../tools/cli/checks";
import { resolveTarget } from "../../tools/cli/config";
import { CliError, EXIT } from "../../tools/cli/errors";
import { outcome, progressLine } from "../../tools/cli/follow";
import type { StatusView } from "../../tools/cli/status";
import { waitFor } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { SimulatorClient } from "../../tools/lib/simulator-client";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type CliResult, runCli } from "./cli-support";

// The `edge-etl` CLI against the whole stack (simulator + Worker under wrangler dev + Postgres): every command
// runs as a child process through the package's bin, and the test reads its output and exit code.
const ADMIN_TOKEN = "cli-admin-token-d41d8cd9";
const API_KEY = "cli-fub-key";
const SYSTEM_KEY = "cli-system-key";
const PEOPLE = 300;
const ACCOUNT = "acc_cli";
const CONNECTION = "con_cli";

let stack: Stack;
let sim: SimulatorClient;
let tmp: string;

/** Runs the CLI; `env` replaces the EDGE_ETL_* variables (undefined removes one). */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, {
    ...process.env,
    EDGE_ETL_URL: stack.workerUrl,
    EDGE_ETL_TOKEN: ADMIN_TOKEN,
    // No config file of the machine's user may leak into a run.
    HOME: path.join(tmp, "nohome"),
    XDG_CONFIG_HOME: undefined,
    ...env,
  });
}

/** Runs the CLI and insists on an exit code, showing what it printed when the code differs. */
async function expectCli(args: string[], code: number, env?: Record<string, string | undefined>) {
  const r = await cli(args, env);
  expect(r.code, `edge-etl ${args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  return r;
}

async function json<T>(args: string[]): Promise<T> {
  const r = await expectCli([...args, "--json"], 0);
  return JSON.parse(r.stdout) as T;
}

type Entity = { entity: string; status: string; failedRecords: number; errorMessage: string | null };
type Status = { accountId: string; connections: { id: string; entities: Entity[] }[] };
type Held = { items: { runId: string; entity: string; deletes: number; status: string }[] };

const people = (s: Status) => s.connections[0]?.entities.find((e) => e.entity === "people");

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "edge-etl-cli-"));
  stack = await startStack({
    mode: "test",
    adminToken: ADMIN_TOKEN,
    credentialsKey: "cli1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo: path.join(tmp, "wrangler"),
    // Enough of an OAuth client for the connect link: the link is only built, never followed.
    extraVars: {
      OAUTH_STATE_SECRET: "cli-oauth-state-secret",
      OAUTH_DOTLOOP_CLIENT_ID: "cli-dotloop-client",
      OAUTH_DOTLOOP_CLIENT_SECRET: "cli-dotloop-secret",
      OAUTH_DOTLOOP_AUTH_BASE_URL: "http://auth.example",
    },
  });
  sim = new SimulatorClient(stack.simulatorUrl);
  await sim.putTenant(API_KEY, { seed: 16, systemKey: SYSTEM_KEY, counts: { people: PEOPLE } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("edge-etl CLI pieces", () => {
  it("takes URL and token from flags, then the environment, then the config file", () => {
    const file = path.join(tmp, "pieces.json");
    writeFileSync(file, JSON.stringify({ url: "http://file.example/", token: "file-token" }));
    const env = { EDGE_ETL_URL: "http://env.example", EDGE_ETL_TOKEN: "env-token" };
    expect(resolveTarget({ flags: { config: file }, env: {} })).toEqual({
      url: "http://file.example",
      token: "file-token",
    });
    expect(resolveTarget({ flags: { config: file }, env })).toEqual({
      url: "http://env.example",
      token: "env-token",
    });
    expect(resolveTarget({ flags: { config: file, token: "flag-token" }, env }).token).toBe("flag-token");
    const exitOf = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof CliError ? error.exitCode : -1;
      }
      return 0;
    };
    expect(exitOf(() => resolveTarget({ flags: { url: "http://x" }, env: { HOME: tmp } }))).toBe(EXIT.auth);
    expect(exitOf(() => resolveTarget({ flags: { url: "ftp://x", token: "t" }, env: {} }))).toBe(EXIT.usage);
    writeFileSync(file, "{ not json, token: secret-in-file");
    let message = "";
    try {
      resolveTarget({ flags: { config: file }, env: {} });
    } catch (error) {
      message = error instanceof Error ? error.message : "";
    }
    expect(message).toContain("not valid JSON");
    expect(message).not.toContain("secret-in-file");
  });

  it("draws a progress bar with ETA, and judges a run by its worst entity", () => {
    const entity = (
      name: string,
      status: string,
      records: number,
      total: number | null,
      etaMs: number | null,
    ) => ({
      entity: name,
      status,
      progress: { pages: 1, records, total, etaMs, parents: null },
      counts: { provider: null, ours: null, reconciledAt: null },
      failedRecords: 0,
      lastRun: null,
    });
    const status = (entities: ReturnType<typeof entity>[]): StatusView => ({
      accountId: "a",
      paused: false,
      connections: [{ id: "c", provider: "fub", status: "active", breaker: null, entities }],
    });
    const targets = [
      { connectionId: "c", entity: "people" },
      { connectionId: "c", entity: "deals" },
    ];
    const s = status([
      entity("people", "IN_PROGRESS", 50, 150, 30_000),
      entity("deals", "COMPLETED", 50, 50, 0),
    ]);
    expect(progressLine(s, targets, 0, 65_000)).toBe(
      "[############------------] 50% 100/200 records  1/2 entities  eta 30s  1m05s",
    );
    // Without a provider total there is no bar, only what was done.
    const unknown = status([
      entity("people", "IN_PROGRESS", 7, null, null),
      entity("deals", "IN_PROGRESS", 3, 9, 1),
    ]);
    expect(progressLine(unknown, targets, 0, 2_000)).toBe("10 records  0/2 entities  2s");
    const verdict = (a: string, b: string) =>
      outcome(status([entity("people", a, 1, 1, 0), entity("deals", b, 1, 1, 0)]), targets);
    expect(verdict("COMPLETED", "COMPLETED")).toMatchObject({ status: "COMPLETED", exitCode: EXIT.ok });
    expect(verdict("COMPLETED_WITH_ERRORS", "COMPLETED")).toMatchObject({ exitCode: EXIT.runFailed });
    expect(verdict("ERROR", "COMPLETED_WITH_ERRORS")).toMatchObject({
      status: "ERROR",
      exitCode: EXIT.runFailed,
    });
    expect(verdict("COMPLETED_WITH_ERRORS", "ERROR").status).toBe("ERROR");
  });
  it("renders a check's finding groups by their shape, whatever their names", () => {
    expect(renderCheck({ check: "tidy", ok: true })).toBe("tidy: OK");
    const text = renderCheck({
      check: "links",
      ok: false,
      scanned: 12,
      dangling: {
        count: 3,
        sample: [
          { id: "a1", target: null },
          { id: "a2", target: { x: 1 } },
        ],
      },
      orphans: { count: 0, sample: [] },
    });
    expect(text.split("\n")).toEqual([
      "links: 3 findings",
      "scanned: 12",
      "",
      "dangling: 3",
      "ID  TARGET",
      "a1  -",
      'a2  {"x":1}',
      "(sample of 2)",
      "",
      "orphans: 0",
    ]);
    // Sample values from the server cannot drive the terminal.
    expect(
      renderCheck({ check: "c", ok: false, g: { count: 1, sample: [{ v: "\u001b[2Jx" }] } }),
    ).not.toContain("\u001b");
    expect(renderCheck({ check: "c", ok: false, marked: 4 })).toBe("c: NOT OK\nmarked: 4");
  });
});

describe("edge-etl CLI", () => {
  it("prints help for the tool and each command, and exits 2 on usage errors", async () => {
    const top = await expectCli(["--help"], 0, { EDGE_ETL_URL: undefined, EDGE_ETL_TOKEN: undefined });
    for (const c of [
      "accounts create",
      "connections list",
      "status",
      "runs",
      "sync",
      "failed replay",
      "deletes confirm",
      "checks <accountId> <connectionId>",
      "check <accountId> <connectionId> <check>",
      "action <accountId> <connectionId> <action>",
    ]) {
      expect(top.stdout).toContain(c);
    }
    const sync = await expectCli(["sync", "--help"], 0);
    expect(sync.stdout).toContain("--follow");
    expect(sync.stdout).toContain("--mode <delta|onboarding>");
    expect((await expectCli(["deletes", "--help"], 0)).stdout).toContain(
      "deletes reject <accountId> <runId>",
    );
    expect((await expectCli(["bogus"], 2)).stderr).toContain('unknown command "bogus"');
    expect((await expectCli(["status"], 2)).stderr).toContain("expects <accountId>");
    expect((await expectCli(["failed", "purge", ACCOUNT], 2)).stderr).toContain(
      "expected one of list, replay",
    );
    expect((await expectCli(["status", ACCOUNT, "--nope"], 2)).stderr).toContain("--nope");
    expect((await expectCli(["sync", ACCOUNT, "--mode", "full"], 2)).stderr).toContain("delta or onboarding");
    expect((await expectCli(["status", ACCOUNT], 2, { EDGE_ETL_URL: undefined })).stderr).toContain(
      "no API URL",
    );
  });

  it("creates an account with the URL and token from a config file; flags override it", async () => {
    const home = path.join(tmp, "home");
    mkdirSync(path.join(home, ".config"), { recursive: true });
    writeFileSync(
      path.join(home, ".config", "edge-etl.json"),
      JSON.stringify({ url: stack.workerUrl, token: ADMIN_TOKEN }),
    );
    const noEnv = { HOME: home, EDGE_ETL_URL: undefined, EDGE_ETL_TOKEN: undefined };
    const created = await expectCli(
      ["accounts", "create", "--name", "CLI Realty", "--id", ACCOUNT],
      0,
      noEnv,
    );
    expect(created.stdout).toContain(`created account ${ACCOUNT}`);
    expect(created.stdout).toMatch(/api key \(shown once, keep it\): etl_\S+/);
    expect(created.stdout + created.stderr).not.toContain(ADMIN_TOKEN);
    // --token beats the file: a wrong one is refused, and the refusal does not echo it.
    const bad = await expectCli(["accounts", "get", ACCOUNT, "--token", "not-the-token"], 3, noEnv);
    expect(bad.stderr).toContain("unauthorized");
    expect(bad.stderr).not.toContain("not-the-token");
    // --config names another file.
    const other = path.join(tmp, "other.json");
    writeFileSync(other, JSON.stringify({ url: stack.workerUrl, token: ADMIN_TOKEN }));
    const got = await expectCli(["accounts", "get", ACCOUNT, "--config", other], 0, {
      EDGE_ETL_URL: undefined,
      EDGE_ETL_TOKEN: undefined,
    });
    expect(got.stdout).toContain(`account ${ACCOUNT}  name CLI Realty`);
    expect(
      (await expectCli(["status", ACCOUNT, "--config", path.join(tmp, "missing.json")], 2)).stderr,
    ).toContain("does not exist");
  });

  it("maps API errors to exit codes with the API's code and message", async () => {
    const dup = await expectCli(["accounts", "create", "--name", "again", "--id", ACCOUNT], 6);
    expect(dup.stderr).toContain(`account_exists: account "${ACCOUNT}" already exists (HTTP 409)`);
    const missing = await expectCli(["accounts", "get", "acc_nobody"], 4);
    expect(missing.stderr).toContain('account_not_found: account "acc_nobody" not found (HTTP 404)');
    const bad = await expectCli(["status", ACCOUNT], 3, { EDGE_ETL_TOKEN: "wrong-token-123" });
    expect(bad.stderr).toContain("unauthorized");
    expect(bad.stderr).not.toContain("wrong-token-123");
    expect((await expectCli(["status", ACCOUNT], 3, { EDGE_ETL_TOKEN: undefined })).stderr).toContain(
      "no token",
    );
    expect((await expectCli(["failed", "list", ACCOUNT, "--from", "yesterday"], 6)).stderr).toContain(
      "invalid_request",
    );
    const closed = await expectCli(["status", ACCOUNT], 5, {
      EDGE_ETL_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(closed.stderr).toContain("cannot reach");
    // An account's own key reaches only its account; it may not create accounts.
    const other = await json<{ apiKey: string }>([
      "accounts",
      "create",
      "--name",
      "Other",
      "--id",
      "acc_cli_other",
    ]);
    await expectCli(["accounts", "get", "acc_cli_other"], 0, { EDGE_ETL_TOKEN: other.apiKey });
    await expectCli(["status", ACCOUNT], 4, { EDGE_ETL_TOKEN: other.apiKey });
    expect(
      (await expectCli(["accounts", "create", "--name", "x"], 3, { EDGE_ETL_TOKEN: other.apiKey })).stderr,
    ).toContain("forbidden");
  });

  it("creates and lists connections without ever showing the credentials", async () => {
    const created = await expectCli(
      [
        "connections",
        "create",
        ACCOUNT,
        "--provider",
        "fub",
        "--id",
        CONNECTION,
        "--base-url",
        stack.simulatorUrl,
        "--credential",
        `apiKey=${API_KEY}`,
        "--credential",
        `systemKey=${SYSTEM_KEY}`,
        "--credential",
        "system=edge-etl-cli",
      ],
      0,
    );
    expect(created.stdout).toContain(`created connection ${CONNECTION} (fub)`);
    const list = await expectCli(["connections", "list", ACCOUNT], 0);
    expect(list.stdout).toMatch(/^ID\s+PROVIDER\s+STATUS\s+BASE URL\s+CREATED/);
    expect(list.stdout).toContain(CONNECTION);
    expect(list.stdout).toContain(stack.simulatorUrl);
    const listed = await json<Record<string, unknown>[]>(["connections", "list", ACCOUNT]);
    expect(listed.map((c) => c.id)).toEqual([CONNECTION]);
    for (const out of [created.stdout, list.stdout, JSON.stringify(listed)]) {
      expect(out).not.toContain(API_KEY);
      expect(out).not.toContain(SYSTEM_KEY);
    }
    expect((await expectCli(["connections", "create", ACCOUNT, "--provider", "fub"], 2)).stderr).toContain(
      "credentials",
    );
    expect(
      (await expectCli(["connections", "create", ACCOUNT, "--provider", "nope", "--credential", "a=b"], 6))
        .stderr,
    ).toContain("HTTP 400");
  });

  it("lists a connection's checks and actions (none for this provider); unknown names are the API's 404", async () => {
    const listed = await expectCli(["checks", ACCOUNT, CONNECTION], 0);
    expect(listed.stdout).toBe("no checks\nno actions\n");
    expect(await json(["checks", ACCOUNT, CONNECTION])).toEqual({ checks: [], actions: [] });
    expect((await expectCli(["check", ACCOUNT, CONNECTION, "nope"], 4)).stderr).toContain(
      'unknown_check: no check "nope" for this connection (HTTP 404)',
    );
    expect((await expectCli(["action", ACCOUNT, CONNECTION, "nope"], 4)).stderr).toContain("unknown_action");
    expect((await expectCli(["action", ACCOUNT, CONNECTION, "nope", "--input", "[1]"], 2)).stderr).toContain(
      "--input must be a JSON object",
    );
    expect((await expectCli(["checks", ACCOUNT, "con_missing"], 4)).stderr).toContain("connection_not_found");
    expect((await expectCli(["check", ACCOUNT, CONNECTION], 2)).stderr).toContain(
      "expects <accountId> <connectionId> <check>",
    );
    const help = await expectCli(["action", "--help"], 0);
    expect(help.stdout).toContain("--input <json>");
  });

  it("sync --follow draws progress until the onboarding completes and exits 0; status and runs show it", {
    timeout: 120_000,
  }, async () => {
    const r = await expectCli(
      ["sync", ACCOUNT, "--entity", "people", "--mode", "onboarding", "--follow", "--interval", "300"],
      0,
    );
    expect(r.stdout).toContain(`${CONNECTION}: started people`);
    expect(r.stdout).toMatch(/\d[\d,]* records {2}1\/1 entities/);
    expect(r.stdout).toContain(`${CONNECTION} people: COMPLETED`);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("COMPLETED");

    const table = await expectCli(["status", ACCOUNT], 0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toBe(`account ${ACCOUNT}`);
    const header = lines.find((l) => l.startsWith("ENTITY")) ?? "";
    expect(header).toMatch(
      /^ENTITY\s+STATUS\s+LAST RUN\s+NEXT RUN\s+PROGRESS\s+WRITTEN\s+PROVIDER\s+OURS\s+FAILED$/,
    );
    const row = lines.find((l) => l.startsWith("people ")) ?? "";
    // Aligned: each column starts where its header does.
    expect(row.indexOf("COMPLETED")).toBe(header.indexOf("STATUS"));
    expect(row).toMatch(/ago/);
    const status = await json<Status>(["status", ACCOUNT]);
    expect(people(status)?.status).toBe("COMPLETED");

    const runs = await expectCli(["runs", ACCOUNT, "--entity", "people"], 0);
    expect(runs.stdout).toMatch(
      /^CONNECTION\s+ENTITY\s+RUN\s+MODE\s+STATUS\s+TRIGGER\s+STARTED\s+TOOK\s+REQUESTS\s+429S/,
    );
    expect(runs.stdout).toMatch(
      new RegExp(`${CONNECTION}\\s+people\\s+\\S+\\s+onboarding\\s+COMPLETED\\s+manual\\s`),
    );
    const runList = await json<{
      items: { entity: string; runId: string; fetched: number; written: number; requests: number }[];
    }>(["runs", ACCOUNT, "--entity", "people"]);
    const run = runList.items.find((x) => x.entity === "people");
    expect(run?.fetched).toBeGreaterThan(PEOPLE * 0.9);
    expect(run?.written).toBe(run?.fetched);
    expect(run?.requests).toBeGreaterThan(0);

    const logs = await expectCli(["runs", "logs", ACCOUNT, run?.runId ?? ""], 0);
    const logLines = logs.stdout.trimEnd().split("\n");
    expect(logLines[0]).toMatch(/^\S+Z {2}INFO {3}people {2}onboarding run started \(manual\)$/);
    expect(logLines.at(-1)).toMatch(
      / {2}people {2}run completed: \d+ pages, \d+ records, \d+ requests \(0 answered 429\)$/,
    );
    const missing = await expectCli(["runs", "logs", ACCOUNT, "no-such-run"], 4);
    expect(missing.stderr).toContain("run_not_found");

    // One record fetched again by its provider id: staged; a missing one is the API's 404 (exit 4), an unknown
    // entity its 400 (exit 6).
    const resync = await expectCli(["resync", ACCOUNT, CONNECTION, "people", "1"], 0);
    expect(resync.stdout).toMatch(/^resync of people 1 staged/);
    const gone = await expectCli(["resync", ACCOUNT, CONNECTION, "people", "999999999"], 4);
    expect(gone.stderr).toContain("record_not_found");
    expect((await expectCli(["resync", ACCOUNT, CONNECTION, "nope", "1"], 6)).stderr).toContain(
      "unknown_entity",
    );
  });

  it("deletes list shows deletes a complete scan held; reject and confirm decide them", {
    timeout: 120_000,
  }, async () => {
    const m = (await sim.mutate(API_KEY, { entity: "people", deletes: 100 })) as { deleted: number[] };
    expect(m.deleted.length).toBe(100);
    const onboard = [
      "sync",
      ACCOUNT,
      "--entity",
      "people",
      "--mode",
      "onboarding",
      "--follow",
      "--interval",
      "300",
    ];
    const first = await expectCli(onboard, 0);
    expect(first.stdout).toContain("deletes await operator confirmation");
    const held = await waitFor("a held delete", async () => {
      const h = await json<Held>(["deletes", "list", ACCOUNT]);
      return h.items[0];
    });
    // A deleted person the seed had trashed was never listed, so never in core: at most 100 are held.
    expect(held).toMatchObject({ entity: "people", status: "pending" });
    expect(held.deletes).toBeGreaterThan(90);
    expect(held.deletes).toBeLessThanOrEqual(100);
    const list = await expectCli(["deletes", "list", ACCOUNT], 0);
    expect(list.stdout).toMatch(/^RUN\s+CONNECTION\s+ENTITY\s+MODE\s+DELETES\s+LIVE ROWS\s+STATUS/);
    expect(list.stdout).toContain(held.runId);

    const rejected = await expectCli(["deletes", "reject", ACCOUNT, held.runId], 0);
    expect(rejected.stdout).toContain(
      `rejected run ${held.runId} (people): its held deletes are discarded, nothing deleted`,
    );
    expect((await expectCli(["deletes", "reject", ACCOUNT, held.runId], 4)).stderr).toContain(
      "no_pending_deletes",
    );
    expect((await expectCli(["deletes", "list", ACCOUNT], 0)).stdout.trim()).toBe("no held deletes");

    // The next complete scan misses the same people and holds them again; this time they go.
    await expectCli(onboard, 0);
    const again = await waitFor(
      "a second held delete",
      async () => (await json<Held>(["deletes", "list", ACCOUNT])).items[0],
    );
    expect(again.runId).not.toBe(held.runId);
    const confirmed = await json<{ status: string; deletes: number }>([
      "deletes",
      "confirm",
      ACCOUNT,
      again.runId,
    ]);
    expect(confirmed).toMatchObject({ status: "confirmed", deletes: held.deletes });
    const decided = await json<Held>(["deletes", "list", ACCOUNT, "--status", "confirmed"]);
    expect(decided.items.map((i) => i.runId)).toEqual([again.runId]);
  });

  it("sync --follow exits 1 on COMPLETED_WITH_ERRORS; failed list pages and replay resends", {
    timeout: 120_000,
  }, async () => {
    await sim.setFaults(API_KEY, { malformedRate: 0.05 });
    const r = await expectCli(
      ["sync", ACCOUNT, "--entity", "people", "--mode", "onboarding", "--follow", "--interval", "300"],
      1,
    );
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("COMPLETED_WITH_ERRORS");
    const malformed = (
      (await sim.tenant<{ malformedIds: Record<string, number[]> }>(API_KEY)).malformedIds.people ?? []
    ).length;
    expect(malformed).toBeGreaterThan(0);
    await sim.setFaults(API_KEY, {});

    const page = await json<{ items: { sourceId: string; errorCode: string }[]; nextCursor: string | null }>([
      "failed",
      "list",
      ACCOUNT,
      "--entity",
      "people",
    ]);
    expect(page.items.length).toBe(malformed);
    const table = await expectCli(["failed", "list", ACCOUNT], 0);
    expect(table.stdout).toMatch(
      /^ID\s+CONNECTION\s+ENTITY\s+SOURCE ID\s+CODE\s+ATTEMPTS\s+LAST SEEN\s+MESSAGE/,
    );
    expect(table.stdout).toContain(page.items[0]?.errorCode ?? "?");
    if (malformed > 1) {
      const first = await expectCli(["failed", "list", ACCOUNT, "--limit", "1"], 0);
      const cursor = /more: --cursor (\S+)/.exec(first.stdout)?.[1];
      expect(cursor).toBeDefined();
      const second = await json<{ items: unknown[] }>([
        "failed",
        "list",
        ACCOUNT,
        "--limit",
        "1",
        "--cursor",
        cursor ?? "",
      ]);
      expect(second.items.length).toBe(1);
    }
    const status = await expectCli(["status", ACCOUNT], 0);
    const row = status.stdout.split("\n").find((l) => l.startsWith("people ")) ?? "";
    expect(row).toContain("COMPLETED_WITH_ERRORS");
    expect(row.trimEnd().endsWith(` ${malformed}`)).toBe(true);

    const replay = await expectCli(["failed", "replay", ACCOUNT, "--entity", "people"], 0);
    expect(replay.stdout).toMatch(new RegExp(`^replay replay:\\S+: ${malformed} records in \\d+ messages`));
    const replayed = await json<{ records: number }>([
      "failed",
      "replay",
      ACCOUNT,
      "--entity",
      "people",
      "--limit",
      "1",
    ]);
    expect(replayed.records).toBe(1);
  });

  it("sync --follow exits 1 when the run ends in ERROR, and says why", { timeout: 120_000 }, async () => {
    await expectCli(
      [
        "connections",
        "create",
        ACCOUNT,
        "--provider",
        "fub",
        "--id",
        "con_cli_bad",
        "--base-url",
        stack.simulatorUrl,
        "--credential",
        "apiKey=not-a-tenant",
        "--credential",
        `systemKey=${SYSTEM_KEY}`,
        "--credential",
        "system=edge-etl-cli",
        "--settings",
        '{"retry":{"maxAttempts":1}}',
      ],
      0,
    );
    expect(
      (
        await expectCli(
          ["connections", "create", ACCOUNT, "--provider", "fub", "--credential", "a=b", "--settings", "[1]"],
          2,
        )
      ).stderr,
    ).toContain("--settings must be a JSON object");
    const r = await expectCli(
      [
        "sync",
        ACCOUNT,
        "--connection",
        "con_cli_bad",
        "--entity",
        "people",
        "--mode",
        "onboarding",
        "--follow",
        "--interval",
        "300",
        "--json",
      ],
      1,
    );
    const result = JSON.parse(r.stdout) as { status: string; account: Status };
    expect(result.status).toBe("ERROR");
    const bad = result.account.connections
      .find((c) => c.id === "con_cli_bad")
      ?.entities.find((e) => e.entity === "people");
    expect(bad?.errorMessage).toBeTruthy();
    // The progress line went to stderr, so stdout stays one JSON document.
    expect(r.stderr).toContain("1/1 entities");
    await expectCli(["connections", "delete", ACCOUNT, "con_cli_bad"], 0);
  });

  it("lists accounts, prints the metrics scrape and its summary, and the alerts", async () => {
    const listed = await expectCli(["accounts", "list"], 0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+CREATED/);
    expect(listed.stdout).toContain(ACCOUNT);
    const page = await json<{ accounts: { id: string }[]; next: string | null }>([
      "accounts",
      "list",
      "--limit",
      "1",
    ]);
    expect(page.accounts).toHaveLength(1);
    expect(page.next).toBe(page.accounts[0]?.id);
    expect((await expectCli(["accounts", "list", "--limit", "0"], 2)).stderr).toContain("--limit");
    // An account key may not list accounts.
    const key = (await json<{ apiKey: string }>(["accounts", "create", "--name", "lister"])).apiKey;
    expect((await expectCli(["accounts", "list"], 4, { EDGE_ETL_TOKEN: key })).stderr).toContain("not_found");

    const scrape = await expectCli(["metrics"], 0);
    expect(scrape.stdout).toContain("# TYPE edge_etl_runs_started_total counter");
    expect(scrape.stdout).toMatch(/^edge_etl_runs_started_total\{[^}]*trigger="manual"[^}]*\} [1-9]/m);
    const summary = await expectCli(["metrics", "--summary"], 0);
    expect(summary.stdout).toMatch(/^METRIC\s+VALUE/);
    expect(summary.stdout).toMatch(/^edge_etl_runs_started_total\s+[1-9]/m);
    expect(summary.stdout).not.toContain("{");

    const alerts = await json<{ firing: unknown[]; recent: unknown[] }>(["alerts"]);
    expect(Array.isArray(alerts.firing) && Array.isArray(alerts.recent)).toBe(true);
    expect((await expectCli(["alerts"], 0)).stdout).toMatch(/no alerts firing|^firing:/m);
    expect((await expectCli(["alerts"], 4, { EDGE_ETL_TOKEN: key })).code).toBe(4);
  });

  it("connections connect prints the provider's consent link for a new connection", async () => {
    const r = await expectCli(["connections", "connect", ACCOUNT, "dotloop"], 0);
    const url = new URL(r.stdout.trim());
    expect(url.origin).toBe("http://auth.example");
    expect(url.searchParams.get("client_id")).toBe("cli-dotloop-client");
    expect(url.searchParams.get("state")).toBeTruthy();
    expect(url.searchParams.get("redirect_uri")).toContain("/oauth/callback/dotloop");
    expect(r.stdout).not.toContain("cli-dotloop-secret");
    expect((await expectCli(["connections", "connect", ACCOUNT, "nosuch"], 4)).stderr).toContain("nosuch");
    await expectCli(["connections", "connect", "acc_missing_cli", "dotloop"], 4);
  });

  it("deletes a connection and the account", async () => {
    expect((await expectCli(["connections", "delete", ACCOUNT, CONNECTION], 0)).stdout).toContain(
      `deleted connection ${CONNECTION}`,
    );
    expect((await expectCli(["connections", "list", ACCOUNT], 0)).stdout.trim()).toBe("no connections");
    expect((await expectCli(["connections", "delete", ACCOUNT, CONNECTION], 4)).stderr).toContain(
      "connection_not_found",
    );
    expect((await expectCli(["accounts", "delete", ACCOUNT], 2)).stderr).toContain("--yes");
    expect((await expectCli(["accounts", "delete", ACCOUNT, "--yes"], 0)).stdout).toMatch(
      new RegExp(`^deleted account ${ACCOUNT} \\([\\d,]+ rows\\)`),
    );
    await expectCli(["accounts", "get", ACCOUNT], 4);
  });
});

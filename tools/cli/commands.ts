import { readFileSync } from "node:fs";
import { type CheckResult, renderCheck } from "./checks";
import { EXIT, printable, usageError } from "./errors";
import { follow, outcome, snapshot, type Target } from "./follow";
import { type Api, seg } from "./http";
import { type HistoryRun, renderRuns, renderStatus, type StatusView } from "./status";
import { num, table } from "./table";

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export type Ctx = {
  api: () => Api;
  args: string[];
  values: Values;
  json: boolean;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
};

type OptionSpec = { type: "string" | "boolean"; multiple?: boolean; help: string; arg?: string };

export type Command = {
  /** "accounts get", "status", ... */
  name: string;
  args: string[];
  summary: string;
  options: Record<string, OptionSpec>;
  /** A read command: --json prints the API's answer as it came. */
  read?: boolean;
  /** Also takes --json (writes print the API's answer). */
  json?: boolean;
  run(ctx: Ctx): Promise<number>;
};

const line = (ctx: Ctx, text: string) => ctx.out.write(`${text}\n`);
/** Prints the API's answer as it came; a read command's whole output with --json. */
function printJson(ctx: Ctx, value: unknown): number {
  line(ctx, JSON.stringify(value, null, 2));
  return EXIT.ok;
}
const str = (v: Values[string]) => (typeof v === "string" ? v : undefined);
const acc = (id: string) => `/admin/accounts/${seg(id)}`;

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

function positiveInt(v: Values[string], name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isInteger(n) || n < 1)
    throw usageError(`--${name} must be a positive integer`);
  return n;
}

type Connection = { id: string; provider: string; status: string; baseUrl: string | null; createdAt: string };
type Account = { id: string; name: string; createdAt: string; connections: Connection[] };

function connectionsTable(cs: Connection[]): string {
  if (cs.length === 0) return "no connections";
  return table(
    ["ID", "PROVIDER", "STATUS", "BASE URL", "CREATED"],
    cs.map((c) => [c.id, c.provider, c.status, c.baseUrl ?? "-", c.createdAt]),
  );
}

function jsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usageError(`${what} is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw usageError(`${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** `--credential key=value` (repeatable) and/or `--credentials-file creds.json`. */
function credentials(values: Values): Record<string, string> {
  const creds: Record<string, string> = {};
  const file = str(values["credentials-file"]);
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      throw usageError(`--credentials-file ${file}: cannot read it as JSON`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw usageError("--credentials-file must hold an object of strings");
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== "string") throw usageError(`--credentials-file: "${k}" must be a string`);
      creds[k] = v;
    }
  }
  for (const pair of (values.credential as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw usageError("--credential takes key=value");
    creds[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(creds).length === 0)
    throw usageError("give the provider's credentials: --credential key=value");
  return creds;
}

const filterOptions: Record<string, OptionSpec> = {
  entity: { type: "string", arg: "name", help: "only this entity" },
  "error-code": { type: "string", arg: "code", help: "only this error code" },
  connection: { type: "string", arg: "id", help: "only this connection" },
  from: { type: "string", arg: "iso", help: "failed at or after this instant" },
  to: { type: "string", arg: "iso", help: "failed before this instant" },
};
const filters = (v: Values) => ({
  entity: str(v.entity),
  errorCode: str(v["error-code"]),
  connectionId: str(v.connection),
  from: str(v.from),
  to: str(v.to),
});

type AlertRow = {
  rule: string;
  subject: string;
  severity: string;
  summary: string;
  firingSince: string;
  resolvedAt: string | null;
  lastSentAt: string | null;
  sends: number;
  deliveryFailures: number;
  lastDeliveryError: string | null;
};

function alertsTable(rows: AlertRow[], resolved: boolean): string {
  return table(
    ["SEVERITY", "RULE", "SUBJECT", resolved ? "RESOLVED" : "FIRING SINCE", "SENT", "DELIVERY", "SUMMARY"],
    rows.map((a) => [
      a.severity,
      a.rule,
      a.subject,
      (resolved ? a.resolvedAt : a.firingSince) ?? "-",
      a.lastSentAt ? `${a.sends}x, last ${a.lastSentAt}` : "never",
      a.deliveryFailures ? `${a.deliveryFailures} failed (${a.lastDeliveryError ?? "?"})` : "ok",
      a.summary.slice(0, 100),
    ]),
  );
}

/** The scrape's samples summed per family (labels dropped): what `metrics --summary` prints. */
export function summariseMetrics(text: string): [string, number][] {
  const sums = new Map<string, number>();
  for (const l of text.split("\n")) {
    if (l === "" || l.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? (\S+)$/.exec(l);
    if (!m?.[1] || m[1].endsWith("_bucket")) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
  }
  return [...sums];
}

export const commands: Command[] = [
  {
    name: "accounts list",
    args: [],
    summary: "every account, by id (admin token only)",
    options: {
      limit: { type: "string", arg: "n", help: "accounts per page, 1-1000 (default 100)" },
      after: { type: "string", arg: "id", help: "the next page, as the previous one said" },
    },
    read: true,
    async run(ctx) {
      const r = await ctx
        .api()
        .call<{ accounts: Omit<Account, "connections">[]; next: string | null }>(
          "GET",
          `/admin/accounts${query({ limit: positiveInt(ctx.values.limit, "limit")?.toString(), after: str(ctx.values.after) })}`,
        );
      if (ctx.json) return printJson(ctx, r);
      line(
        ctx,
        r.accounts.length === 0
          ? "no accounts"
          : table(
              ["ID", "NAME", "CREATED"],
              r.accounts.map((a) => [a.id, a.name, a.createdAt]),
            ),
      );
      if (r.next) line(ctx, `more: --after ${r.next}`);
      return EXIT.ok;
    },
  },
  {
    name: "metrics",
    args: [],
    summary: "the Prometheus scrape (admin token only); --summary sums each metric over its labels",
    options: { summary: { type: "boolean", help: "one line per metric instead of the raw scrape" } },
    async run(ctx) {
      const text = await ctx.api().text("/admin/metrics");
      if (!ctx.values.summary) {
        ctx.out.write(text);
        return EXIT.ok;
      }
      const rows = summariseMetrics(text);
      line(
        ctx,
        rows.length === 0
          ? "no samples"
          : table(
              ["METRIC", "VALUE"],
              rows.map(([k, v]) => [k, num(v)]),
            ),
      );
      return EXIT.ok;
    },
  },
  {
    name: "alerts",
    args: [],
    summary: "alert conditions firing now and recently resolved, with their delivery (admin token only)",
    options: {},
    read: true,
    async run(ctx) {
      const r = await ctx.api().call<{ firing: AlertRow[]; recent: AlertRow[] }>("GET", "/admin/alerts");
      if (ctx.json) return printJson(ctx, r);
      line(ctx, r.firing.length === 0 ? "no alerts firing" : `firing:\n${alertsTable(r.firing, false)}`);
      if (r.recent.length > 0) line(ctx, `recently resolved:\n${alertsTable(r.recent, true)}`);
      return EXIT.ok;
    },
  },
  {
    name: "connections connect",
    args: ["accountId", "provider"],
    summary: "the provider's OAuth consent link; the connection is created when the user accepts",
    options: {
      connection: { type: "string", arg: "id", help: "re-authorise this connection instead of a new one" },
    },
    json: true,
    async run(ctx) {
      const [accountId, provider] = ctx.args as [string, string];
      const target = str(ctx.values.connection) ?? "new";
      const r = await ctx
        .api()
        .call<{ authorizeUrl: string }>(
          "POST",
          `${acc(accountId)}/connections/${seg(target)}/oauth/start${query({ provider })}`,
        );
      if (ctx.json) return printJson(ctx, r);
      line(ctx, r.authorizeUrl);
      return EXIT.ok;
    },
  },
  {
    name: "accounts get",
    args: ["accountId"],
    summary: "show an account and its connections",
    options: {},
    read: true,
    async run(ctx) {
      const a = await ctx.api().call<Account>("GET", acc(ctx.args[0] as string));
      if (ctx.json) return printJson(ctx, a);
      line(ctx, `account ${a.id}  name ${a.name}  created ${a.createdAt}`);
      line(ctx, connectionsTable(a.connections));
      return EXIT.ok;
    },
  },
  {
    name: "accounts create",
    args: [],
    summary: "create an account (admin token only); prints its API key once",
    options: {
      name: { type: "string", arg: "name", help: "display name (required)" },
      id: { type: "string", arg: "id", help: "choose the id (default: generated)" },
    },
    json: true,
    async run(ctx) {
      const name = str(ctx.values.name);
      if (!name) throw usageError("--name is required");
      const r = await ctx
        .api()
        .call<{ account: { id: string; name: string }; apiKey: string }>("POST", "/admin/accounts", {
          name,
          ...(str(ctx.values.id) ? { id: str(ctx.values.id) } : {}),
        });
      if (ctx.json) return printJson(ctx, r);
      line(ctx, `created account ${r.account.id}`);
      line(ctx, `api key (shown once, keep it): ${r.apiKey}`);
      return EXIT.ok;
    },
  },
  {
    name: "accounts delete",
    args: ["accountId"],
    summary: "purge an account and every row of it (irreversible; needs --yes)",
    options: { yes: { type: "boolean", help: "confirm the purge" } },
    json: true,
    async run(ctx) {
      const id = ctx.args[0] as string;
      if (ctx.values.yes !== true) throw usageError(`deleting ${id} removes all of its data; add --yes`);
      const r = await ctx
        .api()
        .call<{ removed: Record<string, number> }>("DELETE", `${acc(id)}${query({ confirm: id })}`);
      if (ctx.json) return printJson(ctx, r);
      const rows = Object.values(r.removed ?? {}).reduce((a, b) => a + b, 0);
      line(ctx, `deleted account ${id} (${num(rows)} rows)`);
      return EXIT.ok;
    },
  },
  {
    name: "connections list",
    args: ["accountId"],
    summary: "list an account's provider connections",
    options: {},
    read: true,
    async run(ctx) {
      const a = await ctx.api().call<Account>("GET", acc(ctx.args[0] as string));
      if (ctx.json) return printJson(ctx, a.connections);
      line(ctx, connectionsTable(a.connections));
      return EXIT.ok;
    },
  },
  {
    name: "connections create",
    args: ["accountId"],
    summary: "connect a provider; credentials are stored encrypted and never shown",
    options: {
      provider: { type: "string", arg: "name", help: "provider, e.g. fub (required)" },
      credential: { type: "string", multiple: true, arg: "key=value", help: "a credential (repeatable)" },
      "credentials-file": { type: "string", arg: "file", help: "credentials as a JSON object" },
      id: { type: "string", arg: "id", help: "choose the id (admin token only)" },
      "base-url": { type: "string", arg: "url", help: "provider API base, e.g. the simulator (admin only)" },
      settings: {
        type: "string",
        arg: "json",
        help: 'connection settings, e.g. \'{"retry":{"maxAttempts":3}}\'',
      },
    },
    json: true,
    async run(ctx) {
      const provider = str(ctx.values.provider);
      if (!provider) throw usageError("--provider is required");
      const body = {
        provider,
        credentials: credentials(ctx.values),
        ...(str(ctx.values.id) ? { id: str(ctx.values.id) } : {}),
        ...(str(ctx.values["base-url"]) ? { baseUrl: str(ctx.values["base-url"]) } : {}),
        ...(str(ctx.values.settings)
          ? { settings: jsonObject(str(ctx.values.settings) as string, "--settings") }
          : {}),
      };
      const c = await ctx.api().call<Connection>("POST", `${acc(ctx.args[0] as string)}/connections`, body);
      if (ctx.json) return printJson(ctx, c);
      line(ctx, `created connection ${c.id} (${c.provider})`);
      return EXIT.ok;
    },
  },
  {
    name: "connections delete",
    args: ["accountId", "connectionId"],
    summary: "remove a connection",
    options: {},
    async run(ctx) {
      const [accountId, connectionId] = ctx.args as [string, string];
      await ctx.api().call("DELETE", `${acc(accountId)}/connections/${seg(connectionId)}`);
      line(ctx, `deleted connection ${connectionId}`);
      return EXIT.ok;
    },
  },
  {
    name: "status",
    args: ["accountId"],
    summary: "every connection and entity: status, last/next run, progress, counts, failed",
    options: {},
    read: true,
    async run(ctx) {
      const s = await ctx.api().call<StatusView>("GET", `${acc(ctx.args[0] as string)}/status`);
      if (ctx.json) return printJson(ctx, s);
      line(ctx, renderStatus(s));
      return EXIT.ok;
    },
  },
  {
    name: "runs",
    args: ["accountId"],
    summary: "run history, newest first: trigger, requests, 429s and counts of each entity's run",
    options: {
      connection: { type: "string", arg: "id", help: "only this connection" },
      entity: { type: "string", arg: "name", help: "only this entity" },
      status: { type: "string", arg: "status", help: "only runs in this status (COMPLETED, ERROR, ...)" },
      limit: { type: "string", arg: "n", help: "runs per page (default 50)" },
      cursor: { type: "string", arg: "cursor", help: "the next page, as the previous one said" },
    },
    read: true,
    async run(ctx) {
      const accountId = ctx.args[0] as string;
      const v = ctx.values;
      const path = `${acc(accountId)}/runs${query({
        connectionId: str(v.connection),
        entity: str(v.entity),
        status: str(v.status),
        limit: positiveInt(v.limit, "limit")?.toString(),
        cursor: str(v.cursor),
      })}`;
      const page = await ctx.api().call<{ items: HistoryRun[]; nextCursor: string | null }>("GET", path);
      if (ctx.json) return printJson(ctx, page);
      line(ctx, renderRuns(accountId, page.items));
      if (page.nextCursor) line(ctx, `more: --cursor ${page.nextCursor}`);
      return EXIT.ok;
    },
  },
  {
    name: "runs logs",
    args: ["accountId", "runId"],
    summary: "a run's log lines (each entity keeps its first 200)",
    options: {},
    read: true,
    async run(ctx) {
      const [accountId, runId] = ctx.args as [string, string];
      const body = await ctx
        .api()
        .call<{ lines: { at: string; level: string; entity: string; message: string }[] }>(
          "GET",
          `${acc(accountId)}/runs/${seg(runId)}/logs`,
        );
      if (ctx.json) return printJson(ctx, body);
      for (const l of body.lines)
        line(ctx, `${l.at}  ${l.level.toUpperCase().padEnd(5)}  ${l.entity}  ${l.message}`);
      return EXIT.ok;
    },
  },
  {
    name: "sync",
    args: ["accountId"],
    summary: "start runs; --follow waits for them with a progress line (exit 1 unless all COMPLETED)",
    options: {
      mode: {
        type: "string",
        arg: "delta|onboarding",
        help: "delta (default) or onboarding (complete scan)",
      },
      entity: { type: "string", arg: "name", help: "only this entity" },
      connection: { type: "string", arg: "id", help: "only this connection" },
      follow: { type: "boolean", help: "poll the status until the runs end" },
      interval: { type: "string", arg: "ms", help: "poll interval with --follow (default 1000)" },
      timeout: { type: "string", arg: "s", help: "give up following after this long (default 3600)" },
    },
    json: true,
    async run(ctx) {
      const accountId = ctx.args[0] as string;
      const mode = str(ctx.values.mode) ?? "delta";
      if (mode !== "delta" && mode !== "onboarding") throw usageError("--mode is delta or onboarding");
      const interval = positiveInt(ctx.values.interval, "interval") ?? 1000;
      const timeoutS = positiveInt(ctx.values.timeout, "timeout") ?? 3600;
      const api = ctx.api();
      const before = ctx.values.follow
        ? snapshot(await api.call<StatusView>("GET", `${acc(accountId)}/status`))
        : new Map();
      const r = await api.call<{
        runs: { connectionId: string; started: string[]; alreadyRunning: string[]; paused: boolean }[];
      }>("POST", `${acc(accountId)}/sync`, {
        mode,
        ...(str(ctx.values.entity) ? { entity: str(ctx.values.entity) } : {}),
        ...(str(ctx.values.connection) ? { connectionId: str(ctx.values.connection) } : {}),
      });
      const targets: Target[] = r.runs.flatMap((run) =>
        [...run.started, ...run.alreadyRunning].map((entity) => ({ connectionId: run.connectionId, entity })),
      );
      if (ctx.json && !ctx.values.follow) return printJson(ctx, r);
      if (!ctx.json) {
        for (const run of r.runs) {
          const parts = [
            run.started.length ? `started ${run.started.join(", ")}` : "",
            run.alreadyRunning.length ? `already running ${run.alreadyRunning.join(", ")}` : "",
            run.paused ? "account is PAUSED: runs wait for resume" : "",
          ].filter(Boolean);
          line(ctx, `${run.connectionId}: ${parts.join("; ") || "nothing to run"}`);
        }
      }
      if (!ctx.values.follow) return EXIT.ok;
      if (targets.length === 0) {
        ctx.err.write("nothing to follow: no run was started\n");
        return EXIT.runFailed;
      }
      if (r.runs.some((run) => run.paused)) {
        ctx.err.write("the account is paused; not following (resume it first)\n");
        return EXIT.runFailed;
      }
      const final = await follow(api, accountId, targets, before, {
        intervalMs: interval,
        timeoutMs: timeoutS * 1000,
        settleMs: 60_000,
        out: ctx.json ? ctx.err : ctx.out,
      });
      const verdict = outcome(final, targets);
      if (ctx.json) {
        printJson(ctx, { status: verdict.status, runs: r.runs, account: final });
      } else {
        for (const l of verdict.lines) line(ctx, l);
        line(ctx, verdict.status);
      }
      return verdict.exitCode;
    },
  },
  {
    name: "failed list",
    args: ["accountId"],
    summary: "records the transform could not take, with their reason",
    options: {
      ...filterOptions,
      status: { type: "string", arg: "open|resolved|all", help: "default open" },
      limit: { type: "string", arg: "n", help: "page size, 1-500 (default 50)" },
      cursor: { type: "string", arg: "cursor", help: "the next page's cursor, as printed" },
    },
    read: true,
    async run(ctx) {
      const q = query({
        ...filters(ctx.values),
        status: str(ctx.values.status),
        limit: str(ctx.values.limit),
        cursor: str(ctx.values.cursor),
      });
      const page = await ctx.api().call<{
        items: {
          id: number;
          connectionId: string;
          entity: string;
          sourceId: string | null;
          errorCode: string;
          errorMessage: string;
          attempts: number;
          lastSeenAt: string;
          resolvedAt: string | null;
        }[];
        nextCursor: string | null;
      }>("GET", `${acc(ctx.args[0] as string)}/failed${q}`);
      if (ctx.json) return printJson(ctx, page);
      if (page.items.length === 0) line(ctx, "no failed records");
      else {
        line(
          ctx,
          table(
            ["ID", "CONNECTION", "ENTITY", "SOURCE ID", "CODE", "ATTEMPTS", "LAST SEEN", "MESSAGE"],
            page.items.map((f) => [
              String(f.id),
              f.connectionId,
              f.entity,
              f.sourceId ?? "-",
              f.errorCode,
              String(f.attempts),
              f.lastSeenAt,
              (f.errorMessage ?? "").slice(0, 80),
            ]),
          ),
        );
      }
      if (page.nextCursor) line(ctx, `more: --cursor ${page.nextCursor}`);
      return EXIT.ok;
    },
  },
  {
    name: "resync",
    args: ["accountId", "connectionId", "entity", "id"],
    summary: "fetch one record by its provider id, now, through the breaker and rate budget, and stage it",
    options: {},
    json: true,
    async run(ctx) {
      const [accountId, connectionId, entity, id] = ctx.args as [string, string, string, string];
      const r = await ctx
        .api()
        .call<{ entity: string; id: string; runId?: string }>(
          "POST",
          `${acc(accountId)}/connections/${seg(connectionId)}/records/resync`,
          { entity, id },
        );
      if (ctx.json) return printJson(ctx, r);
      line(
        ctx,
        `resync of ${r.entity} ${r.id} staged${r.runId ? ` as ${r.runId}` : ""}; its transform follows`,
      );
      return EXIT.ok;
    },
  },
  {
    name: "checks",
    args: ["accountId", "connectionId"],
    summary: "the connection's consistency checks and operator actions",
    options: {},
    read: true,
    async run(ctx) {
      const [accountId, connectionId] = ctx.args as [string, string];
      const base = `${acc(accountId)}/connections/${seg(connectionId)}`;
      const api = ctx.api();
      const checks = await api.call<{ name: string; description: string }[]>("GET", `${base}/checks`);
      const actions = await api.call<{ name: string; description: string; takesInput: boolean }[]>(
        "GET",
        `${base}/actions`,
      );
      if (ctx.json) return printJson(ctx, { checks, actions });
      line(
        ctx,
        checks.length === 0
          ? "no checks"
          : table(
              ["CHECK", "DESCRIPTION"],
              checks.map((c) => [printable(c.name, 60), printable(c.description, 120)]),
            ),
      );
      line(
        ctx,
        actions.length === 0
          ? "no actions"
          : table(
              ["ACTION", "INPUT", "DESCRIPTION"],
              actions.map((a) => [
                printable(a.name, 60),
                a.takesInput ? "--input" : "-",
                printable(a.description, 120),
              ]),
            ),
      );
      return EXIT.ok;
    },
  },
  {
    name: "check",
    args: ["accountId", "connectionId", "check"],
    summary: "run a consistency check: OK, or each finding group's count and sample (exit 1 unless OK)",
    options: {},
    read: true,
    async run(ctx) {
      const [accountId, connectionId, name] = ctx.args as [string, string, string];
      const r = await ctx
        .api()
        .call<CheckResult>("GET", `${acc(accountId)}/connections/${seg(connectionId)}/checks/${seg(name)}`);
      if (ctx.json) printJson(ctx, r);
      else line(ctx, renderCheck(r));
      // Scripts alert on the exit code: findings are a failed check, not a failure of the CLI.
      return r.ok ? EXIT.ok : EXIT.runFailed;
    },
  },
  {
    name: "action",
    args: ["accountId", "connectionId", "action"],
    summary: "run an operator action on the connection's data (audited); prints its result",
    options: {
      input: { type: "string", arg: "json", help: "the action's input as a JSON object (default {})" },
    },
    json: true,
    async run(ctx) {
      const [accountId, connectionId, name] = ctx.args as [string, string, string];
      const input = str(ctx.values.input);
      const body = input === undefined ? {} : jsonObject(input, "--input");
      const r = await ctx
        .api()
        .call<Record<string, unknown>>(
          "POST",
          `${acc(accountId)}/connections/${seg(connectionId)}/actions/${seg(name)}`,
          body,
        );
      return printJson(ctx, r);
    },
  },
  {
    name: "failed replay",
    args: ["accountId"],
    summary: "send open failed records through staging again (idempotent)",
    options: {
      ...filterOptions,
      limit: { type: "string", arg: "n", help: "at most this many, 1-1000 (default 500)" },
      force: { type: "boolean", help: "also those that reached their attempt bound" },
    },
    json: true,
    async run(ctx) {
      const f = filters(ctx.values);
      const body = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Record<
        string,
        unknown
      >;
      const limit = positiveInt(ctx.values.limit, "limit");
      if (limit !== undefined) body.limit = limit;
      if (ctx.values.force) body.force = true;
      const r = await ctx.api().call<{
        runId: string;
        records: number;
        messages: number;
        webhookEvents: number;
        exhausted: number;
      }>("POST", `${acc(ctx.args[0] as string)}/failed/replay`, body);
      if (ctx.json) return printJson(ctx, r);
      line(
        ctx,
        `replay ${r.runId}: ${num(r.records)} records in ${num(r.messages)} messages, ` +
          `${num(r.webhookEvents)} webhook events; ${num(r.exhausted)} left out (attempts exhausted, use --force)`,
      );
      return EXIT.ok;
    },
  },
  {
    name: "deletes list",
    args: ["accountId"],
    summary: "deletes held because a run would remove more than the allowed share",
    options: { status: { type: "string", arg: "pending|confirmed|rejected", help: "default pending" } },
    read: true,
    async run(ctx) {
      const r = await ctx.api().call<{
        items: {
          runId: string;
          connectionId: string;
          entity: string;
          mode: string;
          deletes: number;
          liveRows: number;
          status: string;
          createdAt: string;
        }[];
      }>("GET", `${acc(ctx.args[0] as string)}/deletes${query({ status: str(ctx.values.status) })}`);
      if (ctx.json) return printJson(ctx, r);
      if (r.items.length === 0) {
        line(ctx, "no held deletes");
        return EXIT.ok;
      }
      line(
        ctx,
        table(
          ["RUN", "CONNECTION", "ENTITY", "MODE", "DELETES", "LIVE ROWS", "STATUS", "HELD SINCE"],
          r.items.map((d) => [
            d.runId,
            d.connectionId,
            d.entity,
            d.mode,
            num(d.deletes),
            num(d.liveRows),
            d.status,
            d.createdAt,
          ]),
        ),
      );
      return EXIT.ok;
    },
  },
  ...(["confirm", "reject"] as const).map(
    (decision): Command => ({
      name: `deletes ${decision}`,
      args: ["accountId", "runId"],
      summary: decision === "confirm" ? "apply a run's held deletes" : "discard a run's held deletes",
      options: {},
      json: true,
      async run(ctx) {
        const [accountId, runId] = ctx.args as [string, string];
        const r = await ctx
          .api()
          .call<{ runId: string; status: string; entities: string[]; deletes: number }>(
            "POST",
            `${acc(accountId)}/deletes/${seg(runId)}/${decision}`,
          );
        if (ctx.json) return printJson(ctx, r);
        const what = `run ${r.runId} (${r.entities.join(", ")})`;
        line(
          ctx,
          r.status === "confirmed"
            ? `confirmed ${what}: ${num(r.deletes)} deletes applied`
            : `rejected ${what}: its held deletes are discarded, nothing deleted`,
        );
        return EXIT.ok;
      },
    }),
  ),
];

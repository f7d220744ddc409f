import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { AdminClient, waitFor } from "./lib/admin-client";
import { SimulatorClient } from "./lib/simulator-client";
import { startStack } from "./lib/stack";

// `npm run dev`: the whole platform locally, one command. Data persists between runs (Postgres cluster and
// wrangler state); Ctrl-C stops every child process.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEV_VARS = path.join(ROOT, ".dev.vars");
const WORKER_PORT = Number(process.env.PORT ?? 8787);
const SIM_PORT = Number(process.env.SIM_PORT ?? 8788);
const PROXY_PORT = Number(process.env.DB_WS_PROXY_PORT ?? 54330);
const DEMO = {
  accountId: "demo",
  connectionId: "demo-fub",
  apiKey: "demo-fub-api-key",
  systemKey: "demo-system-key",
};
const DEMO_PEOPLE = Number(process.env.DEMO_PEOPLE ?? 5_000);

const log = (line: string) => console.log(`[dev] ${line}`);

function readDevVars(): Record<string, string> {
  if (!existsSync(DEV_VARS)) {
    // Fresh secrets per checkout: nothing shared, nothing committed.
    const vars = {
      ADMIN_TOKEN: `dev_${randomBytes(18).toString("base64url")}`,
      CREDENTIALS_KEY: `dev1:${randomBytes(32).toString("base64")}`,
      OAUTH_STATE_SECRET: randomBytes(32).toString("base64url"),
    };
    writeFileSync(
      DEV_VARS,
      `${Object.entries(vars)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n")}\n`,
      { mode: 0o600 },
    );
    log("wrote .dev.vars with a fresh ADMIN_TOKEN and CREDENTIALS_KEY");
  }
  if (!/^\s*OAUTH_STATE_SECRET\s*=/m.test(readFileSync(DEV_VARS, "utf8"))) {
    // Older .dev.vars files predate the OAuth connect flow: give them its state key too.
    appendFileSync(DEV_VARS, `OAUTH_STATE_SECRET=${randomBytes(32).toString("base64url")}\n`);
    log("added OAUTH_STATE_SECRET to .dev.vars");
  }
  const vars: Record<string, string> = {};
  for (const line of readFileSync(DEV_VARS, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (m?.[1] && m[2] !== undefined) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

async function countCorePeople(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query("select count(*)::int as n from fub_people where account_id = $1", [
      DEMO.accountId,
    ]);
    return r.rows[0].n;
  } finally {
    await client.end();
  }
}

async function main() {
  const vars = readDevVars();
  if (!vars.ADMIN_TOKEN || !vars.CREDENTIALS_KEY)
    throw new Error(".dev.vars needs ADMIN_TOKEN and CREDENTIALS_KEY");
  log("starting Postgres, migrations, WebSocket proxy, provider simulator and wrangler dev ...");
  const stack = await startStack({
    mode: "dev",
    workerPort: WORKER_PORT,
    simulatorPort: SIM_PORT,
    proxyPort: PROXY_PORT,
    adminToken: vars.ADMIN_TOKEN,
    credentialsKey: vars.CREDENTIALS_KEY,
    // OAuth connect flow: its state key, and any OAUTH_<PROVIDER>_* client and URLs set in .dev.vars.
    extraVars: Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith("OAUTH_"))),
    persistTo: path.join(ROOT, ".wrangler", "state"),
    // Chrome DevTools needs the inspector to itself; without --inspect the stack drains it (memory stays flat).
    inspector: process.argv.includes("--inspect") ? "devtools" : "drain",
    log: (line) => {
      // wrangler dev tries to fetch Request.cf metadata from the internet; offline that is harmless noise.
      if (!/Request\.cf|workers\.cloudflare\.com|GetAddrInfoReqWrap/.test(line))
        console.log(`[stack] ${line}`);
    },
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ...`);
    await stack.stop();
    log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  const sim = new SimulatorClient(stack.simulatorUrl);
  await sim.putTenant(DEMO.apiKey, { seed: 1, systemKey: DEMO.systemKey, counts: { people: DEMO_PEOPLE } });
  const admin = new AdminClient(stack.workerUrl, stack.adminToken);
  const created = await admin.request("POST", "/admin/accounts", {
    id: DEMO.accountId,
    name: "Demo brokerage",
  });
  const fresh = created.status === 201;
  if (fresh) {
    await admin.createConnection(DEMO.accountId, {
      id: DEMO.connectionId,
      provider: "fub",
      credentials: { apiKey: DEMO.apiKey, systemKey: DEMO.systemKey, system: "edge-etl-dev" },
      baseUrl: stack.simulatorUrl,
    });
  }
  await admin.sync(DEMO.accountId, { connectionId: DEMO.connectionId, mode: fresh ? "onboarding" : "delta" });

  console.log(`
  Worker      ${stack.workerUrl}        (GET /health, /admin/*, POST /webhooks/:provider/:connectionId)
  Cron        ${stack.workerUrl}/__scheduled?cron=*+*+*+*+*
  Simulator   ${stack.simulatorUrl}        (Follow Up Boss API under /v1, controls under /_sim)
  Postgres    ${stack.databaseUrl.replace(/\/\/[^@]*@/, "//postgres:***@")}  (Worker: etl_app for requests, etl_system for system work)
  Admin token in .dev.vars (ADMIN_TOKEN)
  DevTools    ${process.argv.includes("--inspect") ? `127.0.0.1:${stack.worker.inspectorPort()} (chrome://inspect)` : "npm run dev -- --inspect"}

  Demo account "${DEMO.accountId}" with connection "${DEMO.connectionId}" → ${fresh ? "onboarding" : "delta sync"} started.
  curl -H "Authorization: Bearer $ADMIN_TOKEN" ${stack.workerUrl}/admin/accounts/${DEMO.accountId}/status
  Ctrl-C stops everything; data is kept for the next run.
`);

  const started = Date.now();
  type Status = { connections: { entities: { entity: string; status: string; recordsSynced: number }[] }[] };
  await waitFor(
    "the demo sync",
    async () => {
      const status = await admin.status<Status>(DEMO.accountId);
      const people = status.connections.flatMap((c) => c.entities).find((s) => s.entity === "people");
      const core = await countCorePeople(stack.databaseUrl);
      if (people) log(`people: ${people.status}, ${people.recordsSynced} fetched, ${core} in fub_people`);
      return people && people.status !== "IN_PROGRESS";
    },
    { timeoutMs: 600_000, intervalMs: 2_000 },
  ).then(
    () =>
      log(`demo sync settled after ${((Date.now() - started) / 1000).toFixed(1)} s; the stack keeps running`),
    (error: Error) => log(error.message),
  );
}

main().catch((error) => {
  console.error(`[dev] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

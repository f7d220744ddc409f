import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, waitFor } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";
import { type RunningSimulator, startSimulator } from "../../tools/simulator-opentoclose/main";
import { query, waitDrained } from "./dotloop-support";
import { CLEAN, compareOtc, OTC_ENTITIES, rowVersions, written } from "./opentoclose-support";

// Open To Close end to end over real HTTP: wrangler dev and the Open To Close simulator at its published limit
// of one request per second. Two accounts with different field sets (134 and 497 fields) onboard; a complete
// scan of unchanged data writes no core row (measured by xmin and the runs' counters); field edits, new and
// removed properties, child changes and a changed field set are caught by the next complete scan. After each
// phase Postgres equals the simulator's ground truth. The API token never lands anywhere we store or log.

const ACCOUNTS = [
  { id: "acc_e2e_otc_small", sim: "small", token: "otc-e2e-token-small-7f3a9c", fields: 134, properties: 12 },
  { id: "acc_e2e_otc_large", sim: "large", token: "otc-e2e-token-large-51be0d", fields: 497, properties: 8 },
] as const;

let otc: RunningSimulator;
let stack: Stack;
let admin: AdminClient;
let persistTo: string;
const workerLog: string[] = [];

type EntityState = { entity: string; status: string; runId: string | null };

async function entityStates(accountId: string): Promise<EntityState[]> {
  const s = await admin.status<{ connections: { entities: EntityState[] }[] }>(accountId);
  return s.connections.flatMap((c) => c.entities);
}

/**
 * Starts a complete scan (delta: every run of a content-versioned entity is one) of both accounts and waits until
 * each entity's new run has finished and everything it staged is transformed. Returns the new runs' ids.
 */
async function scan(mode: "onboarding" | "delta", what: string): Promise<string[]> {
  const before = new Set<string>();
  for (const a of ACCOUNTS) for (const e of await entityStates(a.id)) if (e.runId) before.add(e.runId);
  for (const a of ACCOUNTS) await admin.sync(a.id, { mode });
  const runs: string[] = [];
  for (const a of ACCOUNTS) {
    const done = await waitFor(
      `${what}: new runs of ${a.id} finished`,
      async () => {
        const states = await entityStates(a.id);
        const failed = states.find((e) => e.status === "ERROR");
        if (failed) throw new Error(`${what}: ${JSON.stringify(failed)}`);
        const fresh = OTC_ENTITIES.map((e) => states.find((x) => x.entity === e));
        return fresh.every((e) => e?.runId && !before.has(e.runId) && e.status === "COMPLETED")
          ? fresh
          : null;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    for (const e of done) if (e?.runId) runs.push(e.runId);
    await waitDrained(stack.databaseUrl, a.id);
  }
  return runs;
}

async function expectExact(what: string) {
  for (const a of ACCOUNTS) {
    const truth = otc.sim.truth(a.sim);
    expect(await compareOtc(stack.databaseUrl, a.id, truth), `${what}: ${a.id}`).toEqual(CLEAN);
  }
}

/** written / unchanged counters the transforms added to these runs, per account. */
async function runCounters(runIds: string[]) {
  return query<{ account_id: string; written: number; unchanged: number; runs: number }>(
    stack.databaseUrl,
    `select account_id, sum(written)::int as written, sum(unchanged)::int as unchanged, count(*)::int as runs
     from sync_runs where run_id = any($1::text[]) group by account_id order by account_id`,
    [runIds],
  );
}

beforeAll(async () => {
  persistTo = mkdtempSync(path.join(os.tmpdir(), "edge-etl-otc-e2e-"));
  otc = await startSimulator(0, {
    accounts: Object.fromEntries(
      ACCOUNTS.map((a) => [
        a.sim,
        { token: a.token, fields: a.fields, properties: a.properties, seed: a.sim, ratePerSec: 1 },
      ]),
    ),
  });
  stack = await startStack({
    mode: "test",
    workerPort: await freePort(),
    adminToken: "e2e-otc-admin",
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    log: (line: string) => {
      workerLog.push(line);
      if (process.env.OTC_E2E_LOG) appendFileSync(process.env.OTC_E2E_LOG, `${line}\n`);
    },
  });
  admin = new AdminClient(stack.workerUrl, stack.adminToken);
  for (const a of ACCOUNTS) {
    await admin.createAccount(a.id, `E2E ${a.sim}`);
    await admin.createConnection(a.id, {
      provider: "opentoclose",
      credentials: { apiToken: a.token },
      baseUrl: `${otc.url}/v1`,
    });
  }
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await otc?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("Open To Close end to end: two field sets, complete scans, changes by content", () => {
  it("onboards two accounts with different field sets (134 and 497) exactly, within one request per second", {
    timeout: 420_000,
  }, async () => {
    const started = Date.now();
    // Progress and ETA of the scan as the status shows them while it runs.
    const seen: { entity: string; pages: number; etaMs: number | null; parents: unknown }[] = [];
    const poll = setInterval(async () => {
      const s = await admin
        .status<{
          connections: {
            entities: { entity: string; status: string; progress: Record<string, unknown> }[];
          }[];
        }>(ACCOUNTS[0].id)
        .catch(() => null);
      for (const e of s?.connections.flatMap((c) => c.entities) ?? [])
        if (e.status === "IN_PROGRESS" && e.progress)
          seen.push({
            entity: e.entity,
            pages: Number(e.progress.pages),
            etaMs: (e.progress.etaMs as number | null) ?? null,
            parents: e.progress.parents,
          });
    }, 1000);
    try {
      await scan("onboarding", "onboarding");
    } finally {
      clearInterval(poll);
    }
    await expectExact("after onboarding");
    const [small, large] = await Promise.all(
      ACCOUNTS.map((a) =>
        query<{ n: number; keys: number }>(
          stack.databaseUrl,
          `select count(*)::int as n, max((select count(*) from jsonb_object_keys(fields)))::int as keys
           from opentoclose_properties where account_id = $1`,
          [a.id],
        ),
      ),
    );
    expect(small?.[0]).toEqual({ n: 12, keys: 134 });
    expect(large?.[0]).toEqual({ n: 8, keys: 497 });

    // The limit held: no second request in any one-second window, and no 429 (the budget paces at 1/s).
    for (const a of ACCOUNTS) {
      const s = otc.sim.stats.get(a.sim);
      const peak = Math.max(...Object.values(s?.windows ?? {}));
      console.log(
        `${a.id}: ${s?.served} requests in ${Math.round((Date.now() - started) / 1000)} s, peak ${peak}/s, ${s?.rateLimited} 429s`,
      );
      expect(peak).toBe(1);
      expect(s?.rateLimited).toBe(0);
    }
    const withEta = seen.filter((x) => x.etaMs !== null);
    console.log(
      `status while scanning: ${seen.length} in-progress observations, ${withEta.length} with an ETA; last: ${JSON.stringify(seen.slice(-3))}`,
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(withEta.length).toBeGreaterThan(0);
  });

  it("an unchanged complete scan writes no core rows (measured)", { timeout: 420_000 }, async () => {
    const before = new Map(
      await Promise.all(
        ACCOUNTS.map(async (a) => [a.id, await rowVersions(stack.databaseUrl, a.id)] as const),
      ),
    );
    const runIds = await scan("delta", "unchanged scan");
    await expectExact("after the unchanged scan");
    const counters = await runCounters(runIds);
    for (const a of ACCOUNTS) {
      const after = await rowVersions(stack.databaseUrl, a.id);
      const rewritten = written(before.get(a.id) ?? new Map(), after);
      const c = counters.find((x) => x.account_id === a.id);
      console.log(
        `unchanged scan ${a.id}: ${after.size} core and unified rows, ${rewritten.length} written (xmin); runs ${c?.runs}, written ${c?.written}, unchanged ${c?.unchanged}`,
      );
      expect(rewritten).toEqual([]);
      expect(c?.runs).toBe(OTC_ENTITIES.length);
      expect(c?.written).toBe(0);
      expect(c?.unchanged).toBeGreaterThan(0);
    }
  });

  it("field edits, new and removed properties, child changes and a changed field set are caught by the next complete scan", {
    timeout: 420_000,
  }, async () => {
    const small = otc.sim.mutate("small", {
      edits: 3,
      creates: 2,
      deletes: 1,
      childEdits: 2,
      contacts: { updates: 2, deletes: 1 },
    });
    const large = otc.sim.mutate("large", { edits: 1, fieldSet: { add: 2, remove: 3 } });
    expect(small.deleted).toHaveLength(1);
    expect(large.fieldsRemoved).toHaveLength(3);
    const before = await rowVersions(stack.databaseUrl, ACCOUNTS[0].id);
    await scan("delta", "scan after mutations");
    await expectExact("after mutations");
    // The removed property and what it fed are soft-deleted (reversible), not gone.
    const [gone] = await query<{ core: string | null; tx: string | null }>(
      stack.databaseUrl,
      `select (select deleted_at::text from opentoclose_properties where account_id = $1 and source_id = $2) as core,
              (select deleted_at::text from transactions where account_id = $1 and provider = 'opentoclose'
                 and source_id = $2::text) as tx`,
      [ACCOUNTS[0].id, small.deleted[0]],
    );
    expect(gone?.core).not.toBeNull();
    expect(gone?.tx).not.toBeNull();
    // Only what changed was written in the small account: far fewer rows than it holds.
    const changed = written(before, await rowVersions(stack.databaseUrl, ACCOUNTS[0].id));
    console.log(`scan after mutations (small): ${changed.length} of ${before.size} rows written`);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(before.size / 2);
    // Every property of the large account changed its field set: 497 - 3 + 2 keys each.
    const [keys] = await query<{ min: number; max: number }>(
      stack.databaseUrl,
      `select min(n)::int as min, max(n)::int as max from (select (select count(*) from jsonb_object_keys(fields)) as n
       from opentoclose_properties where account_id = $1 and deleted_at is null) k`,
      [ACCOUNTS[1].id],
    );
    expect(keys).toEqual({ min: 496, max: 496 });
  });

  it("another client spending the same token's budget: 429s are waited out and the scan stays exact", {
    timeout: 420_000,
  }, async () => {
    const [a] = ACCOUNTS;
    otc.sim.mutate(a.sim, { creates: 1, edits: 1 });
    // A second client of the same token (a Zapier zap, a script) calls every two seconds throughout the scan.
    let stop = false;
    let neighbour = 0;
    const noisy = (async () => {
      while (!stop) {
        await fetch(`${otc.url}/v1/teams?api_token=${a.token}`).then((r) => r.body?.cancel());
        neighbour++;
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    const before = otc.sim.stats.get(a.sim)?.rateLimited ?? 0;
    try {
      await scan("delta", "scan beside a noisy neighbour");
    } finally {
      stop = true;
      await noisy;
    }
    await expectExact("after the scan beside a noisy neighbour");
    const states = await admin.status<{ connections: { entities: { runRateLimited?: number }[] }[] }>(a.id);
    const ours = states.connections
      .flatMap((c) => c.entities)
      .reduce((n, e) => n + (e.runRateLimited ?? 0), 0);
    const refused = (otc.sim.stats.get(a.sim)?.rateLimited ?? 0) - before;
    console.log(
      `noisy neighbour: ${neighbour} calls of its own; 429s ${refused} in all, ${ours} of them to our runs`,
    );
    expect(ours).toBeGreaterThan(0);
  });

  it("the API token is in no table, no run log line, no failed record and no worker log line", async () => {
    const tables = await query<{ table_name: string }>(
      stack.databaseUrl,
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    expect(tables.length).toBeGreaterThan(20);
    const hits: string[] = [];
    for (const { table_name } of tables) {
      for (const a of ACCOUNTS) {
        const [r] = await query<{ n: number }>(
          stack.databaseUrl,
          `select count(*)::int as n from "${table_name}" t where t::text like '%' || $1 || '%'`,
          [a.token],
        );
        if ((r?.n ?? 0) > 0) hits.push(`${table_name}: ${r?.n}`);
      }
    }
    expect(hits).toEqual([]);
    expect(workerLog.length).toBeGreaterThan(0);
    expect(workerLog.filter((l) => ACCOUNTS.some((a) => l.includes(a.token)))).toEqual([]);
    // Nor in the Durable Objects' and queues' local storage (sync state with its next-page URL, run logs,
    // the webhook inbox), read as raw bytes.
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) files.push(p);
      }
    };
    walk(persistTo);
    expect(files.length).toBeGreaterThan(0);
    const inFiles = files.filter((f) => {
      // SQLite removes a database's -shm/-wal files when its last connection closes: one listed a moment ago
      // may be gone, and then it holds nothing.
      let bytes: Buffer;
      try {
        bytes = readFileSync(f);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw error;
      }
      return ACCOUNTS.some((a) => bytes.includes(a.token) || bytes.includes(encodeURIComponent(a.token)));
    });
    expect(inFiles).toEqual([]);
    console.log(
      `token search: ${tables.length} tables, ${workerLog.length} worker log lines, ${files.length} storage files: 0 hits`,
    );
  });
});
